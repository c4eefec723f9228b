/**
 * The IMAP append drain keeps its short lease while an append runs (src/unified/append-drain.ts), on each store
 * engine: an append that takes several leases' time is not handed to another claimant meanwhile, and is done once.
 *
 * Covers: the renewal heartbeat against a real store and a rival claiming all along.
 * Does not cover: a holder that dies (test/integration/imap-append-takeover.test.ts), the lease SQL itself
 * (store-leader-tables.test.ts).
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MessageStore } from '../../src/store/types.js';
import { AppendDrain } from '../../src/unified/append-drain.js';
import { storeEngines } from '../helpers/store-engines.js';

const logger = pino({ level: 'silent' });
const LEASE_MS = 300;

describe.each(storeEngines())('the append drain on the $name store', (engine) => {
  let store: MessageStore;

  beforeEach(async () => {
    store = await engine.open(await engine.place());
  });

  afterEach(async () => {
    await store.close();
  });

  it('renews its lease while a slow append runs: a rival claiming all along never gets it', async () => {
    await store.enqueueImapAppend('slow', '27000');
    let started = false;
    let appends = 0;
    const drain = new AppendDrain({
      store,
      logger,
      retryBaseMs: 20,
      maxRetryMs: 40,
      maxAttempts: 3,
      pollMs: 20,
      leaseMs: LEASE_MS,
      append: async () => {
        started = true;
        appends++;
        // Four leases long.
        await new Promise((resolve) => setTimeout(resolve, 4 * LEASE_MS));
      },
    });
    const rivalGot: string[] = [];
    try {
      for (const end = Date.now() + 5000; !started && Date.now() < end; ) await new Promise((r) => setTimeout(r, 10));
      for (const end = Date.now() + 10_000; (await store.countImapAppends()) > 0 && Date.now() < end; ) {
        const job = await store.claimImapAppend('rival', Date.now(), LEASE_MS);
        if (job) rivalGot.push(job.messageId);
        await new Promise((r) => setTimeout(r, 25));
      }
    } finally {
      await drain.close();
    }
    expect(rivalGot).toEqual([]);
    expect(appends).toBe(1);
    expect(await store.countImapAppends()).toBe(0);
  });
});
