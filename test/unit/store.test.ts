/*
 * The message store's behaviour, the same tests run against each engine (test/helpers/store-engines.ts): SQLite
 * (src/store/sqlite.ts) in a temporary folder and PostgreSQL (src/store/postgres.ts) in a fresh database of a
 * throwaway server with its local files in a temporary folder. Real database, real files.
 *
 * Covers: opening (folders, schema version, reopening keeps everything, a database from a newer version
 * refused); mailboxes (create, aliases, one numbering plan, provision updating name/email/aliases but never
 * a changed PIN, updateMailbox); PIN checks (ok / wrong / never locked by failures / an administrator's
 * lock / reset by a good PIN; the back-off itself: test/unit/pin-backoff.test.ts); greetings (stored,
 * replaced, deleted, temporary with its end time);
 * deposit (audio moved into place, copy with keepAudioFile, the recording's own sidecar removed, an unknown
 * mailbox); play order (urgent first, then oldest; 'all' = new then saved);
 * folders and heard (heard moves new to saved, back to new is unheard, deleted out of 'all'); quotas (count
 * and minutes, the mailbox's own limit over the store default, 0 = none, hasRoom agreeing with deposit,
 * concurrent deposits for the last slot); purge and expire (rows and files gone); 'counts' events on every
 * change and a throwing listener not breaking the store; a second process (as `vmpilot messages`, or another
 * host for PostgreSQL) seeing deposits at once; figures: deposit time.
 * Engine-specific: SQLite's WAL mode and message sidecars; PostgreSQL's audio fetched to another host's cache.
 *
 * Does not cover: repair after a crash (store-repair.test.ts, store-postgres.test.ts); PIN policy and hash
 * format (pin.test.ts); the CLI (test/integration/cli-mailbox.test.ts); a real power cut (fsync is called; its
 * effect is not testable).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newMessage, recordingIn } from '../helpers/store-fixture.js';
import { storeEngines, type StorePlace } from '../helpers/store-engines.js';
import { NoSuchMessageError, NumberInUseError } from '../../src/store/errors.js';
import { isMessageId } from '../../src/store/message-id.js';
import { DEFAULT_PIN_BACKOFF } from '../../src/store/pin-backoff.js';
import { writeRecordingSidecar } from '../../src/store/recording-sidecar.js';
import { SCHEMA_VERSION, SchemaTooNewError } from '../../src/store/schema.sql.js';
import { MailboxFullError, NoSuchMailboxError, type CallRecord, type MessageCounts, type MessageStore, type NewMessage } from '../../src/store/types.js';
import { pinVerdict } from '../helpers/pin-check.js';

describe.each(storeEngines())('the $name store', (engine) => {
  let place: StorePlace;
  let dir: string;
  let store: MessageStore;

  function recording(ms: number, name?: string): string {
    return recordingIn(store.tmpDir, ms, name);
  }

  function message(overrides: Partial<NewMessage> = {}): NewMessage {
    return newMessage(store.tmpDir, overrides);
  }

  beforeEach(async () => {
    place = await engine.place();
    dir = place.dir;
    store = await engine.open(place);
    await store.createMailbox({ number: '27000', name: 'Alice Example', pin: '2580', email: 'alice@example.com', aliases: ['+4687270000'] });
  });

  afterEach(async () => {
    await store.close();
  });

  describe('opening', () => {
    it('makes folders for messages, greetings and this process\'s temporary recordings', () => {
      for (const d of ['messages', 'greetings', 'tmp']) expect(existsSync(join(dir, d))).toBe(true);
      // This process's own folder for recordings in progress (store/owner.ts).
      expect(store.tmpDir).toMatch(new RegExp(`^${join(dir, 'tmp')}/pid-${process.pid}-\\d+$`));
    });

    if (engine.name === 'sqlite') {
      it('creates vmpilot.db in WAL mode at the current schema version', () => {
        const db = new Database(join(dir, 'vmpilot.db'), { readonly: true });
        expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
        expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
        db.close();
      });
    }

    it('keeps mailboxes and messages across a close and reopen', async () => {
      const m = await store.deposit(message());
      await store.close();
      store = await engine.open(place);
      expect((await store.findMailbox('27000'))?.name).toBe('Alice Example');
      expect(await store.getMessage(m.id)).toEqual(m);
    });

    it('refuses a database written by a newer version', async () => {
      await store.close();
      await markSchemaVersion(place, 99);
      await expect(engine.open(place)).rejects.toBeInstanceOf(SchemaTooNewError);
      store = await engine.open(await engine.place());
    });
  });

  describe('mailboxes', () => {
    it('creates a mailbox that must change its PIN, with its aliases, found by number or alias', async () => {
      const mb = await store.findMailbox('+4687270000');
      expect(mb).toMatchObject({
        number: '27000',
        name: 'Alice Example',
        email: 'alice@example.com',
        aliases: ['+4687270000'],
        mustChangePin: true,
        setupDone: false,
        failedLogins: 0,
        locked: false,
        greetings: {},
        maxMessages: 0,
        maxMinutes: 0,
        hiddenFromDirectory: false,
        emailAttachAudio: false,
      });
      expect(mb!.pinHash).toMatch(/^scrypt\$/);
      expect(await store.findMailbox('27001')).toBeUndefined();
    });

    it('rejects a number or alias that is already a mailbox number or alias', async () => {
      await expect(store.createMailbox({ number: '27000', name: 'X', pin: '1111' })).rejects.toThrow('mailbox 27000 already exists');
      await expect(store.createMailbox({ number: '+4687270000', name: 'X', pin: '1111' })).rejects.toBeInstanceOf(NumberInUseError);
      await expect(store.createMailbox({ number: '27001', name: 'X', pin: '1111', aliases: ['27000'] })).rejects.toThrow(/already exists/);
      // Nothing half-created.
      expect(await store.findMailbox('27001')).toBeUndefined();
    });

    it('rejects a mailbox number that is not a dial string (it names a folder)', async () => {
      await expect(store.createMailbox({ number: '../x', name: 'X', pin: '1111' })).rejects.toBeInstanceOf(TypeError);
    });

    it('lists mailboxes in number order', async () => {
      await store.createMailbox({ number: '1000', name: 'Reception', pin: '1111' });
      expect((await store.listMailboxes()).map((m) => m.number)).toEqual(['1000', '27000']);
    });

    it('lists each mailbox with its own aliases and greetings, as findMailbox gives them', async () => {
      await store.createMailbox({ number: '1000', name: 'Reception', pin: '1111', aliases: ['+4681000', '0810'] });
      await store.setGreeting('27000', 'name', recording(100));
      await store.setGreeting('1000', 'busy', recording(100));
      expect(await store.listMailboxes()).toEqual([await store.findMailbox('1000'), await store.findMailbox('27000')]);
    });

    it('provision creates missing mailboxes and updates name, email and aliases but never a changed PIN', async () => {
      await store.setPin('27000', '9371');
      await store.provision([
        { number: '27000', name: 'Alice Renamed', pin: '1234', aliases: ['27999'] },
        { number: '27001', name: 'Bob', pin: '1234' },
      ]);
      const alice = (await store.findMailbox('27000'))!;
      expect(alice).toMatchObject({ name: 'Alice Renamed', aliases: ['27999'], mustChangePin: false });
      expect(alice.email).toBeUndefined();
      expect(await pinVerdict(store, '27000', '9371')).toBe('ok');
      expect(await pinVerdict(store, '27000', '1234')).toBe('wrong');
      expect(await store.findMailbox('+4687270000')).toBeUndefined();
      expect(await pinVerdict(store, '27001', '1234')).toBe('ok');
      expect((await store.findMailbox('27001'))!.mustChangePin).toBe(true);
    });

    it('updateMailbox changes the fields given and leaves the rest', async () => {
      const mb = await store.updateMailbox('27000', { setupDone: true, hiddenFromDirectory: true, maxMessages: 3, email: undefined });
      expect(mb).toMatchObject({ setupDone: true, hiddenFromDirectory: true, maxMessages: 3, name: 'Alice Example', aliases: ['+4687270000'] });
      expect(mb.email).toBeUndefined();
      await expect(store.updateMailbox('27001', { name: 'x' })).rejects.toBeInstanceOf(NoSuchMailboxError);
    });
  });

  describe('checkPin', () => {
    it("answers 'ok' with the mailbox for the right PIN and 'wrong' for another", async () => {
      const ok = await store.checkPin({ number: '+4687270000', pin: '2580', source: 's', policy: DEFAULT_PIN_BACKOFF });
      expect(ok.verdict === 'ok' && ok.mailbox.number).toBe('27000');
      expect(await pinVerdict(store, '27000', '2581')).toBe('wrong');
      expect((await store.findMailbox('27000'))!.failedLogins).toBe(1);
    });

    it('never locks: past every threshold the right PIN still opens the mailbox once the delay is over', async () => {
      const policy = { ...DEFAULT_PIN_BACKOFF, sourceAfter: 1, mailboxAfter: 1, firstDelayMs: 1, maxDelayMs: 1 };
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 5));
        expect(await pinVerdict(store, '27000', '0000', 's', policy)).toBe('wrong');
      }
      await new Promise((r) => setTimeout(r, 5));
      expect(await pinVerdict(store, '27000', '2580', 's', policy)).toBe('ok');
      expect(await store.findMailbox('27000')).toMatchObject({ locked: false, failedLogins: 0 });
    });

    it('counts every failure when several calls guess at once', async () => {
      const results = await Promise.all([1, 2, 3, 4, 5].map((i) => pinVerdict(store, '27000', `000${i}`, `s${i}`)));
      expect(results).toEqual(['wrong', 'wrong', 'wrong', 'wrong', 'wrong']);
      expect((await store.findMailbox('27000'))!.failedLogins).toBe(5);
      expect((await store.counters()).pinFailures).toBe(5);
    });

    it('a good PIN resets the failure count', async () => {
      await pinVerdict(store, '27000', '0000');
      await pinVerdict(store, '27000', '0000');
      expect(await pinVerdict(store, '27000', '2580')).toBe('ok');
      expect((await store.findMailbox('27000'))!.failedLogins).toBe(0);
    });

    it('an administrator lock (locked) opens to no PIN, and answers like a wrong one', async () => {
      await store.updateMailbox('27000', { locked: true });
      expect(await pinVerdict(store, '27000', '2580')).toBe('wrong');
      await store.updateMailbox('27000', { locked: false });
      expect(await pinVerdict(store, '27000', '2580')).toBe('ok');
    });

    it('setPin replaces the PIN and clears mustChangePin', async () => {
      await store.setPin('+4687270000', '9371');
      expect(await pinVerdict(store, '27000', '2580')).toBe('wrong');
      expect(await pinVerdict(store, '27000', '9371')).toBe('ok');
      expect((await store.findMailbox('27000'))!.mustChangePin).toBe(false);
    });

    it("answers an unknown mailbox 'wrong' (no error that would tell it apart)", async () => {
      expect(await pinVerdict(store, '1', '2580')).toBe('wrong');
    });
  });

  describe('greetings', () => {
    it('takes over the recorded file as greetings/<mailbox>/<kind>[-<audio id>].wav', async () => {
      const rec = recording(100);
      const content = readFileSync(rec);
      await store.setGreeting('27000', 'busy', rec);
      const greetings = (await store.findMailbox('27000'))!.greetings;
      expect(Object.keys(greetings)).toEqual(['busy']);
      expect(greetings.busy).toMatch(new RegExp(`^${join(dir, 'greetings', '27000')}/busy(-[0-9A-Z]{26})?\\.wav$`));
      expect(readFileSync(greetings.busy!)).toEqual(content);
      expect(existsSync(rec)).toBe(false);
    });

    it('replaces a greeting, and deletes it (file and all) when given no file', async () => {
      await store.setGreeting('27000', 'name', recording(100));
      const second = recording(200);
      const content = readFileSync(second);
      await store.setGreeting('27000', 'name', second);
      const path = (await store.findMailbox('27000'))!.greetings.name!;
      expect(readFileSync(path)).toEqual(content);
      expect(readdirSync(join(dir, 'greetings', '27000'))).toHaveLength(1);
      await store.setGreeting('27000', 'name', undefined);
      expect((await store.findMailbox('27000'))!.greetings).toEqual({});
      expect(existsSync(path)).toBe(false);
    });

    it('keeps the temporary greeting with its end time, and clears the time when it is deleted', async () => {
      await store.setGreeting('27000', 'temporary', recording(100), 1_900_000_000_000);
      expect(await store.findMailbox('27000')).toMatchObject({ temporaryGreetingUntil: 1_900_000_000_000 });
      await store.setGreeting('27000', 'temporary', undefined);
      expect((await store.findMailbox('27000'))!.temporaryGreetingUntil).toBeUndefined();
    });
  });

  describe('deposit', () => {
    it('moves the audio to messages/<mailbox>/<id>.wav, and returns the new message', async () => {
      const rec = recording(300);
      const content = readFileSync(rec);
      const before = Date.now();
      const m = await store.deposit(message({ audioFile: rec, mailbox: '+4687270000', forwardedFrom: '27005' }));
      expect(isMessageId(m.id)).toBe(true);
      expect(m).toMatchObject({ mailbox: '27000', folder: 'new', from: '4455', fromName: 'Bob', durationMs: 2000, urgent: false, heard: false, reason: 'no-answer', forwardedFrom: '27005' });
      expect(m.receivedAt).toBeGreaterThanOrEqual(before);
      expect(m.audioPath).toBe(join(dir, 'messages', '27000', `${m.id}.wav`));
      expect(readFileSync(m.audioPath)).toEqual(content);
      expect(existsSync(rec)).toBe(false);
      const sidecar = join(dir, 'messages', '27000', `${m.id}.json`);
      if (engine.name === 'sqlite') {
        // Beside the audio for good: repair re-attaches audio whose row was lost.
        expect(JSON.parse(readFileSync(sidecar, 'utf8'))).toMatchObject({ id: m.id, mailbox: '27000', from: '4455', durationMs: 2000, forwardedFrom: '27005' });
      } else {
        // Removed once committed: a sidecar marks a deposit not yet in the database.
        expect(existsSync(sidecar)).toBe(false);
      }
      expect(await store.getMessage(m.id)).toEqual(m);
    });

    it('copies instead of moving with keepAudioFile (one recording to several mailboxes)', async () => {
      await store.createMailbox({ number: '27001', name: 'Bob', pin: '1111' });
      const rec = recording(100);
      const a = await store.deposit(message({ audioFile: rec, keepAudioFile: true }));
      const b = await store.deposit(message({ audioFile: rec, mailbox: '27001', keepAudioFile: true }));
      expect(existsSync(rec)).toBe(true);
      expect(readFileSync(a.audioPath)).toEqual(readFileSync(rec));
      expect(readFileSync(b.audioPath)).toEqual(readFileSync(rec));
      expect(readdirSync(join(dir, 'messages', '27000')).some((f) => f.endsWith('.part'))).toBe(false);
    });

    it("removes the recording's own sidecar from tmp once the message is stored", async () => {
      const rec = recording(100);
      await writeRecordingSidecar(rec, { mailbox: '27000', from: '4455', fromName: 'Bob', reason: 'busy', urgent: false, receivedAt: 1 });
      await store.deposit(message({ audioFile: rec }));
      expect(readdirSync(store.tmpDir)).toEqual([]);
    });

    it('keeps the given receivedAt', async () => {
      const m = await store.deposit(message({ receivedAt: 1_700_000_000_000 }));
      expect(m.receivedAt).toBe(1_700_000_000_000);
    });

    it('rejects an unknown mailbox and leaves a file the caller keeps where it was', async () => {
      const rec = recording(100);
      await expect(store.deposit(message({ mailbox: '99', audioFile: rec, keepAudioFile: true }))).rejects.toBeInstanceOf(NoSuchMailboxError);
      expect(existsSync(rec)).toBe(true);
    });

    it("rejects an unknown mailbox and keeps its own recording in orphans/ (deleted during the call: mailbox-gone.ts)", async () => {
      const rec = recording(100);
      await expect(store.deposit(message({ mailbox: '99', audioFile: rec }))).rejects.toBeInstanceOf(NoSuchMailboxError);
      expect(existsSync(rec)).toBe(false);
      expect(readdirSync(join(dir, 'orphans', '99'))).toEqual([basename(rec)]);
    });

    it('rejects a recording that does not exist without leaving a sidecar or a row', async () => {
      await expect(store.deposit(message({ audioFile: join(store.tmpDir, 'nope.wav') }))).rejects.toThrow(/ENOENT/);
      const folder = join(dir, 'messages', '27000');
      expect(existsSync(folder) ? readdirSync(folder) : []).toEqual([]);
      expect(await store.listMessages('27000')).toEqual([]);
    });

    it('takes a few ms, most of it fsync (figure printed)', async () => {
      const runs = 10;
      const recs = Array.from({ length: runs }, () => recording(1000));
      // The row commit (WAL fsync) is synchronous: the event loop's longest stall shows what it costs calls.
      const loop = monitorEventLoopDelay({ resolution: 1 });
      loop.enable();
      const start = performance.now();
      for (const rec of recs) await store.deposit(message({ audioFile: rec }));
      const per = (performance.now() - start) / runs;
      loop.disable();
      process.stdout.write(
        `deposit (1 s message, sidecar + audio + dir fsync + row commit): ${per.toFixed(1)} ms each; longest event-loop stall ${(loop.max / 1e6).toFixed(1)} ms\n`,
      );
      expect(await store.listMessages('27000')).toHaveLength(runs);
    });
  });

  describe('listMessages', () => {
    it('plays urgent messages first, then oldest first', async () => {
      const old = await store.deposit(message({ receivedAt: 1000 }));
      const urgentNewer = await store.deposit(message({ receivedAt: 3000, urgent: true }));
      const newer = await store.deposit(message({ receivedAt: 2000 }));
      const urgentOlder = await store.deposit(message({ receivedAt: 2500, urgent: true }));
      expect((await store.listMessages('27000', 'new')).map((m) => m.id)).toEqual([urgentOlder.id, urgentNewer.id, old.id, newer.id]);
    });

    it("with no folder lists new then saved, without deleted ones; a folder lists only that folder", async () => {
      const saved = await store.deposit(message({ receivedAt: 1000 }));
      const fresh = await store.deposit(message({ receivedAt: 2000 }));
      const deleted = await store.deposit(message({ receivedAt: 500 }));
      await store.setFolder(saved.id, 'saved');
      await store.setFolder(deleted.id, 'deleted');
      expect((await store.listMessages('27000')).map((m) => m.id)).toEqual([fresh.id, saved.id]);
      expect((await store.listMessages('27000', 'deleted')).map((m) => m.id)).toEqual([deleted.id]);
      expect((await store.listMessages('27000', 'saved')).map((m) => m.folder)).toEqual(['saved']);
    });

    it('rejects an unknown mailbox', async () => {
      await expect(store.listMessages('99')).rejects.toBeInstanceOf(NoSuchMailboxError);
    });
  });

  describe('folders, heard and urgent', () => {
    it('markHeard moves a new message to saved and marks it heard', async () => {
      const m = await store.deposit(message());
      await store.markHeard(m.id);
      expect(await store.getMessage(m.id)).toMatchObject({ folder: 'saved', heard: true });
    });

    it('moving a message back to new makes it unheard again', async () => {
      const m = await store.deposit(message());
      await store.markHeard(m.id);
      await store.setFolder(m.id, 'new');
      expect(await store.getMessage(m.id)).toMatchObject({ folder: 'new', heard: false });
    });

    it('deleting is undoable until purge', async () => {
      const m = await store.deposit(message());
      await store.setFolder(m.id, 'deleted');
      await store.setFolder(m.id, 'saved');
      expect((await store.getMessage(m.id))!.folder).toBe('saved');
      expect(existsSync(m.audioPath)).toBe(true);
    });

    it('setUrgent changes the order of play', async () => {
      const a = await store.deposit(message({ receivedAt: 1 }));
      const b = await store.deposit(message({ receivedAt: 2 }));
      await store.setUrgent(b.id, true);
      expect((await store.listMessages('27000')).map((m) => m.id)).toEqual([b.id, a.id]);
    });

    it('rejects an unknown message id', async () => {
      await expect(store.setFolder('01J00000000000000000000000', 'saved')).rejects.toBeInstanceOf(NoSuchMessageError);
      await expect(store.markHeard('nope')).rejects.toBeInstanceOf(NoSuchMessageError);
      expect(await store.getMessage('nope')).toBeUndefined();
    });
  });

  describe('quotas', () => {
    it("refuses a deposit beyond the store's default message count, and hasRoom agrees", async () => {
      await store.close();
      store = await engine.open(place, { maxMessages: 2 });
      await store.deposit(message());
      expect(await store.hasRoom('27000')).toBe(true);
      await store.deposit(message());
      expect(await store.hasRoom('27000')).toBe(false);
      const rec = recording(100);
      await expect(store.deposit(message({ audioFile: rec }))).rejects.toBeInstanceOf(MailboxFullError);
      expect(existsSync(rec)).toBe(true);
    });

    it("uses the mailbox's own limit when it has one, and counts only new and saved", async () => {
      await store.close();
      store = await engine.open(place, { maxMessages: 1 });
      await store.updateMailbox('27000', { maxMessages: 2 });
      const first = await store.deposit(message());
      await store.deposit(message());
      expect(await store.hasRoom('27000')).toBe(false);
      await store.setFolder(first.id, 'deleted');
      expect(await store.hasRoom('27000')).toBe(true);
    });

    it('refuses once the minutes are used up (the message that crosses the limit is kept)', async () => {
      await store.close();
      store = await engine.open(place, { maxMinutes: 1 });
      await store.deposit(message({ durationMs: 50_000 }));
      expect(await store.hasRoom('27000')).toBe(true);
      await store.deposit(message({ durationMs: 20_000 }));
      expect(await store.hasRoom('27000')).toBe(false);
      await expect(store.deposit(message({ durationMs: 1000 }))).rejects.toBeInstanceOf(MailboxFullError);
    });

    it('has no limit when both the mailbox and the store say 0', async () => {
      for (let i = 0; i < 5; i++) await store.deposit(message({ durationMs: 3_600_000 }));
      expect(await store.hasRoom('27000')).toBe(true);
    });

    it('lets only one of two simultaneous deposits take the last slot', async () => {
      await store.updateMailbox('27000', { maxMessages: 1 });
      const results = await Promise.allSettled([store.deposit(message()), store.deposit(message())]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect(await store.listMessages('27000')).toHaveLength(1);
    });
  });

  describe('purgeDeleted and expire', () => {
    it('purge removes deleted messages for good: rows, audio (and sidecars)', async () => {
      const keep = await store.deposit(message());
      const gone = await store.deposit(message());
      await store.setFolder(gone.id, 'deleted');
      expect(await store.purgeDeleted('27000')).toBe(1);
      expect(await store.getMessage(gone.id)).toBeUndefined();
      const kept = engine.name === 'sqlite' ? [`${keep.id}.json`, `${keep.id}.wav`] : [`${keep.id}.wav`];
      expect(readdirSync(join(dir, 'messages', '27000')).sort()).toEqual(kept);
    });

    it('expire removes new and saved messages older than their retention; 0 keeps them', async () => {
      const now = Date.now();
      const day = 86_400_000;
      const oldNew = await store.deposit(message({ receivedAt: now - 10 * day }));
      const recentNew = await store.deposit(message({ receivedAt: now - 2 * day }));
      const oldSaved = await store.deposit(message({ receivedAt: now - 40 * day }));
      await store.setFolder(oldSaved.id, 'saved');
      expect(await store.expire(0, 0)).toBe(0);
      expect(await store.expire(7 * day, 30 * day)).toBe(2);
      expect((await store.listMessages('27000')).map((m) => m.id)).toEqual([recentNew.id]);
      expect(existsSync(oldNew.audioPath)).toBe(false);
      expect(existsSync(oldSaved.audioPath)).toBe(false);
    });
  });

  describe("'counts' events", () => {
    it('reports new/saved/urgent counts after every change of them', async () => {
      const seen: [string, MessageCounts][] = [];
      store.events.on('counts', (mailbox, counts) => seen.push([mailbox, counts]));
      const a = await store.deposit(message({ urgent: true }));
      const b = await store.deposit(message({ mailbox: '+4687270000' }));
      await store.markHeard(a.id);
      await store.setUrgent(b.id, true);
      await store.setFolder(b.id, 'deleted');
      await store.purgeDeleted('27000');
      expect(seen).toEqual([
        ['27000', { new: 1, saved: 0, urgentNew: 1, urgentSaved: 0 }],
        ['27000', { new: 2, saved: 0, urgentNew: 1, urgentSaved: 0 }],
        ['27000', { new: 1, saved: 1, urgentNew: 0, urgentSaved: 1 }],
        ['27000', { new: 1, saved: 1, urgentNew: 1, urgentSaved: 1 }],
        ['27000', { new: 0, saved: 1, urgentNew: 0, urgentSaved: 1 }],
        ['27000', { new: 0, saved: 1, urgentNew: 0, urgentSaved: 1 }],
      ]);
      expect(await store.counts('27000')).toEqual({ new: 0, saved: 1, urgentNew: 0, urgentSaved: 1 });
    });

    it('reports expiry', async () => {
      await store.deposit(message({ receivedAt: 1 }));
      const seen: MessageCounts[] = [];
      store.events.on('counts', (_m, c) => seen.push(c));
      await store.expire(1000, 0);
      expect(seen).toEqual([{ new: 0, saved: 0, urgentNew: 0, urgentSaved: 0 }]);
    });

    it('a listener that throws neither fails the deposit nor starves the next listener', async () => {
      const seen: number[] = [];
      store.events.on('counts', () => {
        throw new Error('buggy listener');
      });
      store.events.on('counts', (_m, c) => seen.push(c.new));
      await expect(store.deposit(message())).resolves.toBeDefined();
      expect(seen).toEqual([1]);
    });
  });

  describe('call records', () => {
    const record = (n: number, extra: Partial<CallRecord> = {}): CallRecord => ({
      callId: `c${n}`,
      offeredAt: 1000 * n,
      endedAt: 1000 * n + 500,
      from: '4455',
      to: '27000',
      pilot: '8000',
      app: 'voicemail',
      outcome: 'message',
      detail: '',
      ...extra,
    });

    it('lists records newest first, filtered by time, caller and callee or pilot, and purges by age', async () => {
      await store.addCallRecords([record(1, { answeredAt: 1200, messageId: 'm1', worker: 2 }), record(2, { from: '5566' }), record(3, { to: '27001', pilot: '8001' })]);
      expect((await store.listCallRecords({})).map((r) => r.callId)).toEqual(['c3', 'c2', 'c1']);
      expect((await store.listCallRecords({ since: 2000 })).map((r) => r.callId)).toEqual(['c3', 'c2']);
      expect((await store.listCallRecords({ until: 2000 })).map((r) => r.callId)).toEqual(['c1']);
      expect((await store.listCallRecords({ from: '5566' })).map((r) => r.callId)).toEqual(['c2']);
      expect((await store.listCallRecords({ to: '8001' })).map((r) => r.callId)).toEqual(['c3']);
      expect((await store.listCallRecords({ limit: 1 })).map((r) => r.callId)).toEqual(['c3']);
      expect((await store.listCallRecords({ until: 2000 }))[0]).toEqual(record(1, { answeredAt: 1200, messageId: 'm1', worker: 2 }));
      expect(await store.purgeCallRecords(3000)).toBe(2);
      expect((await store.listCallRecords({})).map((r) => r.callId)).toEqual(['c3']);
    });
  });

  describe('a second process', () => {
    it('sees a deposit as soon as it returns, and can write while the first has the store open', async () => {
      const other = await engine.open(place);
      try {
        const m = await store.deposit(message());
        expect((await other.listMessages('27000')).map((x) => x.id)).toEqual([m.id]);
        await other.updateMailbox('27000', { locked: true });
        expect((await store.findMailbox('27000'))!.locked).toBe(true);
      } finally {
        await other.close();
      }
    });

    if (engine.name === 'postgres') {
      it('on another host, gets playable copies of messages and greetings fetched from the database', async () => {
        const elsewhere = engine.onOtherHost(place);
        const other = await engine.open(elsewhere);
        try {
          const rec = recording(300);
          const audio = readFileSync(rec);
          const m = await store.deposit(message({ audioFile: rec }));
          const greeting = recording(200);
          const greetingAudio = readFileSync(greeting);
          await store.setGreeting('27000', 'name', greeting);
          const seen = (await other.getMessage(m.id))!;
          expect(seen.audioPath).toBe(join(elsewhere.dir, 'messages', '27000', `${m.id}.wav`));
          expect(readFileSync(seen.audioPath)).toEqual(audio);
          expect(readFileSync((await other.findMailbox('27000'))!.greetings.name!)).toEqual(greetingAudio);
          // Re-recorded on the first host: the other host's copy follows, the old one goes.
          const newer = recording(400);
          const newerAudio = readFileSync(newer);
          await store.setGreeting('27000', 'name', newer);
          expect(readFileSync((await other.findMailbox('27000'))!.greetings.name!)).toEqual(newerAudio);
          expect(readdirSync(join(elsewhere.dir, 'greetings', '27000'))).toHaveLength(1);
        } finally {
          await other.close();
        }
      });
    }
  });
});

/** Marks the store's database as written by schema version `version`. */
async function markSchemaVersion(place: StorePlace, version: number): Promise<void> {
  if (place.url === undefined) {
    const db = new Database(join(place.dir, 'vmpilot.db'));
    db.pragma(`user_version = ${version}`);
    db.close();
    return;
  }
  const client = new pg.Client({ connectionString: place.url });
  await client.connect();
  await client.query('UPDATE vmpilot_schema SET version = $1', [version]);
  await client.end();
}
