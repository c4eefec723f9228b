/**
 * NonceCounts (src/sip/auth/nonce-counts.ts): the highest nonce-count accepted per nonce, in bounded memory.
 *
 * Covers: an nc accepted once per nonce and only upward (RFC 2617 §3.2.2); nonces counted independently; an
 * entry dropped once its nonce expired; the cap: the entry first used longest ago is evicted and any untracked
 * nonce issued no later is refused ('forgotten', never accepted again), while newer nonces still work.
 * Not: the wire (subscribe-auth-replay.test.ts), the digest itself (digest.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { NonceCounts } from '../../src/sip/auth/nonce-counts.js';

const NOW_S = 1_800_000_000;
const at = (s: number): number => s * 1000;

describe('NonceCounts', () => {
  it('accepts a nonce-count once, and afterwards only a greater one', () => {
    const counts = new NonceCounts();
    expect(counts.use('a', NOW_S, 1, 300, at(NOW_S))).toBe('fresh');
    expect(counts.use('a', NOW_S, 1, 300, at(NOW_S))).toBe('replay');
    expect(counts.use('a', NOW_S, 5, 300, at(NOW_S))).toBe('fresh');
    expect(counts.use('a', NOW_S, 4, 300, at(NOW_S))).toBe('replay');
    expect(counts.use('b', NOW_S, 1, 300, at(NOW_S))).toBe('fresh');
  });

  it('forgets a nonce once it has expired (checkNonce refuses it from then on)', () => {
    const counts = new NonceCounts();
    counts.use('a', NOW_S, 1, 300, at(NOW_S));
    counts.use('b', NOW_S + 200, 1, 300, at(NOW_S + 200));
    expect(counts.size).toBe(2);
    counts.use('c', NOW_S + 400, 1, 300, at(NOW_S + 400));
    expect(counts.size).toBe(2); // 'a' (expired at NOW_S + 300) is gone, 'b' is not
  });

  it('holds at most maxEntries; an evicted nonce, and older untracked ones, are refused, never accepted again', () => {
    const counts = new NonceCounts(2);
    counts.use('a', NOW_S, 1, 300, at(NOW_S + 10));
    counts.use('b', NOW_S + 5, 1, 300, at(NOW_S + 10));
    counts.use('c', NOW_S + 6, 1, 300, at(NOW_S + 10)); // evicts 'a'
    expect(counts.size).toBe(2);
    expect(counts.use('a', NOW_S, 1, 300, at(NOW_S + 11))).toBe('forgotten');
    expect(counts.use('a', NOW_S, 2, 300, at(NOW_S + 11))).toBe('forgotten');
    expect(counts.use('older', NOW_S - 1, 1, 300, at(NOW_S + 11))).toBe('forgotten');
    expect(counts.use('newer', NOW_S + 7, 1, 300, at(NOW_S + 11))).toBe('fresh');
    expect(counts.use('c', NOW_S + 6, 1, 300, at(NOW_S + 11))).toBe('replay');
  });

  it('refuses a cap that is not a positive integer', () => {
    expect(() => new NonceCounts(0)).toThrow(TypeError);
  });
});
