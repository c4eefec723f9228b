/**
 * What a per-source limit counts under (src/sip/source-key.ts): IPv6 sources per network prefix, IPv4 per
 * address, and the limits that use it (connection quota keys via the transport, the subscription caps, the
 * strangers' log).
 *
 * Covers: IPv4 and IPv4-mapped IPv6 are the IPv4 address; two addresses of one /64 share a key, another /64 does
 * not; the prefix length is configurable (48, 128); brackets and zones; text that is not an address is its own
 * key; SUBSCRIBE caps count a /64 as one source; the strangers' log opens one window per /64.
 * Does not cover: the sockets (test/integration/ipv6-source-prefix.test.ts opens connections from two addresses
 * of one /64).
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { SubscriptionLimits } from '../../src/mwi/subscription-limits.js';
import { SourceKeys } from '../../src/sip/source-key.js';
import { StrangerLog } from '../../src/sip/stranger-log.js';

describe('SourceKeys', () => {
  const keys = new SourceKeys();

  it('keeps an IPv4 address as it is, and reads an IPv4-mapped IPv6 address as that IPv4 address', () => {
    expect(keys.keyOf('192.0.2.7')).toBe('192.0.2.7');
    expect(keys.keyOf('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(keys.keyOf('::ffff:c000:207')).toBe('192.0.2.7');
  });

  it('gives every address of one /64 the same key, and another /64 another', () => {
    const a = keys.keyOf('2001:db8:1:2::1');
    expect(a).toBe('2001:db8:1:2::/64');
    expect(keys.keyOf('2001:db8:1:2:ffff:ffff:ffff:fffe')).toBe(a);
    expect(keys.keyOf('2001:DB8:1:2:abcd::9')).toBe(a);
    expect(keys.keyOf('[2001:db8:1:2::99]')).toBe(a);
    expect(keys.keyOf('fe80::1%eth0')).toBe('fe80::/64');
    expect(keys.keyOf('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(keys.keyOf('::1')).toBe('::/64');
  });

  it('takes the prefix length it is given', () => {
    expect(new SourceKeys(48).keyOf('2001:db8:1:2::1')).toBe('2001:db8:1::/48');
    expect(new SourceKeys(56).keyOf('2001:db8:1:2ff::1')).toBe('2001:db8:1:200::/56');
    expect(new SourceKeys(128).keyOf('2001:db8::1')).toBe('2001:db8::1/128');
    expect(() => new SourceKeys(129)).toThrow(TypeError);
  });

  it('keeps text that is not an IP address as its own key (never throws)', () => {
    expect(keys.keyOf('imported')).toBe('imported');
    expect(keys.keyOf('1:2:3')).toBe('1:2:3');
    expect(keys.keyOf('')).toBe('');
  });

  it('answers the same after its cache starts over', () => {
    const many = new SourceKeys();
    for (let i = 0; i < 5000; i++) many.keyOf(`2001:db8:${i.toString(16)}::1`);
    expect(many.keyOf('2001:db8:1:2::5')).toBe('2001:db8:1:2::/64');
  });
});

describe('limits that count per source', () => {
  it('SUBSCRIBE caps: two addresses of one /64 share the per-source cap', () => {
    const limits = new SubscriptionLimits({ maxTotal: 100, maxPerSource: 2, maxPerMailbox: 100, ipv6PrefixLength: 64 });
    limits.added('2001:db8::a');
    limits.added('2001:db8::b');
    expect(limits.check('2001:db8::c', 0)?.limit).toBe('source');
    expect(limits.check('2001:db8:0:1::c', 0)).toBeUndefined();
    limits.removed('2001:db8::a');
    expect(limits.check('2001:db8::c', 0)).toBeUndefined();
  });

  it("the strangers' log opens one window for a whole /64", () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    const keys = new SourceKeys();
    const strangers = new StrangerLog(log, { keyOf: (a) => keys.keyOf(a), now: () => 1000 });
    for (let i = 1; i <= 50; i++) strangers.note(`2001:db8::${i.toString(16)}`, '403', {});
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ source: '2001:db8::/64', address: '2001:db8::1' });
  });
});
