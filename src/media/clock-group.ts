/**
 * Several MediaClocks at evenly spread phases (20 ms / n apart), each call on the least busy one. Every call
 * still gets exactly one tick per 20 ms on a drift-free schedule (its own clock's), but the process no longer
 * does every call's 20 ms of work in one burst: with 500 calls one clock runs ~500 sends back to back and
 * holds the event loop for several ms, delaying received packets and the next timers; four phases cut each
 * burst to a quarter and keep the loop responsive (bench/media-capacity.ts shows the effect on the outbound
 * interval p99/max).
 *
 * A call stays on its clock for life: moving it would change its packet phase (a one-off interval jump).
 */
import { MediaClock, type ClockSubscriber, type MediaClockOptions, type MediaClockStats } from './pacer.js';
import { FRAME_MS } from './audio-format.js';
import { FixedHistogram } from '../metrics/fixed-histogram.js';

export class MediaClockGroup {
  private readonly clocks: MediaClock[];

  constructor(phases = 4, options: Omit<MediaClockOptions, 'phaseMs'> = {}) {
    if (!Number.isInteger(phases) || phases < 1) throw new TypeError(`phases must be a whole number >= 1, got ${phases}`);
    const period = options.periodMs ?? FRAME_MS;
    this.clocks = Array.from({ length: phases }, (_, k) => new MediaClock({ ...options, phaseMs: (k * period) / phases }));
  }

  /** Subscribers across all phases. */
  get size(): number {
    return this.clocks.reduce((n, c) => n + c.size, 0);
  }

  /** Subscribes to the phase with the fewest subscribers; returns the unsubscribe function. */
  subscribe(subscriber: ClockSubscriber): () => void {
    let best = this.clocks[0]!;
    for (const c of this.clocks) if (c.size < best.size) best = c;
    return best.subscribe(subscriber);
  }

  /** Counters summed over the phases (maxLatenessMs: the largest). */
  get stats(): MediaClockStats {
    const all = this.clocks.map((c) => c.stats);
    const sum = (f: (s: MediaClockStats) => number): number => all.reduce((n, s) => n + f(s), 0);
    return {
      ticks: sum((s) => s.ticks),
      caughtUp: sum((s) => s.caughtUp),
      late: sum((s) => s.late),
      resyncedFrames: sum((s) => s.resyncedFrames),
      maxLatenessMs: Math.max(...all.map((s) => s.maxLatenessMs)),
      errors: sum((s) => s.errors),
    };
  }

  /** Tick intervals summed over the phases (a new histogram: read at a /metrics scrape, not per tick). */
  intervals(): FixedHistogram {
    const sum = new FixedHistogram(this.clocks[0]!.intervals.bounds);
    for (const c of this.clocks) sum.add(c.intervals);
    return sum;
  }

  close(): void {
    for (const c of this.clocks) c.close();
  }
}
