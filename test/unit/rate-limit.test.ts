/**
 * Per-source rate limiting (src/sip/rate-limit.ts): SourceRateLimiter, driven by an injected clock.
 *
 * Covers: a new source gets its whole burst at once; then it is throttled; tokens come back at perSecond
 * (fractional rates included) and never beyond burst; sources are independent (a flood from one leaves
 * another's allowance whole); the memory bound evicts the least recently seen source, and a forgotten source
 * returns with a full bucket; a clock stepping backwards; option validation.
 *
 * Does not cover: what the stack does with a refused message (stack tests), timing of the real clock.
 */
import { describe, expect, it } from 'vitest';
import { SourceRateLimiter } from '../../src/sip/rate-limit.js';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/** How many of `n` calls for `source` are allowed. */
function allowedOf(limiter: SourceRateLimiter, source: string, n: number): number {
  let allowed = 0;
  for (let i = 0; i < n; i++) if (limiter.allow(source)) allowed++;
  return allowed;
}

describe('SourceRateLimiter', () => {
  it('allows a new source its whole burst at once, then throttles it', () => {
    const c = clock();
    const limiter = new SourceRateLimiter({ perSecond: 10, burst: 5, now: c.now });
    expect(allowedOf(limiter, '192.0.2.1', 5)).toBe(5);
    expect(limiter.allow('192.0.2.1')).toBe(false);
    expect(limiter.allow('192.0.2.1')).toBe(false);
  });

  it('gives back one token per 1/perSecond seconds', () => {
    const c = clock();
    const limiter = new SourceRateLimiter({ perSecond: 10, burst: 5, now: c.now });
    allowedOf(limiter, 'a', 5);
    c.advance(99);
    expect(limiter.allow('a')).toBe(false);
    c.advance(1);
    expect(limiter.allow('a')).toBe(true);
    expect(limiter.allow('a')).toBe(false);
    c.advance(300);
    expect(allowedOf(limiter, 'a', 10)).toBe(3);
  });

  it('sustains exactly perSecond under a steady flood', () => {
    const c = clock();
    const limiter = new SourceRateLimiter({ perSecond: 50, burst: 10, now: c.now });
    let allowed = 0;
    // 1000 messages per second for 10 seconds.
    for (let ms = 0; ms < 10_000; ms++) {
      if (limiter.allow('flood')) allowed++;
      c.advance(1);
    }
    expect(allowed).toBeGreaterThanOrEqual(10 + 50 * 10 - 1);
    expect(allowed).toBeLessThanOrEqual(10 + 50 * 10);
  });

  it('handles rates below one per second', () => {
    const c = clock();
    const limiter = new SourceRateLimiter({ perSecond: 0.5, burst: 1, now: c.now });
    expect(limiter.allow('slow')).toBe(true);
    c.advance(1999);
    expect(limiter.allow('slow')).toBe(false);
    c.advance(1);
    expect(limiter.allow('slow')).toBe(true);
  });

  it('never saves up more than burst, however long a source is quiet', () => {
    const c = clock();
    const limiter = new SourceRateLimiter({ perSecond: 100, burst: 3, now: c.now });
    limiter.allow('a');
    c.advance(3_600_000);
    expect(allowedOf(limiter, 'a', 10)).toBe(3);
  });

  it('keeps sources independent: a flooding source does not use up another\'s allowance', () => {
    const c = clock();
    const limiter = new SourceRateLimiter({ perSecond: 5, burst: 4, now: c.now });
    expect(allowedOf(limiter, '198.51.100.66', 1000)).toBe(4);
    expect(allowedOf(limiter, '192.168.222.10', 4)).toBe(4);
    expect(limiter.allow('192.168.222.10')).toBe(false);
    c.advance(200);
    expect(limiter.allow('198.51.100.66')).toBe(true);
    expect(limiter.allow('192.168.222.10')).toBe(true);
  });

  it('remembers at most maxSources and forgets the least recently seen first', () => {
    const c = clock();
    const limiter = new SourceRateLimiter({ perSecond: 1, burst: 2, maxSources: 3, now: c.now });
    allowedOf(limiter, 'a', 2); // a, b and c are out of tokens
    allowedOf(limiter, 'b', 2);
    allowedOf(limiter, 'c', 2);
    expect(limiter.allow('a')).toBe(false); // a is now the most recently seen; b the least
    expect(limiter.allow('d')).toBe(true); // evicts b
    expect(limiter.size).toBe(3);
    // a and c are still remembered (still empty); b was forgotten, so it starts over with a full bucket.
    expect(limiter.allow('a')).toBe(false);
    expect(limiter.allow('c')).toBe(false);
    expect(allowedOf(limiter, 'b', 3)).toBe(2);
    expect(limiter.size).toBe(3);
  });

  it('stays at maxSources under a spray of distinct sources', () => {
    const c = clock();
    const limiter = new SourceRateLimiter({ perSecond: 1, burst: 1, maxSources: 100, now: c.now });
    for (let i = 0; i < 10_000; i++) expect(limiter.allow(`10.0.${i >> 8}.${i & 255}`)).toBe(true);
    expect(limiter.size).toBe(100);
  });

  it('adds nothing when the clock steps backwards, and refills once it moves on', () => {
    const c = clock();
    const limiter = new SourceRateLimiter({ perSecond: 10, burst: 1, now: c.now });
    expect(limiter.allow('a')).toBe(true);
    c.advance(-60_000);
    expect(limiter.allow('a')).toBe(false);
    c.advance(100);
    expect(limiter.allow('a')).toBe(true);
  });

  it('uses Date.now when no clock is given', () => {
    const limiter = new SourceRateLimiter({ perSecond: 1, burst: 1 });
    expect(limiter.allow('a')).toBe(true);
    expect(limiter.allow('a')).toBe(false);
  });

  it('refuses options that make no sense (TypeError)', () => {
    expect(() => new SourceRateLimiter({ perSecond: 0, burst: 1 })).toThrow(TypeError);
    expect(() => new SourceRateLimiter({ perSecond: Number.NaN, burst: 1 })).toThrow(TypeError);
    expect(() => new SourceRateLimiter({ perSecond: 1, burst: 0.5 })).toThrow(TypeError);
    expect(() => new SourceRateLimiter({ perSecond: 1, burst: Infinity })).toThrow(TypeError);
    expect(() => new SourceRateLimiter({ perSecond: 1, burst: 1, maxSources: 0 })).toThrow(TypeError);
    expect(() => new SourceRateLimiter({ perSecond: 1, burst: 1, maxSources: 1.5 })).toThrow(TypeError);
  });
});
