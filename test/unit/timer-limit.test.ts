/**
 * clampTimerMs and the TimerBag that uses it: a delay from the wire larger than Node's 2**31-1 ms timer limit
 * must not fire at once (Node's behaviour for an overflowing or NaN delay is to fire after 1 ms).
 *
 * Does not cover: the session timer in a real call (integration/session-expires-overflow.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { clampTimerMs, MAX_TIMER_MS } from '../../src/sip/timer-limit.js';
import { TimerBag } from '../../src/sip/transaction/timer-bag.js';

describe('clampTimerMs', () => {
  it('keeps ordinary delays as they are', () => {
    expect(clampTimerMs(0)).toBe(0);
    expect(clampTimerMs(32_000)).toBe(32_000);
    expect(clampTimerMs(MAX_TIMER_MS)).toBe(MAX_TIMER_MS);
  });

  it('caps delays Node cannot hold, and NaN, at the longest it can', () => {
    expect(clampTimerMs(2_147_516_000)).toBe(MAX_TIMER_MS);
    expect(clampTimerMs(Number.POSITIVE_INFINITY)).toBe(MAX_TIMER_MS);
    expect(clampTimerMs(Number.NaN)).toBe(MAX_TIMER_MS);
  });

  it('treats a negative delay as zero', () => {
    expect(clampTimerMs(-5)).toBe(0);
  });
});

describe('TimerBag with a delay past the timer limit', () => {
  it('does not fire it at once', async () => {
    const bag = new TimerBag<'session'>();
    let fired = false;
    bag.start('session', 2_147_516 * 1000, () => (fired = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fired).toBe(false);
    expect(bag.running('session')).toBe(true);
    bag.clearAll();
  });
});
