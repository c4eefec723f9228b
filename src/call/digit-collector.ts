/**
 * The keys a caller pressed and not yet consumed (type-ahead), and the one collectDigits() that may be
 * waiting for them. Deadlines are checked on the call's media tick (every 20 ms, the shared clock), not with
 * timers of their own: nothing to leak when a call ends, and 20 ms is below what a caller can notice.
 *
 * Type-ahead: keys pressed during a prompt stay here for the next collectDigits(), so a caller who knows the
 * menu can dial an extension over the greeting. The buffer keeps the last MAX_BUFFERED keys.
 */
import type { DtmfKey } from '../media/dtmf/rfc4733.js';

export interface CollectOptions {
  /** Most keys to collect (a terminator does not count). Default 1. */
  max?: number;
  /** Time allowed for the first key, ms. Default 5000. */
  timeoutMs?: number;
  /** Time allowed between keys once the first came, ms. Default 3000. */
  interDigitMs?: number;
  /** Keys that end the input and are not part of it. Default '#'. Empty: none. */
  terminators?: string;
  /**
   * After a multi-digit input (max > 1) ends by reaching `max`, a terminator pressed within this long is the caller's habitual
   * '#' after a full-length entry ("27001#"): it is dropped instead of being typed ahead into the next prompt.
   * Default 1500 ms; 0 keeps it.
   */
  trailingTerminatorMs?: number;
}

export type CollectReason = 'max' | 'terminator' | 'timeout';

export interface CollectResult {
  /** The keys collected, terminator excluded. */
  digits: string;
  reason: CollectReason;
  /** The terminator pressed, for reason 'terminator'. */
  terminator?: string;
}

const MAX_BUFFERED = 32;

interface Waiter {
  max: number;
  trailingTerminatorMs: number;
  interDigitMs: number;
  terminators: string;
  digits: string;
  deadline: number;
  resolve: (result: CollectResult) => void;
  reject: (err: Error) => void;
}

export class DigitCollector {
  private buffered: DtmfKey[] = [];
  private waiter: Waiter | undefined = undefined;
  /** A terminator arriving before this instant (ms) is dropped (see trailingTerminatorMs). */
  private swallowUntil = 0;
  private swallowKeys = '';

  /** Keys pressed and not yet consumed. */
  get pending(): number {
    return this.buffered.length;
  }

  /** The first buffered key, without consuming it. */
  peek(): DtmfKey | undefined {
    return this.buffered[0];
  }

  /** Forgets type-ahead (e.g. before "enter your PIN", so keys from an earlier menu are not taken for it). */
  flush(): void {
    this.buffered = [];
  }

  /** A key from the caller. */
  push(key: DtmfKey, nowMs: number): void {
    if (nowMs < this.swallowUntil && this.swallowKeys.includes(key)) {
      this.swallowUntil = 0;
      return;
    }
    this.swallowUntil = 0;
    this.buffered.push(key);
    if (this.buffered.length > MAX_BUFFERED) this.buffered.shift();
    if (this.waiter) this.drain(this.waiter, nowMs);
  }

  /** Collects keys; resolves by max, terminator or timeout, rejects at end(). Throws TypeError on bad options. */
  collect(options: CollectOptions, nowMs: number): Promise<CollectResult> {
    const max = options.max ?? 1;
    const timeoutMs = options.timeoutMs ?? 5000;
    const interDigitMs = options.interDigitMs ?? 3000;
    if (!Number.isInteger(max) || max < 1) throw new TypeError(`max must be a whole number >= 1, got ${max}`);
    if (!(timeoutMs >= 0) || !(interDigitMs >= 0)) throw new TypeError('timeoutMs and interDigitMs must be >= 0');
    // A new collect replaces one still waiting (which ends as a timeout with what it had).
    this.settle('timeout');
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        max,
        trailingTerminatorMs: options.trailingTerminatorMs ?? 1500,
        interDigitMs,
        terminators: options.terminators ?? '#',
        digits: '',
        deadline: nowMs + timeoutMs,
        resolve,
        reject,
      };
      this.waiter = waiter;
      this.drain(waiter, nowMs);
    });
  }

  /** From the media tick: ends a collect whose deadline passed. */
  tick(nowMs: number): void {
    if (this.waiter && nowMs >= this.waiter.deadline) this.settle('timeout');
  }

  /** The call ended: a waiting collect rejects with `err` (the keys it had mean nothing any more). */
  end(err: Error): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(err);
  }

  private drain(w: Waiter, nowMs: number): void {
    while (this.buffered.length > 0 && this.waiter === w) {
      const key = this.buffered.shift()!;
      if (w.terminators.includes(key)) {
        this.settle('terminator', key);
        return;
      }
      w.digits += key;
      w.deadline = nowMs + w.interDigitMs;
      if (w.digits.length >= w.max) {
        this.settle('max');
        // The '#' a caller adds after a full-length entry may already be buffered, or come soon after.
        // Multi-digit entries only: after a one-key menu choice, '#' may be the next menu's own key.
        if (w.max > 1 && w.terminators !== '' && w.trailingTerminatorMs > 0) {
          if (this.buffered.length > 0 && w.terminators.includes(this.buffered[0]!)) this.buffered.shift();
          else {
            this.swallowUntil = nowMs + w.trailingTerminatorMs;
            this.swallowKeys = w.terminators;
          }
        }
      }
    }
  }

  private settle(reason: CollectReason, terminator?: string): void {
    const w = this.waiter;
    if (!w) return;
    this.waiter = undefined;
    w.resolve(terminator === undefined ? { digits: w.digits, reason } : { digits: w.digits, reason, terminator });
  }
}
