/**
 * An IMAP append whose holder died is taken over promptly by the next leader (unified/append-drain.ts: a short
 * lease the holder renews while it appends), on a site of two `vmpilot serve` processes sharing one PostgreSQL
 * store, with a real Dovecot (helpers/dovecot.ts).
 *
 * Host A (the leader) reaches Dovecot through a relay that stops passing A's bytes once it sees an APPEND, so A
 * is stuck in the middle of the append when it is SIGKILLed; host B reaches Dovecot directly. Covered: B takes
 * the lead and appends the message within the lease (10 s) plus its takeover and poll, not after the old two
 * minutes, and exactly once (the stuck APPEND never reached Dovecot; B's header search runs first anyway); the
 * queue is empty after it.
 * Not covered: the lease's renewal on both engines (test/unit/store-leader-tables.test.ts), the other leader
 * jobs' takeover (leader-jobs.test.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageStore } from '../../src/store/types.js';
import { freeUdpPort, serve, stopServing, waitForRecord, type Serving } from '../helpers/cli-process.js';
import { openConfigStore } from '../helpers/config-store.js';
import { MASTER_PASSWORD, MASTER_USER, startDovecot, untilImap, withImapUser, type DovecotServer } from '../helpers/dovecot.js';
import { postgresPerFile } from '../helpers/postgres.js';
import { reserveRtpPorts, type RtpRange } from '../helpers/rtp-range.js';
import { newMessage } from '../helpers/store-fixture.js';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay.js';

const ALICE = 'alice@example.com';
const HEADER = 'X-Vmpilot-Message-Id';
const LEADS = 'leader: this host now sends MWI';
const postgres = postgresPerFile();

let dir: string;
let url: string;
let dovecot: DovecotServer;
/** A's way to Dovecot: passes everything until a client sends APPEND, then nothing more from any client. */
let relay: TcpRelay;
let appendStuck = false;
const servings: Serving[] = [];
const ranges: RtpRange[] = [];
let store: MessageStore | undefined;

async function hostConfig(name: string, imapPort: number): Promise<string> {
  const rtp = await reserveRtpPorts(20);
  ranges.push(rtp);
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `sip: { listen: ["udp:127.0.0.1:${await freeUdpPort()}"] }`,
      `rtp: { address: 127.0.0.1, ports: "${rtp.ports}" }`,
      `storage: { dir: ${JSON.stringify(join(dir, name))}, url: ${JSON.stringify(url)} }`,
      'http: false',
      'pbx: [{ name: pbx, addresses: ["127.0.0.1"] }]',
      'log: { level: info }',
      'mailboxes:',
      `  - { number: "27000", pin: "7391", name: "Alice Example", email: ${ALICE} }`,
      'unifiedMessaging:',
      `  imap: { host: 127.0.0.1, port: ${imapPort}, tls: none, master: { user: ${MASTER_USER}, password: ${MASTER_PASSWORD} }, maxConnections: 2 }`,
      '',
    ].join('\n'),
  );
  return file;
}

/** Alice's emails carrying the header: message id → how many. */
async function aliceCopies(): Promise<Map<string, number>> {
  return withImapUser(dovecot, ALICE, async (c) => {
    const byId = new Map<string, number>();
    if (((c.mailbox && c.mailbox.exists) || 0) === 0) return byId;
    for await (const m of c.fetch('1:*', { uid: true, headers: [HEADER] })) {
      const id = /:\s*(\S+)/.exec(m.headers?.toString() ?? '')?.[1];
      if (id) byId.set(id, (byId.get(id) ?? 0) + 1);
    }
    return byId;
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vmpilot-append-takeover-'));
  [url, dovecot] = await Promise.all([postgres.createDatabase(), startDovecot([ALICE])]);
  relay = await startTcpRelay(dovecot.port, (chunk) => {
    if (!appendStuck && / APPEND /i.test(chunk.toString('latin1'))) appendStuck = true;
    return !appendStuck;
  });
}, 60_000);

afterAll(async () => {
  await store?.close();
  await Promise.all(servings.map((s) => stopServing(s)));
  for (const r of ranges) await r.release();
  await relay?.close();
  await dovecot?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe('the leader killed in the middle of an IMAP append', () => {
  it('the next leader appends the message within the lease, exactly once', async () => {
    const fileA = await hostConfig('a', relay.port);
    const fileB = await hostConfig('b', dovecot.port);
    const a = serve(fileA);
    servings.push(a);
    await waitForRecord(a, (r) => r.msg === LEADS, 'A leading', 45_000);
    const b = serve(fileB);
    servings.push(b);
    await waitForRecord(b, (r) => r.msg === 'vmpilot listening', 'B listening', 45_000);

    // Another process on the store leaves a message: its commit queues the append, which A (the leader) claims.
    store = await openConfigStore(fileB);
    const message = await store.deposit(newMessage(store.tmpDir));
    for (const end = Date.now() + 15_000; !appendStuck; ) {
      if (Date.now() > end) throw new Error('A never sent its APPEND');
      await new Promise((r) => setTimeout(r, 20));
    }
    a.child.kill('SIGKILL');
    await a.exited;
    const killedAt = Date.now();

    await waitForRecord(b, (r) => r.msg === LEADS, 'B taking the lead', 10_000);
    // Lease (10 s) + B's takeover (~1 s) + a queue poll (1 s), with room for a loaded machine; the old lease was 2 min.
    await untilImap('the message appended by B', async () => ((await aliceCopies()).has(message.id) ? true : undefined), 25_000);
    const appendedAfterMs = Date.now() - killedAt;
    await new Promise((r) => setTimeout(r, 2000));
    expect((await aliceCopies()).get(message.id)).toBe(1);
    expect(await store.countImapAppends()).toBe(0);
    console.log(`IMAP append whose holder was killed mid-append: appended by the new leader ${appendedAfterMs} ms after the kill`);
  }, 120_000);
});
