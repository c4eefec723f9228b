/**
 * A new MWI sender sends only the lamps the PBX has not acknowledged (mwi/ack-ledger.ts, store table mwi_acked),
 * on each store engine, with the real `vmpilot serve` processes and the PBX's MWI side (helpers/mwi-pbx.ts,
 * answering every NOTIFY 200):
 *
 *  - PostgreSQL, two hosts (two processes on one store): A leads and sends every mailbox's state (nothing was
 *    acknowledged yet); A is SIGKILLed; a message is left in one mailbox while no host leads; B takes the lead
 *    and sends that one mailbox's lamp, once, and nothing for the mailboxes the PBX acknowledged from A.
 *  - SQLite, one server (its own only candidate): started, it sends every state; SIGKILLed (a crash); a message is
 *    left meanwhile (another process on the store); started again, it sends that one lamp only.
 *
 * Not covered: the ledger's unit behaviour with refusals and a full resend (mwi.test.ts), POST /api/mwi/resend
 * (http-messages.test.ts), the leadership's own timing (pg-leadership.test.ts, multi-host.test.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort, logRecords, serve, stopServing, waitForRecord, type Serving } from '../helpers/cli-process.js';
import { openConfigStore } from '../helpers/config-store.js';
import { MwiPbx } from '../helpers/mwi-pbx.js';
import { postgresPerFile } from '../helpers/postgres.js';
import { reserveRtpPorts, type RtpRange } from '../helpers/rtp-range.js';
import { newMessage } from '../helpers/store-fixture.js';

const LEADS = 'leader: this host now sends MWI';
const LISTENING = 'vmpilot listening';
const MAILBOXES = Array.from({ length: 20 }, (_, i) => String(27000 + i));
const postgres = postgresPerFile();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let dir: string;
let pbx: MwiPbx;
const running: Serving[] = [];
const ranges: RtpRange[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vmpilot-mwi-acked-'));
  pbx = await MwiPbx.open('127.0.0.1');
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => stopServing(s)));
  for (const r of ranges.splice(0)) await r.release();
});

afterAll(async () => {
  pbx?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A host's config: its own SIP port, RTP range and storage dir; `url` shares a PostgreSQL store. */
async function hostConfig(name: string, url?: string): Promise<string> {
  const rtp = await reserveRtpPorts(20);
  ranges.push(rtp);
  const file = join(dir, `${name}.yaml`);
  const storage = { dir: join(dir, name), ...(url && { url }) };
  writeFileSync(
    file,
    [
      `sip: { listen: ["udp:127.0.0.1:${await freeUdpPort()}"] }`,
      `rtp: { address: 127.0.0.1, ports: "${rtp.ports}" }`,
      `storage: ${JSON.stringify(storage)}`,
      'http: false',
      `pbx: [{ name: pbx, addresses: ["127.0.0.1"], mwi: { targets: ["sip:127.0.0.1:${pbx.port}"] } }]`,
      'mwi: { resendOnStart: true, notifyRatePerSecond: 200 }',
      'log: { level: info }',
      'mailboxes:',
      ...MAILBOXES.map((n) => `  - { number: "${n}", pin: "7391", name: "Box ${n}" }`),
      '',
    ].join('\n'),
  );
  return file;
}

function start(configFile: string): Serving {
  const s = serve(configFile);
  running.push(s);
  return s;
}

async function kill(s: Serving): Promise<void> {
  s.child.kill('SIGKILL');
  await s.exited;
}

/** Every mailbox's state reached the PBX since `from`, and the store holds each as acknowledged. */
async function everyLampAcknowledged(configFile: string, from: number): Promise<void> {
  for (const n of MAILBOXES) await pbx.waitFor((x) => x.mailbox === n, `for ${n}`, 20_000, from);
  const store = await openConfigStore(configFile);
  try {
    for (const end = Date.now() + 10_000; ; ) {
      const acked = (await store.listMwiAcked()).filter((r) => r.counts !== null);
      if (acked.length === MAILBOXES.length) return;
      if (Date.now() > end) throw new Error(`only ${acked.length} lamps stored as acknowledged`);
      await sleep(50);
    }
  } finally {
    await store.close();
  }
}

/** Leaves a message in 27005 from another process on the store (no host sends MWI for it at that moment). */
async function depositElsewhere(configFile: string): Promise<void> {
  const store = await openConfigStore(configFile);
  try {
    await store.deposit(newMessage(store.tmpDir, { mailbox: '27005' }));
  } finally {
    await store.close();
  }
}

/** The NOTIFYs since `from`, after a quiet second (a refresh of every lamp would be under way by then). */
async function sentSince(from: number): Promise<[string, boolean][]> {
  await pbx.waitFor((n) => n.mailbox === '27005' && n.waiting, 'lighting 27005', 20_000, from);
  await sleep(1500);
  return pbx.notifies.slice(from).map((n) => [n.mailbox, n.waiting]);
}

describe('a new MWI sender sends only what the PBX has not acknowledged', () => {
  it('PostgreSQL: the leader killed, the new leader sends only the lamp that changed', async () => {
    const url = await postgres.createDatabase();
    const [fileA, fileB] = [await hostConfig('a', url), await hostConfig('b', url)];
    const mark = pbx.notifies.length;
    const a = start(fileA);
    await waitForRecord(a, (r) => r.msg === LEADS, 'A leading', 45_000);
    await everyLampAcknowledged(fileA, mark);
    const b = start(fileB);
    await waitForRecord(b, (r) => r.msg === LISTENING, 'B listening', 45_000);
    expect(logRecords(b).some((r) => r.msg === LEADS)).toBe(false);

    const bLog = logRecords(b).length;
    const killed = pbx.notifies.length;
    await kill(a);
    await depositElsewhere(fileB);
    await waitForRecord(b, (r) => r.msg === LEADS, 'B taking the lead', 10_000, bLog);
    expect(await sentSince(killed)).toEqual([['27005', true]]);
  }, 120_000);

  it('SQLite: the server killed and started again sends only the lamp that changed', async () => {
    const file = await hostConfig('solo');
    const mark = pbx.notifies.length;
    const first = start(file);
    await waitForRecord(first, (r) => r.msg === LISTENING, 'listening', 45_000);
    await everyLampAcknowledged(file, mark);
    const killed = pbx.notifies.length;
    await kill(first);
    await depositElsewhere(file);
    const again = start(file);
    await waitForRecord(again, (r) => r.msg === LISTENING, 'listening again', 45_000);
    expect(await sentSince(killed)).toEqual([['27005', true]]);
  }, 120_000);
});
