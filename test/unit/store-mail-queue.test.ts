/*
 * The store's email queue (issue 10: src/store/mail-queue-table.ts, src/store/pg/mail-queue.ts), the same tests
 * against each engine (test/helpers/store-engines.ts): SQLite in a temporary folder, PostgreSQL in a throwaway
 * server's database. Real database.
 *
 * Covers: a queued mail claimed once, with its fields and attempt count; oldest first; a leased mail not handed
 * out again until finished, put back or its lease runs out; a retry waiting for its time; the queue limit
 * dropping the oldest; the queue kept across a close and reopen; two store instances claiming at once (SQLite:
 * two store threads on one file; PostgreSQL: two hosts' pools on one database) each mail going to exactly one.
 * Does not cover: sending (test/unit/email-notifier.test.ts) or a server restart (email-restart.test.ts).
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimRacing, otherStoreInstance, storeEngines, type StorePlace } from '../helpers/store-engines.js';
import type { MessageStore, NewMailJob } from '../../src/store/types.js';

const logger = pino({ level: 'silent' });
const LEASE = 60_000;

function job(n: number): NewMailJob {
  return { mailbox: '27000', messageId: `m${n}`, payload: JSON.stringify({ n }) };
}


describe.each(storeEngines())('the $name store\'s email queue', (engine) => {
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

  it('hands a queued mail out once, with its fields and the attempt counted', async () => {
    expect(await store.enqueueMail(job(1), 1000)).toBe(0);
    // After the enqueue: a mail is due from the moment it was queued (its not_before), not a millisecond earlier.
    const now = Date.now();
    const claimed = await store.claimMail('a', now, LEASE);
    expect(claimed).toMatchObject({ mailbox: '27000', messageId: 'm1', payload: '{"n":1}', attempts: 1 });
    expect(await store.claimMail('b', now, LEASE), 'leased to a').toBeUndefined();
    await store.finishMail(claimed!.id);
    expect(await store.claimMail('b', now + 2 * LEASE, LEASE), 'finished: gone').toBeUndefined();
  });

  it('hands out the oldest mail first', async () => {
    for (const n of [1, 2, 3]) await store.enqueueMail(job(n), 1000);
    const order: string[] = [];
    for (let j = await store.claimMail('a', Date.now(), LEASE); j; j = await store.claimMail('a', Date.now(), LEASE)) order.push(j.messageId);
    expect(order).toEqual(['m1', 'm2', 'm3']);
  });

  it('a mail put back for a retry waits for its time, then counts the next attempt', async () => {
    await store.enqueueMail(job(1), 1000);
    const now = Date.now();
    const first = (await store.claimMail('a', now, LEASE))!;
    await store.retryMail(first.id, now + 5000, '421 try later');
    expect(await store.claimMail('a', now + 4999, LEASE)).toBeUndefined();
    expect(await store.claimMail('b', now + 5000, LEASE)).toMatchObject({ id: first.id, attempts: 2 });
  });

  it('a lease that runs out (its sender died) lets another claimant have the mail', async () => {
    await store.enqueueMail(job(1), 1000);
    const now = Date.now();
    const first = (await store.claimMail('dead', now, 100))!;
    expect(await store.claimMail('b', now + 99, LEASE)).toBeUndefined();
    expect(await store.claimMail('b', now + 100, LEASE)).toMatchObject({ id: first.id, attempts: 2 });
  });

  it('beyond the limit, queueing drops the oldest mails and says how many', async () => {
    for (const n of [1, 2]) expect(await store.enqueueMail(job(n), 2)).toBe(0);
    expect(await store.enqueueMail(job(3), 2)).toBe(1);
    const left: string[] = [];
    for (let j = await store.claimMail('a', Date.now(), LEASE); j; j = await store.claimMail('a', Date.now(), LEASE)) left.push(j.messageId);
    expect(left).toEqual(['m2', 'm3']);
  });

  it('keeps the queue across a close and reopen', async () => {
    await store.enqueueMail(job(1), 1000);
    await store.close();
    store = await engine.open(place);
    expect(await store.claimMail('a', Date.now(), LEASE)).toMatchObject({ messageId: 'm1', attempts: 1 });
  });

  it('two store instances claiming at once: every mail goes to exactly one claim', async () => {
    const MAILS = 40;
    for (let n = 0; n < MAILS; n++) await store.enqueueMail(job(n), 1000);
    const a = await otherStoreInstance(engine, place, logger);
    const b = await otherStoreInstance(engine, place, logger);
    others.push(a, b);
    const now = Date.now();
    const all = await claimRacing([a, b], (s, name) => s.claimMail(name, now, LEASE), MAILS);
    expect(all).toHaveLength(MAILS);
    expect(new Set(all).size).toBe(MAILS);
  });
});
