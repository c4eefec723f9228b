/**
 * Which leadership a host takes part in, from its store: hosts on one PostgreSQL store (storage.url) compete
 * for its advisory lock (pg-leadership.ts); a host on its own SQLite store is the only candidate
 * (SoleLeadership).
 */
import type { Logger } from 'pino';
import { SoleLeadership, type Leadership, type LeadershipOptions } from './leadership.js';
import { PgLeadership } from './pg-leadership.js';

export interface SiteLeadership {
  /** Makes the leadership (mwi/while-leader.ts calls it with its change handler). */
  make(opts: LeadershipOptions): Leadership;
  /** Whether other hosts may lead too (a new leader then refreshes every lamp). */
  shared: boolean;
}

export function siteLeadership(storageUrl: string | undefined, logger: Logger): SiteLeadership {
  if (storageUrl === undefined) return { make: (opts) => new SoleLeadership(opts), shared: false };
  return { make: (opts) => new PgLeadership({ ...opts, connection: storageUrl, logger }), shared: true };
}
