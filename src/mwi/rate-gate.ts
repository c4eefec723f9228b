/**
 * A token bucket in front of outgoing NOTIFYs, so that a start-up resend or a PBX coming back after an outage
 * does not send thousands of requests in the same second: up to `burst` at once, then `perSecond`.
 *
 * Two lanes: news (a message just left or read: someone is looking at the lamp) goes before bulk work (the
 * start-up resend of every mailbox, retries to a PBX that failed), so that a site restarting with 10,000
 * mailboxes does not leave a new message's lamp dark for minutes behind the resend. FIFO within a lane.
 * One timer at most, only while work waits.
 */
export type GateLane = 'news' | 'bulk';

export class RateGate {
  private tokens: number;
  private last = Date.now();
  private readonly news: (() => void)[] = [];
  private readonly bulk: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** Sustained rate, jobs per second (> 0). */
    private readonly perSecond: number,
    /** Jobs that may start at once after a quiet period. Default: one second's worth. */
    private readonly burst: number = Math.max(1, Math.floor(perSecond)),
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    if (!(perSecond > 0)) throw new TypeError(`perSecond must be above 0, got ${perSecond}`);
    this.tokens = this.burst;
  }

  /** Jobs waiting for a slot. */
  get waiting(): number {
    return this.news.length + this.bulk.length;
  }

  /** Runs `job` now if a slot is free, else as soon as one is (after the waiting jobs of its lane, and bulk jobs after every news job). */
  run(job: () => void, lane: GateLane = 'news'): void {
    (lane === 'news' ? this.news : this.bulk).push(job);
    this.drain();
  }

  /** Drops every waiting job (shutdown). */
  clear(): void {
    this.news.length = 0;
    this.bulk.length = 0;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private drain(): void {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perSecond) / 1000);
    this.last = now;
    while (this.waiting > 0 && this.tokens >= 1) {
      this.tokens -= 1;
      const job = this.news.length > 0 ? this.news.shift() : this.bulk.shift();
      try {
        job?.();
      } catch (err) {
        this.onError(err);
      }
    }
    if (this.waiting > 0 && this.timer === undefined) {
      const waitMs = Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.perSecond));
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.drain();
      }, waitMs);
    }
  }
}
