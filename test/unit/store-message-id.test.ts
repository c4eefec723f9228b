/*
 * Message ids (src/store/message-id.ts): ULID-like, 26 characters of Crockford base 32.
 *
 * Covers: the shape (and isMessageId accepting it, refusing path tricks and other strings); ids sorting as
 * plain strings in the order of their creation times, across a wide range of times; no repeats in a burst
 * created within the same milliseconds.
 *
 * Does not cover: order within one millisecond (random by design; play order sorts by receivedAt).
 */
import { describe, expect, it } from 'vitest';
import { isMessageId, newMessageId } from '../../src/store/message-id.js';

describe('newMessageId', () => {
  it('is 26 characters of Crockford base 32, which isMessageId accepts', () => {
    const id = newMessageId();
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(isMessageId(id)).toBe(true);
  });

  it('sorts as a string in the order of creation time', () => {
    const times = [0, 1, 31, 32, 1_000_000, 1_700_000_000_000, 1_700_000_000_001, 2 ** 47, 2 ** 48 - 1];
    const ids = times.map((t) => newMessageId(t));
    expect([...ids].sort()).toEqual(ids);
    expect(ids[5]!.slice(0, 10)).not.toBe(ids[6]!.slice(0, 10));
  });

  it('never repeats in a burst created within the same milliseconds', () => {
    const ids = new Set(Array.from({ length: 20_000 }, () => newMessageId(1_700_000_000_000)));
    expect(ids.size).toBe(20_000);
  });
});

describe('isMessageId', () => {
  it.each(['', '../../etc/passwd', '01J9Z3K8Q4V6M2T5R7W0X1Y2Z', '01J9Z3K8Q4V6M2T5R7W0X1Y2Z3A', '01j9z3k8q4v6m2t5r7w0x1y2z3', '01J9Z3K8Q4V6M2T5R7W0X1Y2ZU'])(
    'refuses %j',
    (text) => expect(isMessageId(text)).toBe(false),
  );
});
