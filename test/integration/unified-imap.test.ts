/*
 * Unified messaging against a real Dovecot (test/helpers/dovecot.ts): a vmpilot server with
 * unifiedMessaging.imap, a raw UDP PBX (MwiPbx) as its MWI target, and this test process depositing and
 * listening through its own store on the server's storage folder (as a cluster worker or the phone menu
 * would: the server hears it through the store's change feed).
 *
 * Covers: a deposit becomes an email in the owner's INBOX (master login `user*vmpilot`) with
 * X-Vmpilot-Message-Id and a playable 8 kHz WAV of the right length; \Seen set by a mail client → the
 * message is heard in the store and the PBX gets "Messages-Waiting: no"; deleting by phone → \Deleted in
 * IMAP; a mailbox with its own login (mailboxes[].imap); Dovecot stopped with a deposit and a listen made
 * meanwhile, then started → the email arrives once, \Seen follows, no duplicates.
 *
 * A real call (SIPp, uac-vm-deposit.xml) leaves a message while Dovecot is stopped: the caller hears "message
 * sent" and goodbye and gets the BYE as usual (the append is queued, never awaited by the call), and the
 * email arrives once Dovecot is back.
 *
 * A cluster's front door (one local worker, which does not run the sync) runs it: a deposit made by another
 * process, as a worker would, reaches IMAP through the append queue the deposit's commit filled.
 *
 * The sync on its own (startUnifiedImap over a store of this process) with one held connection and a 1 s
 * sweep: a \Seen on a mailbox whose connection was given to another is picked up by the sweep.
 *
 * Does not cover: implicit TLS/STARTTLS (Dovecot runs in cleartext here), the sweep's timing (the sweep is
 * 60 s by default; here the lost-connection retry does the catch-up).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImapFlow } from 'imapflow';
import { parseWav } from '../../src/media/wav.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { startUnifiedImap } from '../../src/unified/imap-sync.js';
import { MASTER_PASSWORD, MASTER_USER, startDovecot, untilImap, withImapUser, type DovecotServer } from '../helpers/dovecot.js';
import { startCluster } from '../helpers/cluster.js';
import { openConfigStore } from '../helpers/config-store.js';
import { MwiPbx } from '../helpers/mwi-pbx.js';
import { runSipp } from '../helpers/sipp.js';
import { newMessage, recordingIn } from '../helpers/store-fixture.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/test-server.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const HEADER = 'X-Vmpilot-Message-Id';

let dovecot: DovecotServer;
let pbx: MwiPbx;
let server: TestServer;
let store: SqliteStore;

interface Email {
  uid: number;
  id: string;
  seen: boolean;
  deleted: boolean;
}

/** A mail client's view: the emails carrying the header in a user's INBOX. */
const withClient = <T>(user: string, fn: (c: ImapFlow) => Promise<T>): Promise<T> => withImapUser(dovecot, user, fn);

async function emails(user: string): Promise<Email[]> {
  return withClient(user, async (c) => {
    const out: Email[] = [];
    if (((c.mailbox && c.mailbox.exists) || 0) === 0) return out;
    for await (const m of c.fetch('1:*', { uid: true, flags: true, headers: [HEADER] })) {
      const id = /:\s*(\S+)/.exec(m.headers?.toString() ?? '')?.[1];
      if (id) out.push({ uid: m.uid, id, seen: m.flags?.has('\\Seen') ?? false, deleted: m.flags?.has('\\Deleted') ?? false });
    }
    return out;
  });
}

/** Polls IMAP until `probe` finds what it wants (IMAP reads are async: waitFor's predicate is sync). */
const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 8000): Promise<T> => untilImap(what, probe, timeoutMs, () => dovecot.log().slice(-2000));

const emailOf = (user: string, id: string, ok: (e: Email) => boolean = () => true) => () =>
  emails(user).then((list) => list.find((e) => e.id === id && ok(e)));

beforeAll(async () => {
  dovecot = await startDovecot([ALICE, BOB]);
  pbx = await MwiPbx.open('127.0.0.1');
  server = await startTestServer(
    [
      'pbx:',
      `  - { name: raw, addresses: ["127.0.0.1"], mwi: { targets: ["sip:127.0.0.1:${pbx.port}"] } }`,
      'mwi: { resendOnStart: false }',
      // The caller's '#' sends the message at once (uac-vm-deposit.xml has no review-menu keys).
      'voicemail: { reviewMenu: false }',
      'mailboxes:',
      `  - { number: "27000", pin: "1234", name: "Alice Example", email: ${ALICE} }`,
      `  - { number: "27001", pin: "1234", name: "Bob Example", email: ${BOB}, imap: { user: ${BOB}, password: ${dovecot.password} } }`,
      'unifiedMessaging:',
      '  imap:',
      `    { host: 127.0.0.1, port: ${dovecot.port}, tls: none, master: { user: ${MASTER_USER}, password: ${MASTER_PASSWORD} }, maxConnections: 4 }`,
    ].join('\n'),
  );
  store = await openSqliteStore(server.dir);
}, 30_000);

afterAll(async () => {
  await store?.close();
  await server?.stop();
  pbx?.close();
  await dovecot?.destroy();
});

describe('unified messaging over IMAP (Dovecot)', () => {
  it('appends a deposit to the owner INBOX with its id header and a playable 8 kHz WAV of the right length', async () => {
    const msg = await store.deposit(newMessage(store.tmpDir, { audioFile: recordingIn(store.tmpDir, 1500), durationMs: 1500 }));
    const email = await until('the email', emailOf(ALICE, msg.id));
    expect(email.seen).toBe(false);
    const wav = await withClient(ALICE, async (c) => {
      const m = await c.fetchOne(String(email.uid), { source: true, bodyStructure: true }, { uid: true });
      expect(m && m.source?.toString()).toMatch(/^Subject: New voicemail from Bob \(4455\)/m);
      const part = m ? m.bodyStructure?.childNodes?.find((n) => n.type === 'audio/wav') : undefined;
      expect(part?.part).toBeDefined();
      const { content } = await c.download(String(email.uid), part?.part, { uid: true });
      const chunks: Buffer[] = [];
      for await (const chunk of content ?? []) chunks.push(chunk as Buffer);
      return parseWav(Buffer.concat(chunks));
    });
    expect(wav.sampleRate).toBe(8000);
    expect(wav.samples.length).toBe(1.5 * 8000);
  });

  it('a \\Seen set in the mail client marks the message heard and puts the lamp out (NOTIFY "no")', async () => {
    const msg = await store.deposit(newMessage(store.tmpDir));
    const email = await until('the email', emailOf(ALICE, msg.id));
    await waitFor(() => pbx.notifies.some((n) => n.mailbox === '27000' && n.waiting), 'the lamp on');
    // Everything else in the mailbox is read too, so that the lamp has a reason to go out.
    for (const m of await store.listMessages('27000', 'new')) if (m.id !== msg.id) await store.markHeard(m.id);
    const before = pbx.notifies.length;
    await withClient(ALICE, (c) => c.messageFlagsAdd(String(email.uid), ['\\Seen'], { uid: true }));
    await until('the message heard', async () => ((await store.getMessage(msg.id))?.heard ? true : undefined));
    expect((await store.getMessage(msg.id))?.folder).toBe('saved');
    await waitFor(() => pbx.notifies.slice(before).some((n) => n.mailbox === '27000' && !n.waiting), 'NOTIFY Messages-Waiting: no');
  });

  it('deleting by phone sets \\Deleted on the email (no expunge)', async () => {
    const msg = await store.deposit(newMessage(store.tmpDir));
    await until('the email', emailOf(ALICE, msg.id));
    await store.setFolder(msg.id, 'deleted');
    const email = await until('\\Deleted', emailOf(ALICE, msg.id, (e) => e.deleted));
    expect(email.deleted).toBe(true);
  });

  it('listening by phone sets \\Seen; a mailbox with its own login works the same', async () => {
    const msg = await store.deposit(newMessage(store.tmpDir, { mailbox: '27001' }));
    await until('the email in Bob\'s INBOX', emailOf(BOB, msg.id));
    await store.markHeard(msg.id);
    await until('\\Seen', emailOf(BOB, msg.id, (e) => e.seen));
  });

  it('a caller leaves a message while IMAP is down: the call ends as usual, the email follows once it is back', async () => {
    await dovecot.stop();
    try {
      const call = await runSipp({
        scenario: 'uac-vm-deposit.xml',
        transport: 'udp',
        port: server.port('udp'),
        service: '8000',
        timeoutS: 30,
        extra: ['-key', 'vm_from', '"Carol" <sip:27005@127.0.0.1>', '-key', 'vm_header', 'Diversion: <sip:27000@127.0.0.1;user=phone>;reason=no-answer'],
      });
      expect(call.code, call.stdout).toBe(0);
    } finally {
      await dovecot.start();
    }
    const msg = (await store.listMessages('27000', 'new')).find((m) => m.from === '27005');
    expect(msg).toBeDefined();
    await until('the email of the call', emailOf(ALICE, msg!.id), 25_000);
  }, 60_000);

  it('converges after Dovecot stops and starts: a deposit and a listen made meanwhile, one email each', async () => {
    const heard = await store.deposit(newMessage(store.tmpDir));
    await until('the email', emailOf(ALICE, heard.id));
    await dovecot.stop();
    const during = await store.deposit(newMessage(store.tmpDir));
    await store.markHeard(heard.id);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await dovecot.start();
    await until('the deposit made while down', emailOf(ALICE, during.id), 15_000);
    await until('\\Seen made while down', emailOf(ALICE, heard.id, (e) => e.seen), 15_000);
    const ids = (await emails(ALICE)).map((e) => e.id);
    expect(ids.filter((id) => id === during.id)).toHaveLength(1);
    expect(ids.filter((id) => id === heard.id)).toHaveLength(1);
    expect(new Set(ids).size).toBe(ids.length);
  }, 40_000);
});

describe('a cluster\'s front door', () => {
  it('runs the sync: a deposit made by another process (a worker) reaches IMAP through the queue its commit filled', async () => {
    const cluster = await startCluster({
      workers: 1,
      extraYaml: [
        'mailboxes:',
        `  - { number: "27000", pin: "1234", name: "Alice Example", email: ${ALICE} }`,
        'unifiedMessaging:',
        '  imap:',
        `    { host: 127.0.0.1, port: ${dovecot.port}, tls: none, master: { user: ${MASTER_USER}, password: ${MASTER_PASSWORD} } }`,
      ].join('\n'),
    });
    try {
      await cluster.waitForLog((r) => r.msg === 'unified messaging (IMAP) started', 'the front door\'s IMAP sync', 45_000);
      const worker = await openConfigStore(join(cluster.dir, 'vmpilot.yaml'));
      try {
        const m = await worker.deposit(newMessage(worker.tmpDir));
        await until('the email of the worker\'s deposit', emailOf(ALICE, m.id), 15_000);
      } finally {
        await worker.close();
      }
    } finally {
      await cluster.stop();
      rmSync(cluster.dir, { recursive: true, force: true });
    }
  }, 90_000);
});

/** The sync alone over a fresh store of this process: `maxConnections` held connections, a 1 s sweep. */
async function withOwnSync(maxConnections: number, logins: Map<string, { user: string; password: string }>, fn: (own: SqliteStore, sync: ReturnType<typeof startUnifiedImap>) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vmpilot-imap-sweep-'));
  const own = await openSqliteStore(dir);
  const sync = startUnifiedImap({
    config: {
      host: '127.0.0.1', port: dovecot.port, tls: 'none', rejectUnauthorized: true, master: { user: MASTER_USER, password: MASTER_PASSWORD },
      masterSeparator: '*', userFrom: 'email', folder: 'INBOX', sweepSeconds: 1, maxConnections,
    },
    store: own,
    logger: pino({ level: process.env.VMPILOT_TEST_LOG ?? 'silent' }),
    logins,
    timeZone: 'UTC',
  });
  try {
    await own.createMailbox({ number: '27000', name: 'Alice', pin: '2580', email: ALICE });
    await own.createMailbox({ number: '27001', name: 'Bob', pin: '2580', email: BOB });
    await fn(own, sync);
  } finally {
    await sync.close();
    await own.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the sync alone (1 s sweep)', () => {
  it('a \\Seen on a mailbox without a held connection reaches the store through the sweep', async () => {
    await withOwnSync(1, new Map(), async (own, sync) => {
      const a = await own.deposit(newMessage(own.tmpDir, { mailbox: '27000' }));
      sync.onDeposit(a);
      const email = await until('Alice\'s email', emailOf(ALICE, a.id));
      // Bob's deposit takes the only held connection: Alice's IDLE ends.
      const b = await own.deposit(newMessage(own.tmpDir, { mailbox: '27001' }));
      sync.onDeposit(b);
      await until('Bob\'s email', emailOf(BOB, b.id));
      await withClient(ALICE, (c) => c.messageFlagsAdd(String(email.uid), ['\\Seen'], { uid: true }));
      await until('Alice\'s message heard (by the sweep)', async () => ((await own.getMessage(a.id))?.heard ? true : undefined), 8000);
    });
  });
});
