/*
 * One store, one lamp (issue 13): a change made by ANOTHER process sharing the store reaches the running
 * server's MWI. The server is the real `vmpilot serve` (its own process, its store in a worker thread); the
 * PBX is a SIPp UAS on the MWI target port; the other process is this test process writing through its own
 * store instance, as a second worker or the CLI would.
 *
 * Covers: a deposit by another process → exactly one NOTIFY with Voice-Message 1/0 (0/0) at the PBX (the
 * delay is printed; the feed polls every 200 ms), and no second NOTIFY (a raw socket on the PBX port after
 * SIPp exits: an unanswered duplicate would be retransmitted there).
 *
 * Does not cover: the feed's own semantics (store-change-feed.test.ts); several workers behind the front door
 * (the cluster tests).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { freeUdpPort, logLine, serve, stopServing, type Serving } from '../helpers/cli-process.js';
import { notifiesArrivingAt } from '../helpers/raw-peer.js';
import { runSipp } from '../helpers/sipp.js';
import { newMessage } from '../helpers/store-fixture.js';
import { reserveRtpPorts, type RtpRange } from '../helpers/rtp-range.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let dir: string;
let storageDir: string;
let sipPort: number;
let pbxPort: number;
let server: Serving | undefined;
let rtp: RtpRange | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vmpilot-lamp-'));
  storageDir = join(dir, 'data');
  sipPort = await freeUdpPort();
  pbxPort = await freeUdpPort();
  rtp = await reserveRtpPorts(20);
  const configFile = join(dir, 'vmpilot.yaml');
  writeFileSync(
    configFile,
    [
      'sip:',
      `  listen: ["udp:127.0.0.1:${sipPort}"]`,
      `rtp: { address: 127.0.0.1, ports: "${rtp.ports}" }`,
      `storage: { dir: ${JSON.stringify(storageDir)} }`,
      'http: false',
      'pbx:',
      `  - { name: sipp, addresses: ["127.0.0.1"], mwi: { targets: ["sip:127.0.0.1:${pbxPort}"] } }`,
      // No state sent at start-up: the only NOTIFY is the one the other process's change causes.
      'mwi: { resendOnStart: false }',
      'mailboxes:',
      '  - { number: "27000", pin: "7391", name: "Alice Example" }',
      '',
    ].join('\n'),
  );
  server = serve(configFile);
  await logLine(server, 'vmpilot listening');
}, 40_000);

afterAll(async () => {
  await stopServing(server);
  await rtp?.release();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a change made by another process sharing the store', () => {
  it('a deposit lights the lamp: exactly one NOTIFY 1/0 (0/0) to the PBX', async () => {
    const pbx = runSipp({ scenario: 'uas-e2e-mwi-one-new.xml', transport: 'udp', port: sipPort, timeoutS: 20, extra: ['-p', String(pbxPort), '-m', '1'] });
    await sleep(300); // SIPp binds its port
    const other = await openSqliteStore(storageDir);
    const t0 = performance.now();
    try {
      await other.deposit(newMessage(other.tmpDir));
    } finally {
      await other.close();
    }
    const result = await pbx;
    const delayMs = performance.now() - t0;
    if (result.code !== 0) throw new Error(`SIPp failed (exit ${result.code}):\n${result.stderr}\n${result.stdout.slice(-3000)}`);
    expect(result.successful).toBe(1);
    process.stdout.write(`NOTIFY at the PBX ${delayMs.toFixed(0)} ms after another process's deposit (includes SIPp's exit)\n`);

    // Exactly once: a second NOTIFY, unanswered now, would be retransmitted (RFC 3261 Timer E) to this port.
    expect(await notifiesArrivingAt(pbxPort)).toEqual([]);
  }, 40_000);
});
