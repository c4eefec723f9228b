/**
 * Mirror lag (issue 10, "what must be shown"): the time from a deposit committed on the primary to its audio
 * committed on the standby, at a steady deposit rate, with `vmpilot mirror` running as its own process (as an
 * operator runs it) and the deposits made through the store API in this process (what a call's deposit ends
 * in: audio copied into place and fsynced, then the row).
 *
 * The lag of a message is the standby's commit time (the mirror's "mirror copied a message" log line, logged
 * after the rows are committed, ms resolution) minus the moment deposit() resolved here. Prints p50/p90/p99/max,
 * the rate achieved, and how many messages did not reach the standby within the wait.
 *
 * Run: npx tsx bench/mirror-lag.ts [--rate 100] [--seconds 20] [--audio-ms 5000] [--mailboxes 200]
 *        [--standby URL | --standby-postgres] [--mirror-log FILE]   (the mirror's JSON log lines, to look into)
 * The primary is a fresh SQLite store in a temporary folder; the standby too unless --standby names one
 * (postgres://... for a PostgreSQL standby) or --standby-postgres asks for a throwaway PostgreSQL server
 * (test/helpers/postgres-server.ts: Debian's binaries, a temporary cluster, removed at the end).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describeLocation, parseStoreLocation, type StoreLocation } from '../src/store/replica/location.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { startPostgres } from '../test/helpers/postgres-server.js';
import { recordingIn } from '../test/helpers/store-fixture.js';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '20' },
    'audio-ms': { type: 'string', default: '5000' },
    mailboxes: { type: 'string', default: '200' },
    standby: { type: 'string' },
    'standby-postgres': { type: 'boolean', default: false },
    'mirror-log': { type: 'string' },
  },
});
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const AUDIO_MS = Number(args['audio-ms']);
const MAILBOXES = Number(args.mailboxes);
/** After the last deposit, how long to wait for the standby to have everything. */
const DRAIN_MS = 60_000;

const root = mkdtempSync(join(tmpdir(), 'vmpilot-mirror-lag-'));
const location = (text: string | undefined, fallback: string): StoreLocation => {
  const parsed = parseStoreLocation(text ?? fallback);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
};
const primaryDir = join(root, 'primary');

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

async function main(): Promise<void> {
  const pgServer = args['standby-postgres'] ? await startPostgres() : undefined;
  const standbyAt = location(pgServer ? await pgServer.createDatabase() : args.standby, join(root, 'standby'));
  const primary = await openSqliteStore(primaryDir);
  const replica = primary.replica();
  const config = join(root, 'primary.yaml');
  writeFileSync(config, `storage: { dir: ${JSON.stringify(primaryDir)} }\nlog: { level: info }\n`);
  const numbers = Array.from({ length: MAILBOXES }, (_, i) => String(30000 + i));
  const first = await primary.createMailbox({ number: numbers[0]!, name: 'Bench 0', pin: '2580' });
  const fields = (await replica.mailbox(first.number))!;
  for (const number of numbers.slice(1)) await replica.putMailbox({ ...fields, number, name: `Bench ${number}` });
  const recording = recordingIn(primary.tmpDir, AUDIO_MS, 'bench-recording.wav');

  // The mirror, as an operator starts it.
  const copiedAt = new Map<string, number>();
  const mirror = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, '../src/admin/cli.ts'), 'mirror', '--to', standbyAt.kind === 'sqlite' ? standbyAt.dir : standbyAt.url, '--config', config], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let pending = '';
  let swept = false;
  const mirrorLog = args['mirror-log'] === undefined ? undefined : createWriteStream(args['mirror-log']);
  mirror.stdout.on('data', (chunk: Buffer) => {
    mirrorLog?.write(chunk);
    const lines = (pending + chunk.toString()).split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      const r = JSON.parse(line) as { msg: string; id?: string; time: string };
      if (r.msg === 'mirror copied a message' && r.id !== undefined) copiedAt.set(r.id, Date.parse(r.time));
      else if (r.msg.startsWith('mirror sweep')) swept = true;
    }
  });
  for (let waited = 0; !swept; waited += 100) {
    if (waited > 60_000 || mirror.exitCode !== null) throw new Error('the mirror did not start');
    await new Promise((r) => setTimeout(r, 100));
  }

  console.log(`mirror lag: ${RATE} deposits/s for ${SECONDS} s, ${AUDIO_MS} ms messages (${Math.round((AUDIO_MS * 16) / 1000)} KB), ${MAILBOXES} mailboxes`);
  console.log(`  primary ${`sqlite:${primaryDir}`} -> standby ${describeLocation(standbyAt)}`);
  const committedAt = new Map<string, number>();
  const total = Math.round(RATE * SECONDS);
  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  let failed = 0;
  for (let i = 0; i < total; i++) {
    // Paced by the clock, not by the previous deposit: a slow one does not slow the offered rate.
    const due = started + (i * 1000) / RATE;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    const p = primary
      .deposit({ mailbox: numbers[i % MAILBOXES]!, from: `555${i}`, fromName: 'Bench', durationMs: AUDIO_MS, urgent: false, reason: 'busy', audioFile: recording, keepAudioFile: true })
      .then(
        (m) => void committedAt.set(m.id, Date.now()),
        () => void failed++,
      )
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  const depositSeconds = (Date.now() - started) / 1000;
  const drainEnd = Date.now() + DRAIN_MS;
  while ([...committedAt.keys()].some((id) => !copiedAt.has(id)) && Date.now() < drainEnd) await new Promise((r) => setTimeout(r, 100));

  const lags = [...committedAt].filter(([id]) => copiedAt.has(id)).map(([id, at]) => copiedAt.get(id)! - at).sort((a, b) => a - b);
  console.log(`  deposits: ${committedAt.size} committed in ${depositSeconds.toFixed(1)} s (${(committedAt.size / depositSeconds).toFixed(1)}/s), ${failed} failed`);
  console.log(`  on the standby: ${lags.length}; missing after ${DRAIN_MS / 1000} s: ${committedAt.size - lags.length}`);
  console.log(`  lag ms: p50 ${percentile(lags, 50)}  p90 ${percentile(lags, 90)}  p99 ${percentile(lags, 99)}  max ${lags.at(-1)}`);

  mirror.kill('SIGTERM');
  await new Promise((r) => mirror.once('close', r));
  await primary.close();
  await pgServer?.destroy();
  rmSync(root, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  rmSync(root, { recursive: true, force: true });
  process.exit(1);
});
