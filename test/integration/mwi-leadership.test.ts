/**
 * The MWI service runs only while its host leads (mwi/while-leader.ts over cluster/pg-leadership.ts), seen
 * from the PBX: the real `vmpilot serve` with storage.url naming a PostgreSQL database, the PBX's MWI side
 * (helpers/mwi-pbx.ts) on its target, and this test process playing another host that takes the lock.
 *
 * Covered: the only candidate leads and refreshes the lamps; when its lock session is killed and another host
 * holds the lock, it MUST NOT send (a deposit meanwhile gets no NOTIFY from it) and answers SUBSCRIBE 503 with
 * Retry-After; when the lock is free again it leads again and its refresh carries the change it missed,
 * exactly once.
 * Not covered: two vmpilot hosts (multi-host.test.ts), the lock's own timing (pg-leadership.test.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCK_NAMESPACE, MWI_SENDER_LOCK } from '../../src/cluster/pg-leadership.js';
import { freeUdpPort, serve, stopServing, waitForRecord, logRecords, type Serving } from '../helpers/cli-process.js';
import { MwiPbx } from '../helpers/mwi-pbx.js';
import { openConfigStore } from '../helpers/config-store.js';
import { postgresPerFile } from '../helpers/postgres.js';
import { RawUdpPeer, subscribeMwi } from '../helpers/raw-peer.js';
import { newMessage } from '../helpers/store-fixture.js';
import { reserveRtpPorts, type RtpRange } from '../helpers/rtp-range.js';

const LEADS = 'leader: this host now sends MWI';
const LOST = 'leadership lost with the connection to PostgreSQL: this host stops sending MWI';
const postgres = postgresPerFile();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let dir: string;
let storageDir: string;
let configFile: string;
let url: string;
let sipPort: number;
let pbx: MwiPbx;
let server: Serving | undefined;
let rtp: RtpRange | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vmpilot-leader-'));
  storageDir = join(dir, 'data');
  url = await postgres.createDatabase();
  sipPort = await freeUdpPort();
  pbx = await MwiPbx.open('127.0.0.1');
  rtp = await reserveRtpPorts(20);
  configFile = join(dir, 'vmpilot.yaml');
  writeFileSync(
    configFile,
    [
      `sip: { listen: ["udp:127.0.0.1:${sipPort}"] }`,
      `rtp: { address: 127.0.0.1, ports: "${rtp.ports}" }`,
      `storage: { dir: ${JSON.stringify(storageDir)}, url: ${JSON.stringify(url)} }`,
      'http: false',
      `pbx: [{ name: pbx, addresses: ["127.0.0.1"], mwi: { targets: ["sip:127.0.0.1:${pbx.port}"] } }]`,
      'mwi: { resendOnStart: false }',
      'mailboxes:',
      '  - { number: "27000", pin: "7391", name: "Alice Example" }',
      '',
    ].join('\n'),
  );
  server = serve(configFile);
  await waitForRecord(server, (r) => r.msg === LEADS, 'leading', 40_000);
}, 60_000);

afterAll(async () => {
  await stopServing(server);
  pbx?.close();
  await rtp?.release();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A SUBSCRIBE for 27000's message-summary from the PBX; resolves with the response's first line and Retry-After. */
async function subscribe(): Promise<{ status: string; retryAfter: string | undefined }> {
  const peer = await RawUdpPeer.open();
  try {
    const callId = `sub-${Date.now()}`;
    await peer.send(sipPort, subscribeMwi({ mailbox: '27000', target: `127.0.0.1:${sipPort}`, host: '127.0.0.1', port: peer.port, callId }));
    const res = await peer.waitFor((t) => t.startsWith('SIP/2.0') && !t.startsWith('SIP/2.0 100'), 3000);
    return { status: res.text.split('\r\n')[0]!, retryAfter: /^Retry-After: *(\d+)/im.exec(res.text)?.[1] };
  } finally {
    peer.close();
  }
}

describe('MWI only while leading', () => {
  it('the only candidate leads and refreshes the lamps at once', async () => {
    await pbx.waitFor((n) => n.mailbox === '27000' && !n.waiting, 'of the refresh on leading');
  });

  it('MUST NOT send while another host holds the lock, and answers SUBSCRIBE 503; leading again, its refresh brings the missed change, once', async () => {
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      const logFrom = logRecords(server!).length;
      // Kill vmpilot's lock session and take the lock in the same breath (pg_advisory_lock waits for the dying
      // session to let go; vmpilot only ever tries, and reconnects after it).
      await other.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'vmpilot-leadership'`);
      await other.query('SELECT pg_advisory_lock($1, $2)', [LOCK_NAMESPACE, MWI_SENDER_LOCK]);
      await waitForRecord(server!, (r) => r.msg === LOST, 'leadership lost', 5000, logFrom);

      const mark = pbx.notifies.length;
      const store = await openConfigStore(configFile);
      try {
        await store.deposit(newMessage(store.tmpDir));
      } finally {
        await store.close();
      }
      // The change feed reaches the server within ~200 ms; a sender would have sent by now.
      await sleep(1500);
      expect(pbx.notifies.slice(mark)).toEqual([]);
      expect(await subscribe()).toEqual({ status: 'SIP/2.0 503 Service Unavailable', retryAfter: '5' });

      await other.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, MWI_SENDER_LOCK]);
      await waitForRecord(server!, (r) => r.msg === LEADS, 'leading again', 5000, logFrom);
      await pbx.waitFor((n) => n.waiting, 'Messages-Waiting: yes in the refresh', 5000, mark);
      await sleep(1000);
      expect(pbx.notifies.slice(mark).map((n) => [n.mailbox, n.waiting])).toEqual([['27000', true]]);
      expect((await subscribe()).status).toBe('SIP/2.0 200 OK');
    } finally {
      await other.end();
    }
  });
});
