/**
 * Leadership: which one of a site's hosts does what exactly one process must do (issue 10: "exactly one host
 * sends unsolicited MWI at a time, and another takes over within 5 s when it dies").
 *
 * A Leadership tells its owner when this process becomes the leader and when it stops being it. The owner
 * starts its leader-only work on `true` and stops it at once on `false`; `false` is always told before the
 * lock is given up (stop()), so that two leaders never work at the same time on account of this process.
 *
 *  - SoleLeadership (this file): one host on an embedded SQLite store (a single server or one front door) is
 *    the only candidate, hence always the leader.
 *  - PgLeadership (pg-leadership.ts): hosts sharing one PostgreSQL store compete for an advisory lock.
 *
 * Not here: what the leader does (mwi/while-leader.ts runs the MWI service while leader).
 */

export interface LeadershipOptions {
  /** Told each time this process becomes (true) or stops being (false) the leader, in that alternating order. */
  onChange(leader: boolean): void;
}

export interface Leadership {
  /** Whether this process leads now. */
  readonly leader: boolean;
  /** Starts competing (SoleLeadership: leads at once). */
  start(): void;
  /** Stops leading (told first) and competing; releases what it holds. Idempotent. */
  stop(): Promise<void>;
}

/** The only candidate: leads from start() to stop(). */
export class SoleLeadership implements Leadership {
  private state: 'new' | 'leading' | 'stopped' = 'new';

  constructor(private readonly opts: LeadershipOptions) {}

  get leader(): boolean {
    return this.state === 'leading';
  }

  start(): void {
    if (this.state !== 'new') return;
    this.state = 'leading';
    this.opts.onChange(true);
  }

  async stop(): Promise<void> {
    const was = this.state;
    this.state = 'stopped';
    if (was === 'leading') this.opts.onChange(false);
  }
}
