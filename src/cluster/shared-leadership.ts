/**
 * One host's leadership shared by its leader-only jobs: MWI sending (mwi/while-leader.ts), the IMAP sync
 * (unified/configured.ts) and the directory schedule (directory/schedule.ts). They follow ONE lock, so the site's
 * leader runs all of them: no job can lead on one host while another job leads elsewhere, and a takeover moves
 * them together (issue 10: "exactly one host ... another takes over within 5 s").
 *
 * share() gives each job a Leadership of its own to start and stop. The underlying one (SoleLeadership or
 * PgLeadership, made by `make`) starts with the first job's start() and is stopped, freeing the lock, after the
 * last job's stop(): a job that stops is told `false` first, so the lock is never freed while a job still works.
 * A job that starts while the host already leads is told `true` at once.
 */
import type { Logger } from 'pino';
import type { Leadership, LeadershipOptions } from './leadership.js';

export class SharedLeadership {
  private readonly jobs = new Set<LeadershipOptions>();
  private inner: Leadership | undefined;

  constructor(
    private readonly make: (opts: LeadershipOptions) => Leadership,
    private readonly logger: Logger,
  ) {}

  /** Whether this host leads now. */
  get leader(): boolean {
    return this.inner?.leader ?? false;
  }

  /** A Leadership for one job: told this host's changes from its start() to its stop(). */
  share(job: LeadershipOptions): Leadership {
    let state: 'new' | 'started' | 'stopped' = 'new';
    // The handle's own methods run with the handle as `this`.
    const hub = this;
    return {
      get leader() {
        return state === 'started' && hub.leader;
      },
      start() {
        if (state !== 'new') return;
        state = 'started';
        hub.jobs.add(job);
        if (hub.inner === undefined) {
          // Assigned before start(): SoleLeadership tells `true` from inside it, and `leader` must say so then.
          hub.inner = hub.make({ onChange: (leader) => hub.tell(leader) });
          hub.inner.start();
        } else if (hub.inner.leader) {
          hub.tellOne(job, true);
        }
      },
      async stop() {
        const was = state;
        state = 'stopped';
        if (was !== 'started') return;
        hub.jobs.delete(job);
        if (hub.leader) hub.tellOne(job, false);
        if (hub.jobs.size > 0) return;
        const inner = hub.inner;
        hub.inner = undefined;
        await inner?.stop();
      },
    };
  }

  private tell(leader: boolean): void {
    for (const job of [...this.jobs]) this.tellOne(job, leader);
  }

  /** One job's handler failing must not keep the others from hearing the change. */
  private tellOne(job: LeadershipOptions, leader: boolean): void {
    try {
      job.onChange(leader);
    } catch (err) {
      this.logger.error({ err, leader }, 'leader job change handler failed');
    }
  }
}
