/**
 * The store's mailbox administration (importMailboxes, deleteMailbox, renumberMailbox, provision's report), the
 * same tests on each engine (test/helpers/store-engines.ts): SQLite in a temporary folder, PostgreSQL in a
 * throwaway server.
 *
 * Covers: importMailboxes (creates and updates at once, an alias moved between its rows; one bad row and
 * nothing is applied); renumberMailbox (messages with audio and sidecars, greetings, aliases, PIN follow; lamps of both
 * numbers announced; its own alias as the new number; a taken number refused with nothing changed);
 * trimRenumbers forgets renumbers older than its cut-off (a late deposit for the old number then finds no mailbox),
 * keeps newer ones (the deposit follows); deleteMailbox removes the row, aliases (freed for reuse), greetings (files too), every message's
 * audio and sidecar, stored MWI subscriptions and the PIN back-off; it announces 'counts' of zero then
 * 'mailbox', here and (through the change feed) to another store instance watching; an alias names the
 * mailbox; an unknown number is NoSuchMailboxError. provision() reports creations and the fields it changed
 * with their old and new values, and nothing for an unchanged mailbox; fields a spec leaves out stay.
 *
 * Does not cover: the CLI (cli-mailbox-edit.test.ts), the server's NOTIFY (mailbox-delete-mwi.test.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NumberInUseError } from '../../src/store/errors.js';
import { RENUMBER_MEMORY_MS } from '../../src/store/mailbox-renumber.js';
import { DEFAULT_PIN_BACKOFF } from '../../src/store/pin-backoff.js';
import { NoSuchMailboxError, type MessageCounts, type MessageStore } from '../../src/store/types.js';
import { storeEngines, type StorePlace } from '../helpers/store-engines.js';
import { newMessage, recordingIn } from '../helpers/store-fixture.js';
import { waitFor } from '../helpers/test-server.js';

describe.each(storeEngines())('the $name store', (engine) => {
  let place: StorePlace;
  let dir: string;
  let store: MessageStore;

  beforeEach(async () => {
    place = await engine.place();
    dir = place.dir;
    store = await engine.open(place);
    await store.createMailbox({ number: '27000', name: 'Alice Example', pin: '2580', email: 'alice@example.com', aliases: ['+4687270000'] });
  });

  afterEach(async () => {
    await store.close();
  });

  describe('deleteMailbox', () => {
    it('removes the mailbox, its messages with their audio, greetings, subscriptions and PIN back-off', async () => {
      const kept = await store.deposit(newMessage(store.tmpDir));
      const heard = await store.deposit(newMessage(store.tmpDir));
      await store.markHeard(heard.id);
      await store.setGreeting('27000', 'unavailable', recordingIn(store.tmpDir, 100));
      await store.saveSubscriptions([{ id: 'sub-1', mailbox: '27000', source: '127.0.0.1', expiresAt: Date.now() + 60_000, data: '{}' }], []);
      await store.checkPin({ number: '27000', pin: '0000', source: '4455', policy: DEFAULT_PIN_BACKOFF });
      const greeting = (await store.findMailbox('27000'))!.greetings.unavailable!;
      expect(existsSync(kept.audioPath) && existsSync(greeting)).toBe(true);

      const deleted = await store.deleteMailbox('+4687270000');

      expect(deleted).toEqual({ number: '27000', messages: 2, greetings: 1 });
      expect(await store.findMailbox('27000')).toBeUndefined();
      expect(await store.findMailbox('+4687270000')).toBeUndefined();
      expect(existsSync(kept.audioPath)).toBe(false);
      expect(existsSync(heard.audioPath)).toBe(false);
      expect(existsSync(join(dir, 'messages', '27000'))).toBe(false);
      expect(existsSync(join(dir, 'greetings', '27000'))).toBe(false);
      expect(await store.getMessage(kept.id)).toBeUndefined();
      expect(await store.listSubscriptions()).toEqual([]);
      // The number and the alias are free again; a new mailbox there starts with no failures and no messages.
      const again = await store.createMailbox({ number: '27000', name: 'New Owner', pin: '9191', aliases: ['+4687270000'] });
      expect(again.failedLogins).toBe(0);
      expect(await store.counts('27000')).toEqual({ new: 0, saved: 0, urgentNew: 0, urgentSaved: 0 });
    });

    it("announces zero counts (the lamp goes off) and then a 'mailbox' change", async () => {
      await store.deposit(newMessage(store.tmpDir));
      const events: string[] = [];
      store.events.on('counts', (n, c) => events.push(`counts ${n} ${c.new}/${c.saved}`));
      store.events.on('mailbox', (n) => events.push(`mailbox ${n}`));
      await store.deleteMailbox('27000');
      expect(events).toEqual(['counts 27000 0/0', 'mailbox 27000']);
    });

    it('is announced to another process watching the store (zero counts, then the mailbox)', async () => {
      await store.deposit(newMessage(store.tmpDir));
      const other = await engine.open(place, { watchChanges: true });
      try {
        const seen: { counts?: MessageCounts; mailbox?: boolean } = {};
        other.events.on('counts', (n, c) => n === '27000' && (seen.counts = c));
        other.events.on('mailbox', (n) => n === '27000' && (seen.mailbox = true));
        await store.deleteMailbox('27000');
        await waitFor(() => seen.counts !== undefined && seen.mailbox === true, 'the other store announcing the deletion');
        expect(seen.counts).toEqual({ new: 0, saved: 0, urgentNew: 0, urgentSaved: 0 });
        expect(await other.findMailbox('27000')).toBeUndefined();
      } finally {
        await other.close();
      }
    });

    it('rejects an unknown number with NoSuchMailboxError and changes nothing', async () => {
      await expect(store.deleteMailbox('99999')).rejects.toBeInstanceOf(NoSuchMailboxError);
      expect(await store.findMailbox('27000')).toBeDefined();
    });
  });

  describe('renumberMailbox', () => {
    it('moves the messages (audio and sidecars), greetings, aliases and PIN to the new number', async () => {
      const m = await store.deposit(newMessage(store.tmpDir));
      await store.markHeard(m.id);
      const urgent = await store.deposit(newMessage(store.tmpDir, { urgent: true }));
      await store.setGreeting('27000', 'name', recordingIn(store.tmpDir, 100));
      const events: string[] = [];
      store.events.on('counts', (n, c) => events.push(`counts ${n} ${c.new}/${c.saved}`));
      store.events.on('mailbox', (n) => events.push(`mailbox ${n}`));

      const moved = await store.renumberMailbox('27000', '27050');

      expect(moved).toMatchObject({ number: '27050', name: 'Alice Example', aliases: ['+4687270000'] });
      expect(await store.findMailbox('27000')).toBeUndefined();
      expect((await store.findMailbox('+4687270000'))?.number).toBe('27050');
      const messages = await store.listMessages('27050');
      expect(messages.map((x) => [x.id, x.folder, x.urgent])).toEqual([
        [urgent.id, 'new', true],
        [m.id, 'saved', false],
      ]);
      for (const x of messages) expect(existsSync(x.audioPath) && x.audioPath.includes(join('messages', '27050'))).toBe(true);
      expect(existsSync(m.audioPath)).toBe(false);
      if (engine.name === 'sqlite') {
        const sidecar = JSON.parse(readFileSync(join(dir, 'messages', '27050', `${m.id}.json`), 'utf8')) as { mailbox: string };
        expect(sidecar.mailbox).toBe('27050');
      }
      expect(existsSync(moved.greetings.name!)).toBe(true);
      expect(await store.counts('27050')).toMatchObject({ new: 1, saved: 1 });
      const check = await store.checkPin({ number: '27050', pin: '2580', source: 'x', policy: DEFAULT_PIN_BACKOFF });
      expect(check.verdict).toBe('ok');
      // The old number's lamp goes off; the new one's shows the messages.
      expect(events).toEqual(['counts 27000 0/0', 'mailbox 27000', 'counts 27050 1/1', 'mailbox 27050']);
    });

    it('trimRenumbers forgets renumbers made before its cut-off and keeps later ones', async () => {
      await store.renumberMailbox('27000', '27050');
      // Kept (made after the cut-off): a deposit for the old number, as from a call that began before, follows.
      expect(await store.trimRenumbers(Date.now() - RENUMBER_MEMORY_MS)).toBe(0);
      expect((await store.deposit(newMessage(store.tmpDir))).mailbox).toBe('27050');

      expect(await store.trimRenumbers(Date.now() + 1)).toBe(1);
      await expect(store.deposit(newMessage(store.tmpDir))).rejects.toBeInstanceOf(NoSuchMailboxError);
      expect((await store.listMessages('27050')).length).toBe(1);
    });

    it('may take one of its own aliases as the number (the alias is dropped)', async () => {
      const moved = await store.renumberMailbox('27000', '+4687270000');
      expect(moved).toMatchObject({ number: '+4687270000', aliases: [] });
    });

    it("refuses another mailbox's number or alias and changes nothing", async () => {
      await store.createMailbox({ number: '27001', name: 'Bob', pin: '1111', aliases: ['27011'] });
      const m = await store.deposit(newMessage(store.tmpDir));
      for (const taken of ['27001', '27011']) {
        await expect(store.renumberMailbox('27000', taken)).rejects.toBeInstanceOf(NumberInUseError);
      }
      await expect(store.renumberMailbox('27000', 'abc')).rejects.toBeInstanceOf(TypeError);
      expect((await store.listMessages('27000')).map((x) => x.id)).toEqual([m.id]);
      expect(existsSync(m.audioPath)).toBe(true);
    });
  });

  describe('importMailboxes', () => {
    it('creates and updates in one transaction, moving an alias between two of its mailboxes', async () => {
      await store.createMailbox({ number: '27001', name: 'Bob', pin: '1111' });
      const hash = (await store.findMailbox('27001'))!.pinHash;
      const events: string[] = [];
      store.events.on('mailbox', (n) => events.push(n));
      const result = await store.importMailboxes([
        { number: '27000', fields: { aliases: [], maxMessages: 9 } },
        { number: '27001', fields: { aliases: ['+4687270000'], email: undefined } },
        { number: '27002', pinHash: hash, fields: { name: 'Carol', emailAttachAudio: true, aliases: ['27012'] } },
      ]);
      expect(result).toEqual({ created: 1, updated: 2 });
      expect(await store.findMailbox('27000')).toMatchObject({ aliases: [], maxMessages: 9, email: 'alice@example.com' });
      expect((await store.findMailbox('+4687270000'))!.number).toBe('27001');
      expect(await store.findMailbox('27012')).toMatchObject({ number: '27002', name: 'Carol', emailAttachAudio: true, mustChangePin: true });
      expect((await store.checkPin({ number: '27002', pin: '1111', source: 's', policy: DEFAULT_PIN_BACKOFF })).verdict).toBe('ok');
      expect(events).toEqual(['27000', '27001', '27002']);
    });

    it('applies nothing when one row fails (a taken alias in the last row)', async () => {
      await store.createMailbox({ number: '27001', name: 'Bob', pin: '1111' });
      const hash = (await store.findMailbox('27001'))!.pinHash;
      const rows = [
        { number: '27001', fields: { name: 'Bob Changed' } },
        ...Array.from({ length: 100 }, (_, i) => ({ number: String(28000 + i), pinHash: hash, fields: { name: `N${i}` } })),
        { number: '28100', pinHash: hash, fields: { name: 'Late', aliases: ['+4687270000'] } },
      ];
      await expect(store.importMailboxes(rows)).rejects.toBeInstanceOf(NumberInUseError);
      expect((await store.listMailboxes()).map((m) => m.number)).toEqual(['27000', '27001']);
      expect((await store.findMailbox('27001'))!.name).toBe('Bob');
      await expect(store.importMailboxes([{ number: '29999', fields: { name: 'X' } }])).rejects.toBeInstanceOf(NoSuchMailboxError);
    });
  });

  describe('provision', () => {
    it('reports the mailboxes it created and, for existing ones, each changed field with its old and new value', async () => {
      await store.updateMailbox('27000', { maxMessages: 7, emailAttachAudio: true });
      const report = await store.provision([
        { number: '27000', name: 'Alice Renamed', pin: '1111', email: 'alice@example.com', aliases: ['+4687270000', '27999'], maxMinutes: 5 },
        { number: '27001', name: 'Bob', pin: '1111', emailAttachAudio: true, hiddenFromDirectory: true },
      ]);
      expect(report.created).toEqual(['27001']);
      expect(report.updated).toEqual([
        {
          number: '27000',
          changes: [
            { field: 'name', from: 'Alice Example', to: 'Alice Renamed' },
            { field: 'aliases', from: ['+4687270000'], to: ['+4687270000', '27999'] },
            { field: 'maxMinutes', from: 0, to: 5 },
          ],
        },
      ]);
      const alice = (await store.findMailbox('27000'))!;
      // Fields the spec leaves out are the store's: not reset.
      expect([alice.maxMessages, alice.emailAttachAudio, alice.maxMinutes]).toEqual([7, true, 5]);
      const bob = (await store.findMailbox('27001'))!;
      expect([bob.emailAttachAudio, bob.hiddenFromDirectory, bob.mustChangePin]).toEqual([true, true, true]);
    });

    it('reports nothing when the specs match the store (a restart with the same config)', async () => {
      const spec = { number: '27000', name: 'Alice Example', pin: '2580', email: 'alice@example.com', aliases: ['+4687270000'] };
      expect(await store.provision([spec])).toEqual({ created: [], updated: [] });
    });
  });
});
