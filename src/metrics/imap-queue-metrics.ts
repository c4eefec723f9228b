/**
 * The IMAP append queue on /metrics (unified/append-drain.ts, store table imap_appends): its length, the appends
 * whose last try failed and the oldest one's age, read from the store when scraped (one small query per scrape,
 * site-wide, so only the process that maintains the store publishes them: a single server, a cluster's front
 * door), and the appends this process did, retried or dropped (counted by the drain, which runs in the leader).
 *
 *   vmpilot_imap_appends_pending                 appends queued, site-wide
 *   vmpilot_imap_appends_failing                 of those, the ones whose last try failed (waiting to retry)
 *   vmpilot_imap_append_oldest_age_seconds       how long the oldest has waited (0: none queued)
 *   vmpilot_imap_appends_total{result}           appended | retried | dropped, by this process
 */
import type { Registry } from 'prom-client';
import type { ImapAppendQueueStats, MessageStore } from '../store/types.js';
import { opsCounters } from './ops-counters.js';
import { registerPull, type Sample } from './pull-metric.js';

export type AppendQueueSource = Pick<MessageStore, 'imapAppendQueueStats'>;

export function registerImapQueueMetrics(registry: Registry, source: () => AppendQueueSource | undefined): void {
  // The three gauges of one scrape come from one query: the first gauge read asks, the others reuse it.
  let asked: { at: number; stats: Promise<ImapAppendQueueStats | undefined> } | undefined;
  const stats = (): Promise<ImapAppendQueueStats | undefined> => {
    const store = source();
    if (!store) return Promise.resolve(undefined);
    const now = Date.now();
    if (!asked || now - asked.at > 1000) asked = { at: now, stats: store.imapAppendQueueStats().catch(() => undefined) };
    return asked.stats;
  };
  const gauge = (name: string, help: string, value: (s: ImapAppendQueueStats) => number): void =>
    registerPull(registry, {
      name,
      help,
      type: 'gauge',
      read: async (): Promise<Sample[]> => {
        const s = await stats();
        return s ? [{ labels: {}, value: value(s) }] : [];
      },
    });
  gauge('vmpilot_imap_appends_pending', 'IMAP appends queued, site-wide', (s) => s.pending);
  gauge('vmpilot_imap_appends_failing', 'Queued IMAP appends whose last try failed (waiting for their retry)', (s) => s.failing);
  gauge('vmpilot_imap_append_oldest_age_seconds', 'How long the oldest queued IMAP append has waited (0: none queued)', (s) =>
    s.oldestQueuedAt === undefined ? 0 : Math.max(0, (Date.now() - s.oldestQueuedAt) / 1000),
  );
  registerPull(registry, {
    name: 'vmpilot_imap_appends_total',
    help: 'IMAP appends by this process: appended, retried (failed, put back), dropped (gave up)',
    type: 'counter',
    read: () => Object.entries(opsCounters.imapAppends).map(([result, value]) => ({ labels: { result }, value })),
  });
}
