/**
 * Where the caller's RTP clock stands at a given moment of ours, learnt from when its packets arrived: the
 * mapping a recording needs to start at the beep on the caller's own timeline and to count a silence in which
 * the caller sent nothing (VAD/DTX without comfort noise) at its true length (issue 9 items 11 and 12).
 *
 * A packet whose last sample has timestamp T that we read at time A was sent no later than A, so at any time t
 * the sender's clock shows at least T + (t - A) * 8 kHz. The packet that arrived with the least delay gives the
 * tightest bound, so the estimate is the largest (T - A * 8) seen. Delay only lowers that figure: packets late
 * in the network, or read late by a busy event loop, cannot push the estimate ahead of the sender.
 *
 * Clocks drift (tens of ppm between a phone's crystal and ours): the largest figure is taken over the last one
 * to two WINDOW_MS, so an estimate from a minute ago does not stay ahead of a sender whose clock runs slow.
 *
 * Timestamps here are extended (no 32-bit wrap): the ReceiveBuffer's timeline positions in samples.
 * Not here: the timeline itself (receive-buffer.ts), RTCP sender reports (RFC 3550 §6.4.1 NTP/RTP pairs would
 * give the sender's wall clock, which a recording does not need).
 */
import { SAMPLE_RATE } from './audio-format.js';

const SAMPLES_PER_MS = SAMPLE_RATE / 1000;
/** The estimate is the best of the current window of observations and the one before it. */
const WINDOW_MS = 10_000;

export class SenderClock {
  private current = -Infinity;
  private previous = -Infinity;
  private windowStart = -Infinity;

  /** A packet ending at extended timestamp `endTs` (its last sample + 1) was read at `arrivalMs` (ms, monotonic). */
  observe(endTs: number, arrivalMs: number): void {
    if (arrivalMs - this.windowStart >= WINDOW_MS) {
      this.previous = this.current;
      this.current = -Infinity;
      this.windowStart = arrivalMs;
    }
    const offset = endTs - arrivalMs * SAMPLES_PER_MS;
    if (offset > this.current) this.current = offset;
  }

  /** The extended timestamp the sender's clock shows at `nowMs`; NaN while nothing is known. */
  at(nowMs: number): number {
    const offset = this.current > this.previous ? this.current : this.previous;
    return offset === -Infinity ? NaN : offset + nowMs * SAMPLES_PER_MS;
  }

  /** With no packet to tell, declares that the sender's clock shows `ts` at `nowMs`. */
  anchor(ts: number, nowMs: number): void {
    this.reset();
    this.observe(ts, nowMs);
  }

  /** Forgets everything (a sender whose clock has no relation to the one before). */
  reset(): void {
    this.current = -Infinity;
    this.previous = -Infinity;
    this.windowStart = -Infinity;
  }
}
