/**
 * The leader's jobs on a site of two hosts sharing one PostgreSQL store (issues 10 and 12): two real
 * `vmpilot serve` processes on loopback (their own SIP ports, RTP ranges and storage.dir, one storage.url), a
 * real Dovecot (helpers/dovecot.ts) for unified messaging, the PBX's MWI side (helpers/mwi-pbx.ts), and a
 * directory schedule whose LDAP server is not there (each scheduled try logs a failure: who tries is who runs
 * the schedule).
 *
 * Covers, in order:
 *  - only the leader runs the IMAP sync: after a deposit's email arrives, the leader holds IMAP connections
 *    (IDLE) and the follower none (counted per process with `ss`), and only the leader runs the directory
 *    schedule;
 *  - the leader killed (SIGKILL) while this test holds the lock (a gap in which no host leads): a \Seen set in
 *    the mail client during the gap reaches nobody; once the lock is free the other host leads, its sync's
 *    full compare at start marks the message heard and the PBX gets "Messages-Waiting: no" within 5 s, and it
 *    takes over the directory schedule;
 *  - one directory sync at a time on the site: a sync by hand is refused while another holds the site's lock
 *    (a PostgreSQL advisory lock), and gets past it once it is free;
 *  - appends queued while IMAP is down and the only host stopped are delivered after its restart, each exactly
 *    once, including one whose APPEND had been made before the stop but not taken off the queue.
 * Not covered: the tables themselves on both engines (test/unit/store-leader-tables.test.ts), the sync's
 * mechanics (unified-imap.test.ts), the lock's timing (pg-leadership.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImapFlow } from 'imapflow';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCK_NAMESPACE, MWI_SENDER_LOCK } from '../../src/cluster/pg-leadership.js';
import { loadConfig } from '../../src/config/load.js';
import { DirectoryError } from '../../src/directory/ldap-source.js';
import { syncDirectory } from '../../src/directory/sync.js';
import { DIRECTORY_SYNC_LOCK, SyncBusyError } from '../../src/directory/sync-lock.js';
import type { MessageStore } from '../../src/store/types.js';
import { messageEmail } from '../../src/unified/message-email.js';
import { freeTcpPort, freeUdpPort, logRecords, serve, stopServing, waitForRecord, type LogRecord, type Serving } from '../helpers/cli-process.js';
import { openConfigStore } from '../helpers/config-store.js';
import { MASTER_PASSWORD, MASTER_USER, startDovecot, untilImap, withImapUser, type DovecotServer } from '../helpers/dovecot.js';
import { MwiPbx } from '../helpers/mwi-pbx.js';
import { postgresPerFile } from '../helpers/postgres.js';
import { newMessage } from '../helpers/store-fixture.js';
import { reserveRtpPorts } from '../helpers/rtp-range.js';

const ALICE = 'alice@example.com';
const HEADER = 'X-Vmpilot-Message-Id';
const LEADS = 'leader: this host now sends MWI';
const IMAP_STARTED = 'unified messaging (IMAP) started';
const DIRECTORY_TRIED = 'directory sync failed; nothing applied';
const postgres = postgresPerFile();

interface Host {
  name: string;
  configFile: string;
  serving: Serving;
}

let dir: string;
let url: string;
let dovecot: DovecotServer;
let pbx: MwiPbx;
let store: MessageStore;
const hosts: Host[] = [];

async function hostConfig(name: string, ldapPort: number): Promise<string> {
  const sipPort = await freeUdpPort();
  // Held until this file's process exits (a host restarted later reuses its config).
  const rtp = await reserveRtpPorts(20);
  const configFile = join(dir, `${name}.yaml`);
  writeFileSync(
    configFile,
    [
      `sip: { listen: ["udp:127.0.0.1:${sipPort}"] }`,
      `rtp: { address: 127.0.0.1, ports: "${rtp.ports}" }`,
      `storage: { dir: ${JSON.stringify(join(dir, name))}, url: ${JSON.stringify(url)} }`,
      'http: false',
      `pbx: [{ name: pbx, addresses: ["127.0.0.1"], mwi: { targets: ["sip:127.0.0.1:${pbx.port}"] } }]`,
      'mwi: { resendOnStart: false }',
      'log: { level: info }',
      'mailboxes:',
      `  - { number: "27000", pin: "7391", name: "Alice Example", email: ${ALICE} }`,
      'unifiedMessaging:',
      `  imap: { host: 127.0.0.1, port: ${dovecot.port}, tls: none, master: { user: ${MASTER_USER}, password: ${MASTER_PASSWORD} }, maxConnections: 4 }`,
      // Nothing listens there: each scheduled sync (every 1.2 s) fails and says so in the log.
      `directory: { ldap: { url: "ldap://127.0.0.1:${ldapPort}", base: "dc=example,dc=com", schedule: 0.02, timeoutS: 1 } }`,
      '',
    ].join('\n'),
  );
  return configFile;
}

async function startHost(name: string, ldapPort: number): Promise<Host> {
  const configFile = await hostConfig(name, ldapPort);
  const host = { name, configFile, serving: serve(configFile) };
  hosts.push(host);
  await waitForRecord(host.serving, (r) => r.msg === 'vmpilot listening', `${name} listening`, 45_000);
  return host;
}

const logged = (host: Host, msg: string, from = 0): LogRecord[] => logRecords(host.serving).slice(from).filter((r) => r.msg === msg);

/** Established TCP connections from this process to Dovecot's port (ss -p names the owning process). */
function imapConnectionsOf(host: Host): number {
  const out = spawnSync('ss', ['-Htnp', 'state', 'established', `( dport = :${dovecot.port} )`], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter((line) => line.includes(`pid=${host.serving.child.pid},`)).length;
}

const withAlice = <T>(fn: (c: ImapFlow) => Promise<T>): Promise<T> => withImapUser(dovecot, ALICE, fn);

/** Alice's emails carrying the header: message id → UIDs. */
async function aliceEmails(): Promise<Map<string, number[]>> {
  return withAlice(async (c) => {
    const byId = new Map<string, number[]>();
    if (((c.mailbox && c.mailbox.exists) || 0) === 0) return byId;
    for await (const m of c.fetch('1:*', { uid: true, headers: [HEADER] })) {
      const id = /:\s*(\S+)/.exec(m.headers?.toString() ?? '')?.[1];
      if (id) byId.set(id, [...(byId.get(id) ?? []), m.uid]);
    }
    return byId;
  });
}

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> => untilImap(what, probe, timeoutMs);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vmpilot-leader-jobs-'));
  [url, dovecot, pbx] = await Promise.all([postgres.createDatabase(), startDovecot([ALICE]), MwiPbx.open('127.0.0.1')]);
  const ldapPort = await freeTcpPort();
  // One at a time: the first leads (the second finds the lock taken).
  await startHost('a', ldapPort);
  await waitForRecord(hosts[0]!.serving, (r) => r.msg === LEADS, 'a leading', 10_000);
  await startHost('b', ldapPort);
  store = await openConfigStore(hosts[0]!.configFile);
}, 120_000);

afterAll(async () => {
  await store?.close();
  await Promise.all(hosts.map((h) => stopServing(h.serving)));
  pbx?.close();
  await dovecot?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the leader\'s jobs on two hosts sharing one PostgreSQL store', () => {
  it('only the leader runs the IMAP sync (holds IMAP connections) and the directory schedule', async () => {
    const [a, b] = hosts as [Host, Host];
    const message = await store.deposit(newMessage(store.tmpDir));
    await until('the deposit\'s email', async () => ((await aliceEmails()).has(message.id) ? true : undefined));
    await waitForRecord(a.serving, (r) => r.msg === DIRECTORY_TRIED, 'a scheduled directory sync on a', 10_000);
    // The email came through a's held connection, which now IDLEs.
    await until('a\'s IDLE connection', async () => (imapConnectionsOf(a) > 0 ? true : undefined), 5000);
    expect(imapConnectionsOf(b)).toBe(0);
    expect(logged(a, IMAP_STARTED)).toHaveLength(1);
    expect(logged(b, IMAP_STARTED)).toHaveLength(0);
    expect(logged(b, DIRECTORY_TRIED)).toHaveLength(0);
    expect(logged(b, LEADS)).toHaveLength(0);
    await pbx.waitFor((n) => n.mailbox === '27000' && n.waiting, 'Messages-Waiting: yes for the deposit');
  }, 30_000);

  it('the leader killed: a \\Seen set while no host leads puts the lamp out once the other host leads (its catch-up)', async () => {
    const [a, b] = hosts as [Host, Host];
    const [message] = await store.listMessages('27000', 'new');
    const uid = (await aliceEmails()).get(message!.id)![0]!;
    const gap = new pg.Client({ connectionString: url });
    await gap.connect();
    try {
      await a.serving.child.kill('SIGKILL');
      await a.serving.exited;
      // Waits for a's session to end, then holds the lock: b's tries fail until it is freed.
      await gap.query('SELECT pg_advisory_lock($1, $2)', [LOCK_NAMESPACE, MWI_SENDER_LOCK]);
      const bFrom = logRecords(b.serving).length;
      const mark = pbx.notifies.length;
      await withAlice((c) => c.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true }));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect((await store.getMessage(message!.id))?.heard, 'no host runs the sync in the gap').toBe(false);
      expect(imapConnectionsOf(b)).toBe(0);
      expect(logged(b, DIRECTORY_TRIED, bFrom)).toHaveLength(0);

      await gap.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, MWI_SENDER_LOCK]);
      const freed = Date.now();
      await waitForRecord(b.serving, (r) => r.msg === LEADS, 'b leading', 5000, bFrom);
      await pbx.waitFor((n) => n.mailbox === '27000' && !n.waiting, 'Messages-Waiting: no after b\'s catch-up', 5000 - (Date.now() - freed), mark);
      expect((await store.getMessage(message!.id))?.heard).toBe(true);
      expect(logged(b, IMAP_STARTED, bFrom)).toHaveLength(1);
      await waitForRecord(b.serving, (r) => r.msg === DIRECTORY_TRIED, 'a scheduled directory sync on b', 10_000, bFrom);
    } finally {
      await gap.end();
    }
  }, 40_000);

  it('one directory sync at a time on the site: one by hand is refused while another host\'s holds the lock', async () => {
    const config = await loadConfig(hosts[0]!.configFile);
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1, $2)', [LOCK_NAMESPACE, DIRECTORY_SYNC_LOCK]);
      await expect(syncDirectory(store, config)).rejects.toThrow('another directory sync is running on a host of this site');
      await holder.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, DIRECTORY_SYNC_LOCK]);
    } finally {
      await holder.end();
    }
    // Free: the sync gets past the lock and fails reading the directory (nothing listens there). The leader's own
    // scheduled sync may hold the lock for a moment: a few tries.
    let outcome: unknown;
    for (let i = 0; i < 20; i++) {
      outcome = await syncDirectory(store, config).catch((err: unknown) => err);
      if (!(outcome instanceof SyncBusyError)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(outcome).toBeInstanceOf(DirectoryError);
  });

  it('appends queued while IMAP is down are delivered after a restart, each exactly once', async () => {
    const b = hosts[1]!;
    // IMAP down before b starts again, so that no session of the old Dovecot lingers to take the appends.
    await stopServing(b.serving);
    await b.serving.exited;
    await dovecot.stop();
    // Deposits while no host runs: each one's commit queues its append (the store is opened as the hosts open it).
    const waiting = [];
    for (let i = 0; i < 2; i++) waiting.push(await store.deposit(newMessage(store.tmpDir)));
    b.serving = serve(b.configFile);
    // b tries them (IMAP down: they stay queued), then stops with them pending.
    await waitForRecord(b.serving, (r) => r.msg === 'IMAP append failed; will retry', 'a failed append on b', 45_000);
    await stopServing(b.serving);
    await b.serving.exited;
    await dovecot.start();
    // One more whose APPEND reached IMAP but was never taken off the queue (a crash between the two).
    const appended = await store.deposit(newMessage(store.tmpDir));
    const mailbox = (await store.findMailbox('27000'))!;
    await withAlice((c) => messageEmail(mailbox, appended, 'UTC').then((raw) => c.append('INBOX', raw)));
    expect(await store.countImapAppends()).toBe(3);

    b.serving = serve(b.configFile);
    await waitForRecord(b.serving, (r) => r.msg === LEADS, 'b leading after its restart', 45_000);
    await until('the queue drained', async () => ((await store.countImapAppends()) === 0 ? true : undefined), 15_000);
    const emails = await aliceEmails();
    for (const m of [...waiting, appended]) expect(emails.get(m.id), m.id).toHaveLength(1);
  }, 120_000);
});
