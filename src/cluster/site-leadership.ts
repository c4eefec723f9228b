/**
 * Which leadership a host takes part in, from its store: hosts on one PostgreSQL store (storage.url) compete
 * for its advisory lock (pg-leadership.ts); a host on its own SQLite store is the only candidate
 * (SoleLeadership). One per host, shared by its leader-only jobs (shared-leadership.ts): each job's make() is a
 * share of the same lock.
 */
import type { Logger } from 'pino';
import { SoleLeadership, type Leadership, type LeadershipOptions } from './leadership.js';
import { PgLeadership } from './pg-leadership.js';
import { SharedLeadership } from './shared-leadership.js';

export interface SiteLeadership {
  /** A job's share of this host's leadership (mwi/while-leader.ts, cluster/leader-job.ts call it with their change handler). */
  make(opts: LeadershipOptions): Leadership;
  /** Whether other hosts may lead too (a new leader then refreshes every lamp). */
  shared: boolean;
}

export function siteLeadership(storageUrl: string | undefined, logger: Logger): SiteLeadership {
  const hub = new SharedLeadership(
    storageUrl === undefined ? (opts) => new SoleLeadership(opts) : (opts) => new PgLeadership({ ...opts, connection: storageUrl, logger }),
    logger,
  );
  return { make: (opts) => hub.share(opts), shared: storageUrl !== undefined };
}
