/**
 * Retention (voicemail.retainNewDays / retainSavedDays): expired messages are removed once at start and then
 * hourly. One process of a site runs it (a single server, or a cluster's front door). The same pass forgets
 * mailbox renumbers older than RENUMBER_MEMORY_MS (mailbox-renumber.ts says why that age is safe).
 */
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { RENUMBER_MEMORY_MS } from './mailbox-renumber.js';
import type { MessageStore } from './types.js';

const DAY_MS = 86_400_000;

export function startRetention(store: Pick<MessageStore, 'expire' | 'trimRenumbers'>, config: Pick<Config, 'voicemail'>, logger: Logger): { stop(): void } {
  const expire = (): void => {
    store.expire(config.voicemail.retainNewDays * DAY_MS, config.voicemail.retainSavedDays * DAY_MS).then(
      (n) => n > 0 && logger.info({ removed: n }, 'expired messages removed'),
      (err: unknown) => logger.error({ err }, 'message expiry failed'),
    );
    store.trimRenumbers(Date.now() - RENUMBER_MEMORY_MS).then(
      (n) => n > 0 && logger.info({ removed: n }, 'old mailbox renumber records removed'),
      (err: unknown) => logger.error({ err }, 'renumber record trim failed'),
    );
  };
  expire();
  const timer = setInterval(expire, 3_600_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
