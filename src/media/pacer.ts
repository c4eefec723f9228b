/**
 * The media clock: ONE timer for every call in the process, ticking every 20 ms (one G.711 frame). Each
 * subscriber (a call's RtpSender, a player, a recorder's silence timer) is called on every tick with the
 * monotonic time and a frame index. DESIGN.md: "no per-call timers (one shared clock drives every call's
 * 20 ms tick)".
 *
 * Drift-free: tick k is due at base + k * 20 ms on process.hrtime.bigint(), never "previous tick + 20 ms", so
 * timer lateness never accumulates. The timer is a setTimeout for the time left to the next due tick.
 *
 * A late event loop (GC pause, a slow callback) does not make a call skip audio: when the timer fires after
 * several ticks fell due, the missed ticks run at once, in order, and every subscriber sees every frame index
 * exactly once. Catch-up is capped: when the clock is more than `maxCatchUpMs` behind, it resynchronises (the
 * next tick is due now, the schedule restarts from there) and counts one `late` event; frame indexes stay
 * contiguous even then, so a subscriber never sees a gap in frame indexes (the wall-clock slots skipped are
 * counted in `stats.resyncedFrames`). One timer callback runs at most `maxBurst` ticks (maxCatchUpMs / period + 2)
 * and then yields to the event loop, so ticks slower than the period cannot lock the loop.
 *
 * Frame indexes count delivered ticks; they keep increasing across a stop and a restart of the same clock.
 *
 * The clock runs only while it has subscribers: with none, its timer is cleared so the process can exit.
 * A subscriber that throws is reported to `onError` and does not stop the others or the clock.
 *
 * No busy spin: a plain setTimeout (rounded down, with a 1 ms early tolerance) measured inter-tick p50 20.3 ms,
 * p99 20.7 ms, lateness <= 0.7 ms with 200 idle subscribers (bench/clock.bench.ts prints it), and
 * with 500 real senders on UDP (bench/pacer.bench.ts) clock p99 21.4 ms and receiver-side p99 23.7 ms, max
 * 28 ms: inside the budget, so spinning a core would buy nothing we need.
 *
 * Allocation: a few BigInts per tick (hrtime reads and due-time arithmetic), none per subscriber.
 *
 * Not here: what a tick does (rtp-sender.ts, player), worker threads (one clock per event loop).
 */
import { FRAME_MS } from './audio-format.js';
import { FixedHistogram } from '../metrics/fixed-histogram.js';

/** 20 ms: the G.711 packet time (RFC 3551 §4.2 makes 20 ms the default packetization interval). */
export { FRAME_MS };

/** One party driven by the clock. */
export interface ClockSubscriber {
  /** Called once per frame: `now` is process.hrtime.bigint() (ns) when the tick runs; indexes are consecutive. */
  tick(now: bigint, frameIndex: number): void;
}

/** What a call's media needs from the clock: one clock or a group of phased clocks (clock-group.ts). */
export interface TickSource {
  subscribe(subscriber: ClockSubscriber): () => void;
}

/** Where the clock reads time and sets its one timer; tests inject a fake one. */
export interface ClockTimeSource {
  /** Monotonic time in nanoseconds. */
  now(): bigint;
  /** Calls `fn` once after about `ms` milliseconds; returns a handle for clear(). */
  set(fn: () => void, ms: number): unknown;
  /** Cancels a timer from set(). */
  clear(handle: unknown): void;
}

/** The real time source: process.hrtime.bigint and setTimeout. */
export const systemTimeSource: ClockTimeSource = {
  now: () => process.hrtime.bigint(),
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface MediaClockOptions {
  /** Tick period in ms. Default 20 (FRAME_MS). */
  periodMs?: number;
  /** Largest backlog worked off by running missed ticks at once; beyond it the clock resynchronises. Default 200. */
  maxCatchUpMs?: number;
  /** A tick due within this many ms is run now rather than after another timer. Default 1 (timer granularity). */
  earlyToleranceMs?: number;
  /** Time source. Default systemTimeSource. */
  time?: ClockTimeSource;
  /** Called with the error and the subscriber when a subscriber's tick() throws. Default: ignore. */
  onError?: (err: unknown, subscriber: ClockSubscriber) => void;
  /**
   * Ticks fall on instants t with t ≡ phaseMs (mod periodMs) on the monotonic clock, so that several clocks
   * with different phases interleave (clock-group.ts). Default: one period after the first subscriber.
   */
  phaseMs?: number;
}

/** Counters since the clock was created. */
export interface MediaClockStats {
  /** Ticks run (each delivered to every subscriber of the moment). */
  ticks: number;
  /** Ticks that ran because they had been missed (more than one tick due at a timer firing). */
  caughtUp: number;
  /** Times the clock was more than maxCatchUpMs behind and resynchronised. */
  late: number;
  /** Wall-clock frame slots given up by those resynchronisations. */
  resyncedFrames: number;
  /** Largest lateness of a tick behind its due time, in ms (before any resynchronisation). */
  maxLatenessMs: number;
  /** Subscriber errors reported to onError. */
  errors: number;
}

const NS_PER_MS = 1_000_000n;

/**
 * Bucket bounds (ms) of the tick interval histogram: fine around the 20 ms period, where a healthy clock
 * stays; a tick of a catch-up burst shows as ~0 ms, a stalled loop as 40 ms and more.
 */
export const TICK_INTERVAL_BOUNDS_MS = [1, 5, 10, 15, 18, 19, 19.5, 20.5, 21, 22, 25, 30, 40, 60, 100, 200];

export class MediaClock {
  private readonly periodNs: bigint;
  private readonly maxCatchUpNs: bigint;
  private readonly toleranceNs: bigint;
  private readonly phaseNs: bigint | undefined;
  /** Most ticks run in one timer callback before yielding to the event loop. */
  readonly maxBurst: number;
  private readonly time: ClockTimeSource;
  private readonly onError: ((err: unknown, subscriber: ClockSubscriber) => void) | undefined;

  /** Dense array of subscribers; a slot is null while a dispatch is running and it was unsubscribed. */
  private subscribers: (ClockSubscriber | null)[] = [];
  private readonly members = new Set<ClockSubscriber>();
  private dispatching = false;
  private needsCompaction = false;

  private timer: unknown = undefined;
  private running = false;
  private nextDue = 0n;
  private frameIndex = 0;
  private closed = false;

  private readonly counters: MediaClockStats = {
    ticks: 0, caughtUp: 0, late: 0, resyncedFrames: 0, maxLatenessMs: 0, errors: 0,
  };
  /**
   * Time between consecutive ticks (ms): every subscriber's outbound packet interval (/metrics reads it). Plain
   * numbers, one observe per tick: no per-packet cost.
   */
  readonly intervals = new FixedHistogram(TICK_INTERVAL_BOUNDS_MS);
  /** When the previous tick ran (ns); 0 before the first tick after a start. */
  private lastTickNs = 0n;

  constructor(options: MediaClockOptions = {}) {
    const periodMs = options.periodMs ?? FRAME_MS;
    if (!(periodMs >= 1)) throw new TypeError(`periodMs must be >= 1, got ${periodMs}`);
    const maxCatchUpMs = options.maxCatchUpMs ?? 200;
    if (!(maxCatchUpMs >= 0)) throw new TypeError(`maxCatchUpMs must be >= 0, got ${maxCatchUpMs}`);
    this.periodNs = BigInt(Math.round(periodMs * 1e6));
    this.maxCatchUpNs = BigInt(Math.round(maxCatchUpMs * 1e6));
    this.toleranceNs = BigInt(Math.round((options.earlyToleranceMs ?? 1) * 1e6));
    this.phaseNs = options.phaseMs === undefined ? undefined : BigInt(Math.round(options.phaseMs * 1e6)) % this.periodNs;
    this.maxBurst = Math.floor(maxCatchUpMs / periodMs) + 2;
    this.time = options.time ?? systemTimeSource;
    this.onError = options.onError;
  }

  /** Number of subscribers. */
  get size(): number {
    return this.members.size;
  }

  /** True while the timer is armed (there are subscribers). */
  get isRunning(): boolean {
    return this.running;
  }

  /** A copy of the counters. */
  get stats(): MediaClockStats {
    return { ...this.counters };
  }

  /** Resets maxLatenessMs (e.g. per metrics scrape). */
  resetMaxLateness(): void {
    this.counters.maxLatenessMs = 0;
  }

  /**
   * Adds a subscriber; it gets every tick from the next one on (a subscriber added during a tick is not
   * called for that tick). Starts the clock if it was idle. Adding one twice is a no-op. Returns a function
   * that unsubscribes it.
   */
  subscribe(subscriber: ClockSubscriber): () => void {
    if (this.closed) throw new Error('MediaClock is closed');
    if (!this.members.has(subscriber)) {
      this.members.add(subscriber);
      this.subscribers.push(subscriber);
      if (!this.running) this.start();
    }
    return () => this.unsubscribe(subscriber);
  }

  /** Removes a subscriber (safe inside a tick, including its own). Stops the clock when none are left. */
  unsubscribe(subscriber: ClockSubscriber): void {
    if (!this.members.delete(subscriber)) return;
    const i = this.subscribers.indexOf(subscriber);
    if (this.dispatching) {
      this.subscribers[i] = null;
      this.needsCompaction = true;
    } else {
      this.subscribers.splice(i, 1);
    }
    if (this.members.size === 0 && !this.dispatching) this.stop();
  }

  /** Stops the clock and drops every subscriber. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.members.clear();
    this.subscribers.fill(null); // a dispatch in progress skips the rest
    this.subscribers = [];
    this.stop();
  }

  private start(): void {
    this.running = true;
    this.lastTickNs = 0n; // the idle time before a restart is no packet interval
    // The first tick is one period after the first subscriber arrives: tick k is due at start + k * period.
    // With a phase, the first tick moves back to the last instant of that phase: within one period.
    const now = this.time.now();
    let due = now + this.periodNs;
    if (this.phaseNs !== undefined) {
      due -= (((due - this.phaseNs) % this.periodNs) + this.periodNs) % this.periodNs;
      if (due <= now) due += this.periodNs;
    }
    this.nextDue = due;
    this.arm(due - now);
  }

  private stop(): void {
    this.running = false;
    if (this.timer !== undefined) {
      this.time.clear(this.timer);
      this.timer = undefined;
    }
  }

  private arm(remainingNs: bigint): void {
    // Timers have 1 ms granularity: round down and let earlyToleranceMs accept a tick that is due in < 1 ms.
    const ms = remainingNs <= 0n ? 0 : Number(remainingNs / NS_PER_MS);
    this.timer = this.time.set(this.onTimer, ms);
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    if (!this.running) return;
    let now = this.time.now();
    const behind = now - this.nextDue;
    if (behind > this.maxCatchUpNs) {
      // Too far behind to catch up without a burst the peer's jitter buffer would drop anyway: restart
      // the schedule from now. Frame indexes stay contiguous; the skipped wall-clock slots are counted.
      this.noteLateness(behind);
      this.counters.late++;
      this.counters.resyncedFrames += Number(behind / this.periodNs);
      this.nextDue = now;
    }
    let ran = 0;
    // Bounded: when the ticks themselves take longer than a period, catching up would never end and the
    // sockets' sends (queued on process.nextTick) would never run. After maxBurst ticks we yield; the next
    // firing resynchronises if we are still too far behind.
    while (this.running && ran < this.maxBurst && now + this.toleranceNs >= this.nextDue) {
      this.noteLateness(now - this.nextDue);
      if (ran > 0) this.counters.caughtUp++;
      this.dispatch(now);
      ran++;
      this.nextDue += this.periodNs;
      now = this.time.now();
    }
    if (this.running) this.arm(this.nextDue - now);
  };

  private noteLateness(ns: bigint): void {
    if (ns <= 0n) return;
    const ms = Number(ns) / 1e6;
    if (ms > this.counters.maxLatenessMs) this.counters.maxLatenessMs = ms;
  }

  private dispatch(now: bigint): void {
    const frame = this.frameIndex++;
    this.counters.ticks++;
    if (this.lastTickNs !== 0n) this.intervals.observe(Number(now - this.lastTickNs) / 1e6);
    this.lastTickNs = now;
    this.dispatching = true;
    const list = this.subscribers;
    const n = list.length; // subscribers added during this tick start at the next one
    for (let i = 0; i < n; i++) {
      const s = list[i];
      if (s === null || s === undefined) continue;
      try {
        s.tick(now, frame);
      } catch (err) {
        this.counters.errors++;
        if (this.onError !== undefined) {
          try {
            this.onError(err, s);
          } catch {
            // An error reporter that throws must not stop the clock either.
          }
        }
      }
    }
    this.dispatching = false;
    if (this.needsCompaction) {
      this.needsCompaction = false;
      this.subscribers = this.subscribers.filter((s): s is ClockSubscriber => s !== null);
    }
    if (this.members.size === 0) this.stop();
  }
}
