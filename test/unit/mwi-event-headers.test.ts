/**
 * Event, Expires and Subscription-State as the message-summary notifier reads and writes them (RFC 6665 §8.2).
 *
 * Covers: Event package and id parameter (quoted or not), malformed Event values, the byte-by-byte comparison
 * of event type and id, Expires (absent, malformed, huge), Subscription-State values.
 * Does not cover: what the notifier does with them (integration/mwi.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { formatEventHeader, parseEventHeader, parseExpires, sameEvent, subscriptionState } from '../../src/mwi/event-headers.js';

describe('parseEventHeader', () => {
  it('reads the package and the id parameter', () => {
    expect(parseEventHeader('message-summary')).toEqual({ type: 'message-summary' });
    expect(parseEventHeader(' message-summary ; id=7 ')).toEqual({ type: 'message-summary', id: '7' });
    expect(parseEventHeader('message-summary;ID="a b"')).toEqual({ type: 'message-summary', id: 'a b' });
  });

  it('returns undefined for an absent or malformed value', () => {
    expect(parseEventHeader(undefined)).toBeUndefined();
    expect(parseEventHeader('')).toBeUndefined();
    expect(parseEventHeader(';id=1')).toBeUndefined();
    expect(parseEventHeader('message-summary;;')).toBeUndefined();
  });

  it('writes the id back only when there is one', () => {
    expect(formatEventHeader({ type: 'message-summary' })).toBe('message-summary');
    expect(formatEventHeader({ type: 'message-summary', id: '7' })).toBe('message-summary;id=7');
  });
});

describe('sameEvent', () => {
  it('MUST compare the event type byte by byte, and an id never matches its absence', () => {
    expect(sameEvent({ type: 'message-summary', id: '1' }, { type: 'message-summary', id: '1' })).toBe(true);
    expect(sameEvent({ type: 'message-summary' }, { type: 'Message-Summary' })).toBe(false);
    expect(sameEvent({ type: 'message-summary', id: '1' }, { type: 'message-summary' })).toBe(false);
  });
});

describe('parseExpires', () => {
  it('reads delta-seconds, undefined when absent, null when malformed', () => {
    expect(parseExpires(' 3600 ')).toBe(3600);
    expect(parseExpires('0')).toBe(0);
    expect(parseExpires(undefined)).toBeUndefined();
    expect(parseExpires('-1')).toBeNull();
    expect(parseExpires('1h')).toBeNull();
  });

  it('caps values beyond 2**32-1', () => {
    expect(parseExpires('99999999999999')).toBe(0xffffffff);
  });
});

describe('subscriptionState', () => {
  it('writes active;expires=N with whole seconds, and terminated;reason=R', () => {
    expect(subscriptionState({ active: true, expiresS: 599.6 })).toBe('active;expires=599');
    expect(subscriptionState({ active: true, expiresS: -3 })).toBe('active;expires=0');
    expect(subscriptionState({ active: false, reason: 'timeout' })).toBe('terminated;reason=timeout');
  });
});
