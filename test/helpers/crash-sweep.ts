/**
 * One round of the crash sweep (issue 9 item 10): several callers leave messages at once with the real
 * `vmpilot serve`, their beeps staggered so that one SIGKILL finds each at a chosen time after its beep; the
 * server is started again (its repair runs) and the store is read to see which messages were kept, and how
 * long each is.
 *
 * Each caller (sipp-scenarios/uac-crash-sweep.xml) talks from the answer on, so everything after its beep was
 * said. A recording's start is when its WAV appears in the store's tmp folder (polled every 10 ms, so the age
 * reported is at most that much short of the truth); its caller is read from the sidecar beside it.
 * Used by test/integration/crash-sweep.test.ts (one round) and bench/crash-sweep.ts (as many as asked).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeLayout } from '../../src/store/layout.js';
import { readRecordingSidecar } from '../../src/store/recording-sidecar.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { freeUdpPort, logLine, serve, type Serving } from './cli-process.js';
import { runSipp, type SippResult } from './sipp.js';
import { reserveRtpPorts } from './rtp-range.js';

/** One caller of the round. */
export interface SweepDeposit {
  /** The caller's number (From). */
  from: string;
  /** Time from its recording's start (WAV created, after the beep) to the SIGKILL, ms. */
  ageMs: number;
  /** The kept message's length (what the file held after repair), or undefined when none was kept. */
  messageMs: number | undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function stop(s: Serving): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  s.child.kill('SIGTERM');
  const exit = await Promise.race([s.exited, sleep(10_000).then(() => undefined)]);
  if (exit === undefined) s.child.kill('SIGKILL');
  await s.exited;
}

/**
 * Runs one round: a caller per entry of `agesMs` (ms after its beep at which the server is killed, e.g. 1000,
 * 1500, ... 5000), in one fresh storage folder. Resolves with every caller's measured age and what was kept.
 */
export async function crashSweepRound(agesMs: readonly number[]): Promise<SweepDeposit[]> {
  const ages = [...agesMs].sort((a, b) => b - a); // the oldest recording starts first
  const dir = mkdtempSync(join(tmpdir(), 'vmpilot-crash-sweep-'));
  const storageDir = join(dir, 'data');
  const tmp = storeLayout(storageDir).tmpDir;
  const sipPort = await freeUdpPort();
  const rtp = await reserveRtpPorts(40);
  const configFile = join(dir, 'vmpilot.yaml');
  writeFileSync(
    configFile,
    [
      'sip:',
      `  listen: ["udp:127.0.0.1:${sipPort}"]`,
      `rtp: { address: 127.0.0.1, ports: "${rtp.ports}" }`,
      `storage: { dir: ${JSON.stringify(storageDir)} }`,
      'http: false',
      'services: { voicemail: ["8000"], attendant: ["8001"] }',
      'pbx:',
      '  - { name: sipp, addresses: ["127.0.0.1"] }',
      'mailboxes:',
      '  - { number: "27000", pin: "7391", name: "Alice Example" }',
      'voicemail: { reviewMenu: false }',
      '',
    ].join('\n'),
  );
  let server = serve(configFile);
  const callers: Promise<SippResult>[] = [];
  try {
    await logLine(server, 'vmpilot listening', 30_000);
    const fromOf = (i: number): string => `2710${i}`;
    // Callers in the order of their ages, spaced by the differences between them.
    for (let i = 0; i < ages.length; i++) {
      if (i > 0) await sleep(ages[i - 1]! - ages[i]!);
      callers.push(
        runSipp({
          scenario: 'uac-crash-sweep.xml',
          transport: 'udp',
          port: sipPort,
          service: '8000',
          timeoutS: 40,
          extra: [
            '-key', 'vm_from', `"Caller ${i}" <sip:${fromOf(i)}@127.0.0.1>`,
            '-key', 'vm_header', 'Diversion: <sip:27000@127.0.0.1;user=phone>;reason=no-answer;counter=1',
          ],
        }),
      );
    }
    // Watch the recordings start; the youngest is killed at its age, the others are as old as they are then.
    const startedAt = new Map<string, number>(); // from -> when its WAV appeared
    const seen = new Set<string>();
    const deadline = Date.now() + 30_000;
    while (startedAt.size < ages.length) {
      if (Date.now() > deadline) throw new Error(`only ${startedAt.size} of ${ages.length} recordings started:\n${server.stdout().slice(-3000)}`);
      const now = Date.now();
      // The server records into its own folder under tmp/ (store/owner.ts).
      for (const name of await readdir(tmp, { recursive: true }).catch(() => [] as string[])) {
        if (!/(^|\/)vm-[^/]*\.wav$/.test(name) || seen.has(name)) continue;
        seen.add(name);
        const meta = await readRecordingSidecar(join(tmp, name));
        if (meta) startedAt.set(meta.from, now);
      }
      await sleep(10);
    }
    const youngest = fromOf(ages.length - 1);
    await sleep(Math.max(0, startedAt.get(youngest)! + ages[ages.length - 1]! - Date.now()));
    server.child.kill('SIGKILL');
    const killedAt = Date.now();
    await server.exited;

    server = serve(configFile);
    await logLine(server, 'vmpilot listening', 30_000);
    await stop(server);
    const store = await openSqliteStore(storageDir);
    const messages = await store.listMessages('27000');
    await store.close();
    return ages.map((_, i) => ({
      from: fromOf(i),
      ageMs: killedAt - startedAt.get(fromOf(i))!,
      messageMs: messages.find((m) => m.from === fromOf(i))?.durationMs,
    }));
  } finally {
    await stop(server);
    await Promise.all(callers);
    await rtp.release();
    rmSync(dir, { recursive: true, force: true });
  }
}
