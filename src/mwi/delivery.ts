/**
 * Getting one mailbox's MWI state to one PBX that has several NOTIFY targets, whatever it takes: the delivery
 * policy of the unsolicited notifier, without any SIP in it (the `attempt` function does the sending).
 *
 *  - Targets are tried in order. A failure (timeout/408, 5xx, 6xx, 3xx, transport error) tries the next;
 *    a 2xx ends the delivery, and so does a refusal (4xx other than 408: retrying would only repeat it).
 *  - When every target failed, the whole list is tried again after 1 s, then 2 s, 4 s... up to 5 min, until
 *    some target answers.
 *  - Only the latest state per mailbox is kept: a change while the state waits for a retry replaces it and is
 *    sent at once (the backoff starts over); a change while a NOTIFY is in flight is sent after it.
 *  - Every run (first try or retry) takes a slot in the shared RateGate.
 *  - With `record`, each run is noted as sent before its first try and as acknowledged after a 2xx
 *    (ack-ledger.ts), so that a new leader knows which lamps the PBX may not show right.
 *
 * Not here: which PBXs and targets exist, building the NOTIFY, classifying SIP responses (notifier.ts).
 */
import type { Logger } from 'pino';
import type { MessageCounts } from '../store/types.js';
import type { GateLane, RateGate } from './rate-gate.js';

/** What one try of one target came to. */
export type AttemptOutcome =
  /** A 2xx: the PBX has the state. */
  | 'delivered'
  /** A 4xx other than 408: the PBX will not take it; another target or a retry would get the same. */
  | 'refused'
  /** Timeout, transport error, 3xx, 5xx, 6xx: the next target, or a retry later. */
  | 'failed';

export enum DeliveryState {
  /** Waiting for a slot in the rate gate. */
  Queued = 'queued',
  /** Trying the targets in order. */
  Sending = 'sending',
  /** Every target failed; waiting for the retry timer. */
  Backoff = 'backoff',
}

export const RETRY_MIN_MS = 1000;
export const RETRY_MAX_MS = 5 * 60 * 1000;

export interface MwiDeliveryOptions<Target> {
  /** For logs: whom the delivery is for (the PBX's name). */
  name: string;
  /** Tried in this order; at least one. */
  targets: readonly Target[];
  /** One try of one target. A rejection counts as 'failed'. */
  attempt(target: Target, mailbox: string, counts: MessageCounts): Promise<AttemptOutcome>;
  /** Shared pacing of every run. */
  gate: RateGate;
  logger: Logger;
  /** First retry delay after every target failed, ms. Default 1000. */
  retryMinMs?: number;
  /** Longest retry delay, ms. Default 300000 (5 min). */
  retryMaxMs?: number;
  /**
   * What the PBX acknowledged (ack-ledger.ts): `sending` is awaited before each run's first try, `delivered` is
   * told after a 2xx. Absent: nothing is recorded.
   */
  record?: {
    sending(mailbox: string): Promise<void>;
    delivered(mailbox: string, counts: MessageCounts): void;
  };
}

interface Job {
  mailbox: string;
  /** The latest state; what the next run sends. */
  counts: MessageCounts;
  state: DeliveryState;
  /** The delay before the next retry if this run fails everywhere. */
  backoffMs: number;
  timer?: NodeJS.Timeout;
  /** A newer state arrived while a run was sending. */
  newer: boolean;
  /** The lane its run waits in, while Queued. */
  lane: GateLane;
  /** Bumped at each enqueue: a run from an older enqueue (moved to the news lane since) does nothing. */
  ticket: number;
}

export class MwiDelivery<Target> {
  private readonly jobs = new Map<string, Job>();
  private readonly minMs: number;
  private readonly maxMs: number;
  private stopped = false;

  constructor(private readonly opts: MwiDeliveryOptions<Target>) {
    if (opts.targets.length === 0) throw new TypeError(`${opts.name}: an MWI delivery needs at least one target`);
    this.minMs = opts.retryMinMs ?? RETRY_MIN_MS;
    this.maxMs = Math.max(this.minMs, opts.retryMaxMs ?? RETRY_MAX_MS);
  }

  /** Mailboxes whose latest state has not reached the PBX yet. */
  get pending(): number {
    return this.jobs.size;
  }

  stateOf(mailbox: string): DeliveryState | undefined {
    return this.jobs.get(mailbox)?.state;
  }

  /**
   * A mailbox's state to deliver; replaces any older state of the same mailbox not yet delivered. `lane`:
   * 'news' for a change someone waits for, 'bulk' for a resend (rate-gate.ts). News for a mailbox queued in
   * the bulk lane moves it to the news lane.
   */
  update(mailbox: string, counts: MessageCounts, lane: GateLane = 'news'): void {
    if (this.stopped) return;
    const job = this.jobs.get(mailbox);
    if (!job) {
      const fresh: Job = { mailbox, counts, state: DeliveryState.Queued, backoffMs: this.minMs, newer: false, lane, ticket: 0 };
      this.jobs.set(mailbox, fresh);
      this.enqueue(fresh, lane);
      return;
    }
    job.counts = counts;
    switch (job.state) {
      case DeliveryState.Queued:
        // Its run will send this state; news waiting behind bulk work goes ahead of it.
        if (lane === 'news' && job.lane === 'bulk') this.enqueue(job, 'news');
        return;
      case DeliveryState.Sending:
        job.newer = true;
        return;
      case DeliveryState.Backoff:
        // News replaces the pending retry and goes now: the PBX may be back, and the user waits for it.
        if (job.timer !== undefined) clearTimeout(job.timer);
        job.timer = undefined;
        job.backoffMs = this.minMs;
        this.enqueue(job, lane);
        return;
    }
  }

  /** Forgets every pending state and timer; runs in flight finish without effect. Idempotent. */
  stop(): void {
    this.stopped = true;
    for (const job of this.jobs.values()) if (job.timer !== undefined) clearTimeout(job.timer);
    this.jobs.clear();
  }

  private enqueue(job: Job, lane: GateLane): void {
    job.state = DeliveryState.Queued;
    job.lane = lane;
    const ticket = ++job.ticket;
    this.opts.gate.run(() => {
      if (job.ticket === ticket) void this.run(job);
    }, lane);
  }

  private async run(job: Job): Promise<void> {
    if (this.stopped || this.jobs.get(job.mailbox) !== job) return;
    job.state = DeliveryState.Sending;
    job.newer = false;
    const counts = job.counts;
    let outcome: AttemptOutcome = 'failed';
    await this.opts.record?.sending(job.mailbox);
    if (this.stopped) return;
    for (const target of this.opts.targets) {
      try {
        outcome = await this.opts.attempt(target, job.mailbox, counts);
      } catch (err) {
        this.opts.logger.warn({ err, pbx: this.opts.name, mailbox: job.mailbox }, 'MWI NOTIFY could not be sent');
        outcome = 'failed';
      }
      if (this.stopped) return;
      if (outcome !== 'failed') break;
    }
    if (outcome === 'delivered') this.opts.record?.delivered(job.mailbox, counts);
    if (job.newer) {
      // A newer state is waiting: send it now, whatever became of this one.
      job.backoffMs = this.minMs;
      this.enqueue(job, 'news');
      return;
    }
    if (outcome !== 'failed') {
      this.jobs.delete(job.mailbox);
      return;
    }
    const delay = job.backoffMs;
    job.backoffMs = Math.min(delay * 2, this.maxMs);
    job.state = DeliveryState.Backoff;
    this.opts.logger.warn(
      { pbx: this.opts.name, mailbox: job.mailbox, retryInMs: delay },
      'MWI NOTIFY failed at every target; retrying later',
    );
    job.timer = setTimeout(() => {
      job.timer = undefined;
      // A retry is not news: a PBX that was down gets its backlog behind what users are waiting for.
      if (!this.stopped && this.jobs.get(job.mailbox) === job) this.enqueue(job, 'bulk');
    }, delay);
  }
}
