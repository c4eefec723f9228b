/**
 * A warning that floods must not multiply: the first event is logged at once, later ones are counted and logged
 * at most once per interval with how many there were (a connection flood makes one line per 10 s, not one per
 * socket).
 */
import type { Logger } from 'pino';

export class CountedLog {
  private last = Number.NEGATIVE_INFINITY;
  private count = 0;

  constructor(
    private readonly log: Logger,
    private readonly message: string,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one event; logs `fields` with the count when the interval since the last line is over. */
  note(fields: Record<string, unknown>): void {
    this.count++;
    const now = this.now();
    if (now - this.last < this.intervalMs) return;
    this.log.warn({ ...fields, count: this.count, intervalS: this.intervalMs / 1000 }, this.message);
    this.last = now;
    this.count = 0;
  }
}
