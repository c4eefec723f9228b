/**
 * A token bucket in front of outgoing NOTIFYs, so that a start-up resend or a PBX coming back after an outage
 * does not send thousands of requests in the same second: up to `burst` at once, then `perSecond`.
 *
 * Work waits in FIFO order. One timer at most, only while work waits.
 */
export class RateGate {
  private tokens: number;
  private last = Date.now();
  private readonly queue: (() => void)[] = [];
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
    return this.queue.length;
  }

  /** Runs `job` now if a slot is free, else as soon as one is. */
  run(job: () => void): void {
    this.queue.push(job);
    this.drain();
  }

  /** Drops every waiting job (shutdown). */
  clear(): void {
    this.queue.length = 0;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private drain(): void {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perSecond) / 1000);
    this.last = now;
    while (this.queue.length > 0 && this.tokens >= 1) {
      this.tokens -= 1;
      const job = this.queue.shift();
      try {
        job?.();
      } catch (err) {
        this.onError(err);
      }
    }
    if (this.queue.length > 0 && this.timer === undefined) {
      const waitMs = Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.perSecond));
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.drain();
      }, waitMs);
    }
  }
}
