/**
 * The IMAP append queue on /metrics (src/metrics/imap-queue-metrics.ts): the gauges read from a real store of
 * each engine at scrape (pending, failing, oldest age), and the drain's counters (appended, retried, dropped).
 *
 * Covers: an empty queue (zeros), two queued appends with one failed and put back, the oldest's age; a drain over
 * the store whose append fails once, then succeeds, and another that is dropped after its last attempt; no
 * queue gauges from a process that does not maintain the store (no store watched).
 * Does not cover: the IMAP side of an append (test/integration/leader-jobs.test.ts, unified-imap.test.ts).
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { opsCounters } from '../../src/metrics/ops-counters.js';
import { ServerMetrics } from '../../src/metrics/server-metrics.js';
import type { MessageStore } from '../../src/store/types.js';
import { AppendDrain } from '../../src/unified/append-drain.js';
import { parsePromText, sumOf } from '../helpers/prom-text.js';
import { storeEngines } from '../helpers/store-engines.js';

const logger = pino({ level: 'silent' });

describe.each(storeEngines())('the IMAP append queue metrics on the $name store', (engine) => {
  let store: MessageStore;
  let metrics: ServerMetrics;

  beforeEach(async () => {
    store = await engine.open(await engine.place());
    metrics = new ServerMetrics();
  });

  afterEach(async () => {
    metrics.close();
    await store.close();
  });

  const scrape = async () => parsePromText(await metrics.text());

  it('are absent where no store is watched (a cluster worker), zero for an empty queue', async () => {
    expect((await scrape()).some((s) => s.name === 'vmpilot_imap_appends_pending')).toBe(false);
    metrics.watchSiteCounters(store);
    const samples = await scrape();
    expect(sumOf(samples, 'vmpilot_imap_appends_pending')).toBe(0);
    expect(sumOf(samples, 'vmpilot_imap_appends_failing')).toBe(0);
    expect(sumOf(samples, 'vmpilot_imap_append_oldest_age_seconds')).toBe(0);
  });

  it('count queued appends and failed ones, and age the oldest', async () => {
    metrics.watchSiteCounters(store);
    await store.enqueueImapAppend('m1', '27000');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await store.enqueueImapAppend('m2', '27000');
    const job = await store.claimImapAppend('test', Date.now(), 60_000);
    expect(job?.messageId).toBe('m1');
    await store.retryImapAppend('m1', Date.now() + 60_000, 'IMAP server down');
    // Past the gauges' one-second reuse of a query.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const samples = await scrape();
    expect(sumOf(samples, 'vmpilot_imap_appends_pending')).toBe(2);
    expect(sumOf(samples, 'vmpilot_imap_appends_failing')).toBe(1);
    const age = sumOf(samples, 'vmpilot_imap_append_oldest_age_seconds');
    expect(age).toBeGreaterThanOrEqual(1.3);
    expect(age).toBeLessThan(30);
  });

  it('count what the drain appended, retried and dropped', async () => {
    const before = { ...opsCounters.imapAppends };
    await store.enqueueImapAppend('ok-after-one-failure', '27000');
    await store.enqueueImapAppend('always-fails', '27001');
    const tries = new Map<string, number>();
    const drain = new AppendDrain({
      store,
      logger,
      retryBaseMs: 20,
      maxRetryMs: 40,
      maxAttempts: 2,
      pollMs: 20,
      append: async (job) => {
        const n = (tries.get(job.messageId) ?? 0) + 1;
        tries.set(job.messageId, n);
        if (job.messageId === 'always-fails' || n === 1) throw new Error('NO [UNAVAILABLE] try later');
      },
    });
    try {
      for (const end = Date.now() + 10_000; (await store.countImapAppends()) > 0 && Date.now() < end; ) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await drain.close();
    }
    const samples = await scrape();
    const moved = (result: string) => sumOf(samples, 'vmpilot_imap_appends_total', { result }) - before[result as keyof typeof before];
    expect([moved('appended'), moved('retried'), moved('dropped')]).toEqual([1, 2, 1]);
  });
});
