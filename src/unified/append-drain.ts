/**
 * The IMAP append queue's worker. The queue is durable (store table imap_appends, store/leader-tables.ts): any
 * process queues a deposit's append (unified/configured.ts), so a restart, a crash or a change of leader loses
 * none; the site's leader drains it here, one append at a time.
 *
 *  - A claim is a short lease (`leaseMs`, 10 s) that the holder renews every third of it while its append runs
 *    (a long message over a slow link keeps it): exactly one host works an append, and one whose holder died
 *    (a leader killed mid-append) is claimed again by the next leader within the lease, not minutes later.
 *  - A failed append (server down, login refused) is put back, due again after a back-off that doubles per
 *    attempt up to maxRetryMs; after maxAttempts it is dropped (logged: the message stays in the store, only its
 *    email is missing). Other jobs are not held up by one mailbox's bad login, but each failure in a row also
 *    pauses the drain by the same back-off, so an IMAP server that is down costs one try per back-off, not one
 *    per queued append.
 *  - Nothing due: the queue is asked again every pollMs (appends queued by other hosts or workers), or at once
 *    when this process queued one (soon()).
 *
 * A second APPEND of a message is harmless (a lease that ran out mid-append, a finish that did not reach the
 * store): `append` searches the folder for the message's header first (imap-sync.ts).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { ImapAppendJob, MessageStore } from '../store/types.js';
import { opsCounters } from '../metrics/ops-counters.js';

export type AppendQueueStore = Pick<MessageStore, 'claimImapAppend' | 'renewImapAppend' | 'finishImapAppend' | 'retryImapAppend'>;

/** The lease on a claimed append, renewed every third of it while the append runs. */
export const APPEND_LEASE_MS = 10_000;

export interface AppendDrainOptions {
  store: AppendQueueStore;
  logger: Logger;
  /** Appends one message (throws when IMAP fails: the job is retried). */
  append(job: ImapAppendJob): Promise<void>;
  /** Told after each append done. */
  onAppended?(job: ImapAppendJob): void;
  /** First retry delay, ms; doubles per failure. */
  retryBaseMs: number;
  /** Longest retry delay, ms. */
  maxRetryMs: number;
  /** Tries of one append before it is dropped. */
  maxAttempts: number;
  /** How often the queue is asked while nothing is due, ms. Default 1000. */
  pollMs?: number;
  /** How long a claim holds an append unless renewed, ms. Default APPEND_LEASE_MS. */
  leaseMs?: number;
}

export class AppendDrain {
  private readonly claimant = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private timer: NodeJS.Timeout | undefined;
  private working: Promise<void> | undefined;
  /** soon() was called while a step ran: go again at once after it. */
  private again = false;
  /** Failed appends in a row (the drain's own back-off). */
  private failuresInARow = 0;
  private closed = false;
  /** The last claim failed (the store unreachable): warned once until one succeeds. */
  private storeDown = false;
  /** Appends done by this drain (figures, tests). */
  appended = 0;

  constructor(private readonly opts: AppendDrainOptions) {
    this.pollMs = opts.pollMs ?? 1000;
    this.leaseMs = opts.leaseMs ?? APPEND_LEASE_MS;
    this.wait(0);
  }

  /** Something was queued: look now rather than at the next poll. */
  soon(): void {
    if (this.closed) return;
    if (this.working) this.again = true;
    else this.wait(0);
  }

  /** Stops claiming; resolves once the append in progress has ended. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.working;
  }

  backoff(attempts: number): number {
    return Math.min(this.opts.maxRetryMs, this.opts.retryBaseMs * 2 ** Math.max(0, attempts - 1));
  }

  private wait(ms: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.working = this.step().then((next) => {
        this.working = undefined;
        const again = this.again;
        this.again = false;
        this.wait(again ? 0 : next);
      });
    }, ms);
    this.timer.unref();
  }

  /** Claims and works one append; resolves with the delay before the next step. Never rejects. */
  private async step(): Promise<number> {
    const { store } = this.opts;
    const log = this.opts.logger;
    let job: ImapAppendJob | undefined;
    try {
      job = await store.claimImapAppend(this.claimant, Date.now(), this.leaseMs);
      this.storeDown = false;
    } catch (err) {
      // Once per outage at warn (the store is down: asked every poll), the retries after it at debug.
      if (!this.storeDown) log.warn({ err }, 'IMAP append queue: the store cannot be read; will retry');
      else log.debug({ err }, 'IMAP append queue: the store still cannot be read');
      this.storeDown = true;
      return this.pollMs;
    }
    if (!job) return this.pollMs;
    log.debug({ messageId: job.messageId, attempts: job.attempts }, 'IMAP append claimed');
    const heartbeat = this.keepLease(job);
    try {
      await this.opts.append(job);
    } catch (err) {
      return this.failed(job, (err as Error).message);
    } finally {
      clearInterval(heartbeat);
    }
    this.failuresInARow = 0;
    this.appended++;
    opsCounters.imapAppends.appended++;
    log.debug({ messageId: job.messageId, mailbox: job.mailbox, attempts: job.attempts }, 'IMAP append done');
    await store.finishImapAppend(job.messageId).catch((err: unknown) => {
      // The lease runs out and the job comes back: the header search finds the email, no second copy.
      log.warn({ err, messageId: job.messageId }, 'IMAP append done but not taken off the queue');
    });
    this.opts.onAppended?.(job);
    return 0;
  }

  /** Renews the lease while the append runs (one timer per append in progress, of which there is one). */
  private keepLease(job: ImapAppendJob): NodeJS.Timeout {
    const timer = setInterval(() => {
      this.opts.store.renewImapAppend(job.messageId, this.claimant, Date.now() + this.leaseMs).then(
        (held) => {
          // Another claimant has it (our renewals failed for a lease's length): its header search finds our copy
          // if ours lands first.
          if (!held) this.opts.logger.warn({ messageId: job.messageId }, 'IMAP append lease lost while appending');
        },
        (err: unknown) => this.opts.logger.warn({ err, messageId: job.messageId }, 'IMAP append lease could not be renewed'),
      );
    }, Math.max(1, Math.floor(this.leaseMs / 3)));
    timer.unref();
    return timer;
  }

  private async failed(job: ImapAppendJob, error: string): Promise<number> {
    const log = this.opts.logger;
    const fields = { messageId: job.messageId, mailbox: job.mailbox, attempts: job.attempts, err: error };
    try {
      if (job.attempts >= this.opts.maxAttempts) {
        log.error(fields, 'IMAP append dropped');
        opsCounters.imapAppends.dropped++;
        await this.opts.store.finishImapAppend(job.messageId);
      } else {
        const retryInMs = this.backoff(job.attempts);
        log.warn({ ...fields, retryInMs }, 'IMAP append failed; will retry');
        opsCounters.imapAppends.retried++;
        await this.opts.store.retryImapAppend(job.messageId, Date.now() + retryInMs, error);
      }
    } catch (err) {
      // Left leased: it comes back when the lease runs out.
      log.warn({ err, messageId: job.messageId }, 'IMAP append queue: could not put the append back');
    }
    this.failuresInARow++;
    return this.backoff(this.failuresInARow);
  }
}
