/*
 * The store's tables for the jobs only a site's leader runs (src/store/leader-tables.ts, pg/leader-tables.ts):
 * directory ownership and the IMAP append queue, the same tests against each engine (helpers/store-engines.ts:
 * SQLite in a temporary folder, PostgreSQL in a throwaway server's database). Real database.
 *
 * Covers: ownership written, changed, removed, kept across a close and reopen and seen from another host;
 * an append queued once however often it is queued, claimed once under a lease, oldest first, a retry waiting
 * for its time, a lease that runs out freeing the job, a lease renewed by its holder only, the queue kept across a reopen, two instances claiming at
 * once taking each append exactly once, a deposit queueing its append in its own commit (when opened so).
 * Does not cover the sync that uses them (test/integration/leader-jobs.test.ts, directory-sync.test.ts).
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimRacing, otherStoreInstance, storeEngines, type StorePlace } from '../helpers/store-engines.js';
import type { DirectoryOwned, MessageStore } from '../../src/store/types.js';
import { newMessage } from '../helpers/store-fixture.js';

const logger = pino({ level: 'silent' });
const LEASE = 60_000;


const owned = (n: number, disabled = false): DirectoryOwned => ({ entryId: `uuid-${n}`, number: String(27000 + n), dn: `uid=u${n},ou=people,dc=example,dc=org`, disabled });

describe.each(storeEngines())('the $name store\'s leader tables', (engine) => {
  let place: StorePlace;
  let store: MessageStore;
  const others: MessageStore[] = [];

  beforeEach(async () => {
    place = await engine.place();
    store = await engine.open(place);
  });

  afterEach(async () => {
    for (const other of others.splice(0)) await other.close();
    await store.close();
  });

  describe('directory ownership', () => {
    it('writes, replaces and removes owned entries in one call', async () => {
      await store.saveDirectoryOwned([owned(1), owned(2), owned(3)], []);
      await store.saveDirectoryOwned([{ ...owned(2), number: '28002', disabled: true }], ['uuid-3']);
      expect(await store.listDirectoryOwned()).toEqual([owned(1), { ...owned(2), number: '28002', disabled: true }]);
    });

    it('keeps the ownership across a reopen, and another host sees the same', async () => {
      await store.saveDirectoryOwned([owned(1), owned(2, true)], []);
      await store.close();
      store = await engine.open(place);
      const other = await otherStoreInstance(engine, place, logger);
      others.push(other);
      expect(await store.listDirectoryOwned()).toEqual([owned(1), owned(2, true)]);
      expect(await other.listDirectoryOwned()).toEqual([owned(1), owned(2, true)]);
    });
  });

  describe('the IMAP append queue', () => {
    it('queues a message once, however often it is queued, and hands it out once with the attempt counted', async () => {
      await store.enqueueImapAppend('m1', '27000');
      await store.enqueueImapAppend('m1', '27000');
      expect(await store.countImapAppends()).toBe(1);
      const now = Date.now();
      expect(await store.claimImapAppend('a', now, LEASE)).toEqual({ messageId: 'm1', mailbox: '27000', attempts: 1 });
      expect(await store.claimImapAppend('b', now, LEASE), 'leased to a').toBeUndefined();
      await store.finishImapAppend('m1');
      expect(await store.countImapAppends()).toBe(0);
      expect(await store.claimImapAppend('b', now + 2 * LEASE, LEASE), 'finished: gone').toBeUndefined();
    });

    it('hands out the oldest append first', async () => {
      for (const n of [1, 2, 3]) {
        await store.enqueueImapAppend(`m${n}`, '27000');
        // queued_at is in ms: one apart, so that the order is the queueing order.
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const order: string[] = [];
      for (let j = await store.claimImapAppend('a', Date.now(), LEASE); j; j = await store.claimImapAppend('a', Date.now(), LEASE)) order.push(j.messageId);
      expect(order).toEqual(['m1', 'm2', 'm3']);
    });

    it('an append put back for a retry waits for its time, then counts the next attempt', async () => {
      await store.enqueueImapAppend('m1', '27000');
      const now = Date.now();
      await store.claimImapAppend('a', now, LEASE);
      await store.retryImapAppend('m1', now + 5000, 'connection refused');
      expect(await store.claimImapAppend('a', now + 4999, LEASE)).toBeUndefined();
      expect(await store.claimImapAppend('b', now + 5000, LEASE)).toMatchObject({ messageId: 'm1', attempts: 2 });
    });

    it('a lease that runs out (its holder died) lets another claimant have the append', async () => {
      await store.enqueueImapAppend('m1', '27000');
      const now = Date.now();
      await store.claimImapAppend('dead', now, 100);
      expect(await store.claimImapAppend('b', now + 99, LEASE)).toBeUndefined();
      expect(await store.claimImapAppend('b', now + 100, LEASE)).toMatchObject({ messageId: 'm1', attempts: 2 });
    });

    it('a holder that renews its lease keeps the append; a renewal by anyone else, or after another claimed it, fails', async () => {
      await store.enqueueImapAppend('m1', '27000');
      const now = Date.now();
      await store.claimImapAppend('a', now, 100);
      expect(await store.renewImapAppend('m1', 'b', now + 1000)).toBe(false);
      expect(await store.renewImapAppend('m1', 'a', now + 1000)).toBe(true);
      expect(await store.claimImapAppend('b', now + 500, LEASE)).toBeUndefined();
      expect(await store.claimImapAppend('b', now + 1000, LEASE)).toMatchObject({ messageId: 'm1', attempts: 2 });
      expect(await store.renewImapAppend('m1', 'a', now + 2000)).toBe(false);
    });

    it('keeps the queue across a close and reopen', async () => {
      await store.enqueueImapAppend('m1', '27000');
      await store.close();
      store = await engine.open(place);
      expect(await store.claimImapAppend('a', Date.now(), LEASE)).toMatchObject({ messageId: 'm1', attempts: 1 });
    });

    it('a store opened with depositImapAppend queues each deposit\'s append in its commit; one opened without, none', async () => {
      await store.close();
      store = await engine.open(place, { depositImapAppend: true });
      await store.createMailbox({ number: '27000', name: 'Alice', pin: '2580' });
      const m = await store.deposit(newMessage(store.tmpDir));
      expect(await store.claimImapAppend('a', Date.now(), LEASE)).toEqual({ messageId: m.id, mailbox: '27000', attempts: 1 });
      await store.finishImapAppend(m.id);
      await store.close();
      store = await engine.open(place);
      await store.deposit(newMessage(store.tmpDir));
      expect(await store.countImapAppends()).toBe(0);
    });

    it('two store instances claiming at once: every append goes to exactly one claim', async () => {
      const JOBS = 30;
      for (let n = 0; n < JOBS; n++) await store.enqueueImapAppend(`m${n}`, '27000');
      const a = await otherStoreInstance(engine, place, logger);
      const b = await otherStoreInstance(engine, place, logger);
      others.push(a, b);
      const now = Date.now();
      const all = await claimRacing([a, b], (s, name) => s.claimImapAppend(name, now, LEASE), JOBS);
      expect(all).toHaveLength(JOBS);
      expect(new Set(all).size).toBe(JOBS);
    });
  });
});
