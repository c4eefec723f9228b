/*
 * Whole-store replicas (src/store/replica/): the SQLite replica, reconcile() and compareStores() on real
 * stores in temporary folders.
 *
 * Covers: a copy into an empty store keeps every field (ids, times, folders, flags, PIN hash, aliases,
 * quotas, greetings and recorded names with their audio bytes, MWI subscriptions, the directory's ownership) and
 * compares identical; a change of ownership is listed by compare and settled; pending IMAP appends are carried;
 * after changes on the source (deposits, reads, folder moves, purges, a mailbox changed, its PIN, an alias moved
 * to another mailbox, a greeting replaced and one removed, a mailbox removed) compare lists each difference
 * and one pass settles them all; a pass limited to one mailbox touches only it; compare catches audio damaged on
 * one side (same size) and audio missing; a renumbered mailbox's messages follow it (no file left behind); a PIN change reaches another process's change feed (the mirror's
 * trigger).
 *
 * Does not cover: the CLI and the mirror process (test/integration/store-mirror.test.ts).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordingIn } from '../helpers/store-fixture.js';
import { messageAudioPath } from '../../src/store/layout.js';
import { compareStores } from '../../src/store/replica/compare.js';
import { reconcile } from '../../src/store/replica/reconcile.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';

let source: SqliteStore;
let target: SqliteStore;
const dirs: string[] = [];

const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'vmpilot-replica-'));
  dirs.push(d);
  return d;
};

async function deposit(mailbox: string, ms = 200, urgent = false): Promise<string> {
  const m = await source.deposit({ mailbox, from: '4455', fromName: 'Bob', durationMs: ms, urgent, reason: 'busy', audioFile: recordingIn(source.tmpDir, ms) });
  return m.id;
}

beforeEach(async () => {
  source = await openSqliteStore(tempDir());
  target = await openSqliteStore(tempDir());
  await source.createMailbox({ number: '27000', name: 'Alice', pin: '2580', email: 'alice@example.com', aliases: ['5550000'] });
  await source.createMailbox({ number: '27001', name: 'Bob', pin: '1357' });
  await source.updateMailbox('27001', { maxMessages: 7, maxMinutes: 3, hiddenFromDirectory: true, setupDone: true, emailAttachAudio: true });
  await source.setGreeting('27000', 'name', recordingIn(source.tmpDir, 300));
  await source.setGreeting('27000', 'temporary', recordingIn(source.tmpDir, 400), Date.now() + 3_600_000);
  await source.saveSubscriptions([{ id: 'call-1;tag', mailbox: '27000', source: '127.0.0.1', expiresAt: Date.now() + 60_000, data: '{"x":1}' }], []);
  await source.saveDirectoryOwned([{ entryId: 'uuid-bob', number: '27001', dn: 'uid=bob,dc=example,dc=com', disabled: false }], []);
  for (let i = 0; i < 6; i++) await deposit(i % 2 ? '27000' : '27001', 100 + i * 20, i === 3);
});

afterEach(async () => {
  await source.close();
  await target.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('a copy into an empty store', () => {
  it('carries the pending IMAP appends with their attempts and retry time, not their leases; a pass over one mailbox only its own', async () => {
    const [a] = await source.listMessages('27000');
    const [b] = await source.listMessages('27001');
    await source.enqueueImapAppend(a!.id, '27000');
    await source.enqueueImapAppend(b!.id, '27001');
    const now = Date.now();
    await source.claimImapAppend('host-a', now, 60_000);
    await source.retryImapAppend(a!.id, now + 5000, 'connection refused');
    expect(await reconcile(source.replica(), target.replica())).toMatchObject({ imapAppendsReplaced: true });
    expect(await target.replica().imapAppends()).toEqual(await source.replica().imapAppends());
    expect(await target.claimImapAppend('restored', now + 5000, 60_000)).toEqual({ messageId: b!.id, mailbox: '27001', attempts: 1 });

    await source.finishImapAppend(a!.id);
    const one = await reconcile(source.replica(), target.replica(), { mailboxes: ['27000'] });
    expect(one.imapAppendsReplaced).toBe(true);
    expect((await target.replica().imapAppends()).map((x) => x.messageId)).toEqual([b!.id]);
  });

  it('a change of the directory\'s ownership is listed by compare and settled by one pass', async () => {
    await reconcile(source.replica(), target.replica());
    await source.saveDirectoryOwned([{ entryId: 'uuid-bob', number: '27001', dn: 'uid=bob,dc=example,dc=com', disabled: true }], []);
    expect((await compareStores(source.replica(), target.replica())).differences).toEqual([{ what: 'directory ownership', key: 'uuid-bob', detail: 'disabled: true / false' }]);
    expect(await reconcile(source.replica(), target.replica())).toMatchObject({ ownershipReplaced: true });
    expect((await compareStores(source.replica(), target.replica())).differences).toEqual([]);
  });

  it('keeps every field and every audio byte, and compares identical', async () => {
    const first = (await source.listMessages('27000'))[0]!;
    await source.markHeard(first.id);
    const result = await reconcile(source.replica(), target.replica(), { subscriptions: true });
    expect(result).toMatchObject({ mailboxesPut: 2, messagesCopied: 6, greetingsPut: 2, subscriptionsReplaced: true, ownershipReplaced: true });

    expect(await target.listMailboxes()).toEqual(
      (await source.listMailboxes()).map((m) => ({
        ...m,
        greetings: Object.fromEntries(Object.entries(m.greetings).map(([k, p]) => [k, p.replace(source.layout.dir, target.layout.dir)])),
      })),
    );
    const copied = await target.getMessage(first.id);
    expect(copied).toMatchObject({ folder: 'saved', heard: true, receivedAt: first.receivedAt, durationMs: first.durationMs });
    expect(readFileSync(copied!.audioPath)).toEqual(readFileSync(first.audioPath));
    // The copy is a working store: the PIN's hash came along.
    expect((await target.findMailbox('5550000'))?.number).toBe('27000');
    expect(await target.listSubscriptions()).toEqual(await source.listSubscriptions());
    // The directory's ownership came along: a site moved to another store keeps its directory's mailboxes.
    expect(await target.listDirectoryOwned()).toEqual(await source.listDirectoryOwned());

    const comparison = await compareStores(source.replica(), target.replica());
    expect(comparison.differences).toEqual([]);
    expect(comparison.counts.a).toEqual(comparison.counts.b);
    expect(comparison.counts.a).toMatchObject({ mailboxes: 2, messages: 6, greetings: 2, subscriptions: 1 });
  });
});

describe('after changes on the source', () => {
  it('compare lists each difference, and one pass settles them all', async () => {
    await reconcile(source.replica(), target.replica());
    const [a, b] = await source.listMessages('27000');
    const c = (await source.listMessages('27001'))[0]!;
    const added = await deposit('27000');
    await source.markHeard(a!.id);
    await source.setFolder(b!.id, 'deleted');
    await source.setFolder(c.id, 'deleted');
    await source.purgeDeleted('27001');
    await source.updateMailbox('27000', { name: 'Alice Cooper', aliases: [] });
    await source.createMailbox({ number: '27002', name: 'Carol', pin: '9753', aliases: ['5550000'] });
    await source.setPin('27001', '8642');
    await source.setGreeting('27000', 'name', recordingIn(source.tmpDir, 500));
    await source.setGreeting('27000', 'temporary', undefined);
    // A mailbox removed on the source (the replica is the only way to remove one today).
    await target.replica().putMailbox({ ...(await source.replica().mailbox('27002'))!, number: '29999', aliases: [] });

    const before = await compareStores(source.replica(), target.replica(), { names: ['primary', 'standby'] });
    const keys = before.differences.map((d) => `${d.what} ${d.key}: ${d.detail}`);
    expect(keys).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^mailbox 27000: name: "Alice" \/ "Alice Cooper"|^mailbox 27000: .*name/),
        'mailbox 27002: only on the primary',
        'mailbox 29999: only on the standby',
        expect.stringMatching(/^mailbox 27001: pinHash/),
        `message ${added}: only on the primary`,
        `message ${c.id}: only on the standby`,
        expect.stringMatching(new RegExp(`^message ${a!.id}: folder: "new" / "saved"|^message ${a!.id}: .*folder`)),
        expect.stringMatching(new RegExp(`^message ${b!.id}: folder`)),
        'greeting 27000/name: audio differs',
        'greeting 27000/temporary: only on the standby',
      ]),
    );

    const result = await reconcile(source.replica(), target.replica(), { subscriptions: true });
    expect(result).toMatchObject({ mailboxesPut: 3, mailboxesRemoved: 1, messagesCopied: 1, messagesUpdated: 2, messagesRemoved: 1, greetingsPut: 1, greetingsRemoved: 1 });
    expect((await compareStores(source.replica(), target.replica())).differences).toEqual([]);
    expect((await target.findMailbox('5550000'))?.number).toBe('27002');
    // The purged message's audio left the target too.
    expect(() => readFileSync(messageAudioPath(target.layout, '27001', c.id))).toThrow(/ENOENT/);
  });

  it('a pass limited to one mailbox touches only that mailbox', async () => {
    await reconcile(source.replica(), target.replica());
    await deposit('27000');
    await deposit('27001');
    const result = await reconcile(source.replica(), target.replica(), { mailboxes: ['27001'], mailboxFields: false });
    expect(result.messagesCopied).toBe(1);
    const left = (await compareStores(source.replica(), target.replica())).differences;
    expect(left).toHaveLength(1);
    expect(left[0]).toMatchObject({ what: 'message', detail: 'only on the a' });
  });
});

describe('a renumbered mailbox', () => {
  it('moves its messages on the target, whole-store or mailbox by mailbox, leaving no file in the old folder', async () => {
    for (const perMailbox of [false, true]) {
      await reconcile(source.replica(), target.replica());
      const [from, to] = perMailbox ? ['27010', '27000'] : ['27000', '27010'];
      await source.renumberMailbox(from, to);
      if (perMailbox) {
        // The mirror's order of events is either; the new number first is the harder one.
        await reconcile(source.replica(), target.replica(), { mailboxes: [to] });
        await reconcile(source.replica(), target.replica(), { mailboxes: [from] });
      } else {
        await reconcile(source.replica(), target.replica());
      }
      expect((await compareStores(source.replica(), target.replica())).differences).toEqual([]);
      expect(existsSync(join(target.layout.messagesDir, from)) ? readdirSync(join(target.layout.messagesDir, from)) : []).toEqual([]);
    }
  });
});

describe('compare', () => {
  it('catches audio damaged on one side (same length) and audio missing', async () => {
    await reconcile(source.replica(), target.replica());
    const [x, y] = await target.listMessages('27001');
    const bytes = readFileSync(x!.audioPath);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(x!.audioPath, bytes);
    rmSync(y!.audioPath);
    const { differences } = await compareStores(source.replica(), target.replica(), { names: ['primary', 'standby'] });
    expect(differences).toEqual(
      expect.arrayContaining([
        { what: 'message', key: x!.id, detail: 'audio differs' },
        { what: 'message', key: y!.id, detail: 'audio missing on the standby' },
      ]),
    );
    expect(differences).toHaveLength(2);
  });
});

describe('the change feed', () => {
  it("announces a PIN change to another process's store (the mirror copies it)", async () => {
    const watcher = await openSqliteStore(source.layout.dir, { watchChangesMs: 20 });
    try {
      const heard = new Promise<string>((resolve) => watcher.events.on('mailbox', resolve));
      await source.setPin('27001', '8642');
      expect(await heard).toBe('27001');
    } finally {
      await watcher.close();
    }
  });
});
