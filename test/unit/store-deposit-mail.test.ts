/*
 * The new-message mail queued by the deposit's own commit (src/store/deposit-mail.ts), the same tests against
 * each engine (test/helpers/store-engines.ts): SQLite in a temporary folder, PostgreSQL in a throwaway server's
 * database. Real database, real files.
 *
 * Covers: a deposit to a mailbox with an address queues one mail holding the message's facts; a mailbox without
 * an address, or a store opened without depositMail, queues none; a deposit a crash interrupted (its audio and
 * sidecar placed in messages/, no row) committed by repair queues its mail then, and a second repair does not
 * queue it again. Does not cover: sending and rendering (email-notifier.test.ts, email-attach-audio.test.ts),
 * a deposit kept through a PostgreSQL outage (test/integration/email-postgres-outage.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { depositFacts } from '../../src/store/deposit-mail.js';
import type { StoreLayout } from '../../src/store/layout.js';
import { placeMessage } from '../../src/store/message-files.js';
import type { MailJob, MessageStore } from '../../src/store/types.js';
import { newMessage } from '../helpers/store-fixture.js';
import { storeEngines, type StorePlace } from '../helpers/store-engines.js';

const LEASE = 60_000;

/** Every mail queued, claimed (and so taken off the due list) one by one. */
async function queued(store: MessageStore): Promise<MailJob[]> {
  const jobs: MailJob[] = [];
  for (let j = await store.claimMail('t', Date.now(), LEASE); j && jobs.length < 10; j = await store.claimMail('t', Date.now(), LEASE)) jobs.push(j);
  return jobs;
}

describe.each(storeEngines())("the $name store's deposit mail", (engine) => {
  let place: StorePlace;
  let store: MessageStore;

  beforeEach(async () => {
    place = await engine.place();
    store = await engine.open(place, { depositMail: { maxQueued: 100 } });
    await store.createMailbox({ number: '27000', name: 'Alice', pin: '4826', email: 'alice@example.com' });
    await store.createMailbox({ number: '27002', name: 'Carol', pin: '4826' });
  });

  afterEach(async () => {
    await store.close();
  });

  it('queues one mail with the facts of a deposit to a mailbox with an address', async () => {
    const message = await store.deposit(newMessage(store.tmpDir, { urgent: true }));
    const jobs = await queued(store);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ mailbox: '27000', messageId: message.id });
    expect(depositFacts(JSON.parse(jobs[0]!.payload))).toEqual({ from: '4455', fromName: 'Bob', receivedAt: message.receivedAt, durationMs: 2000, urgent: true });
  });

  it('queues none for a mailbox without an address', async () => {
    await store.deposit(newMessage(store.tmpDir, { mailbox: '27002' }));
    expect(await queued(store)).toEqual([]);
  });

  it('queues none when the store is opened without depositMail', async () => {
    await store.close();
    store = await engine.open(place);
    await store.deposit(newMessage(store.tmpDir));
    expect(await queued(store)).toEqual([]);
  });

  it("queues an interrupted deposit's mail when repair commits it, once", async () => {
    const layout = (store as unknown as { layout: StoreLayout }).layout;
    // As a crash leaves it: audio and sidecar in messages/27000/, no row.
    const meta = await placeMessage(layout, '27000', newMessage(store.tmpDir));
    expect((await store.repair()).reattached).toEqual([meta.id]);
    await store.repair();
    const jobs = await queued(store);
    expect(jobs.map((j) => j.messageId)).toEqual([meta.id]);
  });
});
