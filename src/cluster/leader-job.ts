/**
 * A job that runs only while this host leads its site (cluster/shared-leadership.ts): started each time the host
 * becomes the leader, stopped each time it stops being it. mwi/while-leader.ts does the same for the MWI
 * service, which also answers SUBSCRIBE differently while following; this is the plain form, for the IMAP sync
 * and the directory schedule.
 *
 * Starts and stops are serialised (a quick lose-then-win waits for the stop before starting again). A lost
 * leadership stops the job at once: its stop() is called in the change handler, so a job whose stop() stops its
 * timers before its first await does no more work from that moment.
 */
import type { Logger } from 'pino';
import type { Leadership, LeadershipOptions } from './leadership.js';

export interface LeaderJobOptions<T> {
  /** Makes this job's leadership, given the function to tell changes to (SiteLeadership.make). */
  leadership(opts: LeadershipOptions): Leadership;
  /** Starts the job (on becoming the leader). A start that throws is logged; the next win tries again. */
  start(): T | Promise<T>;
  /** Stops what start() returned (on losing leadership, or stop()). */
  stop(job: T): Promise<void>;
  /** For the log: what the job is ("IMAP sync"). */
  name: string;
  logger: Logger;
}

export interface LeaderJob<T> {
  /** The job, while this host leads and it runs. */
  readonly running: T | undefined;
  /** Stops the job if it runs and leaves the leadership. */
  stop(): Promise<void>;
}

export function runWhileLeader<T>(opts: LeaderJobOptions<T>): LeaderJob<T> {
  const log = opts.logger.child({ leaderJob: opts.name });
  let job: T | undefined;
  let chain: Promise<void> = Promise.resolve();
  let stopped = false;
  const halt = (): Promise<void> => {
    const running = job;
    job = undefined;
    if (running === undefined) return Promise.resolve();
    log.info('stopped: this host no longer leads');
    return opts.stop(running).catch((err: unknown) => log.error({ err }, 'leader job failed to stop'));
  };
  const onChange = (leader: boolean): void => {
    if (!leader) {
      const stopping = halt();
      chain = chain.then(() => stopping);
      return;
    }
    chain = chain.then(async () => {
      if (stopped || !leadership.leader || job !== undefined) return;
      try {
        job = await opts.start();
        log.info('started: this host leads');
      } catch (err) {
        log.error({ err }, 'leader job failed to start');
        return;
      }
      // Leadership lost while starting: the handler above found no job to stop.
      if (stopped || !leadership.leader) await halt();
    });
  };
  const leadership = opts.leadership({ onChange });
  leadership.start();
  return {
    get running() {
      return job;
    },
    async stop() {
      stopped = true;
      await leadership.stop();
      await chain;
      await halt();
    },
  };
}
