/**
 * Call record retention (callRecords.retentionDays): records older than that are deleted at start and then
 * daily. One process of a site runs it (a single server, or a cluster's front door), like message expiry.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { MessageStore } from '../store/types.js';

const DAY_MS = 86_400_000;

export function startCallRecordRetention(store: Pick<MessageStore, 'purgeCallRecords'>, config: Pick<Config, 'callRecords'>, logger: Logger): { stop(): void } {
  const purge = (): void => {
    store.purgeCallRecords(Date.now() - config.callRecords.retentionDays * DAY_MS).then(
      (n) => n > 0 && logger.info({ removed: n, retentionDays: config.callRecords.retentionDays }, 'old call records removed'),
      (err: unknown) => logger.error({ err }, 'call record purge failed'),
    );
  };
  purge();
  const timer = setInterval(purge, DAY_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
