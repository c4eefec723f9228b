/**
 * Source trust (src/sip/trust.ts): AddressMatcher and LOOPBACK.
 *
 * Covers: single addresses and CIDR blocks, IPv4 /0 to /32 and IPv6 /0 to /128 (host bits in an entry
 * ignored); IPv6 text forms (RFC 4291 §2.2: "::" anywhere, upper case, leading zeros in groups, a dotted-quad
 * tail, zones, brackets); IPv4-mapped IPv6 (RFC 4291 §2.5.5.2) in both directions; LOOPBACK; refusal of bad
 * entries with a TypeError naming them, in agreement with net.isIP on a list of tricky spellings; "no" for
 * inputs that are not addresses; agreement with node's net.BlockList on thousands of random blocks and
 * addresses.
 *
 * Does not cover: host names (not supported), where the stack calls matches() (stack tests).
 */
import { BlockList, isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { AddressMatcher, LOOPBACK } from '../../src/sip/trust.js';

describe('AddressMatcher with IPv4', () => {
  it('matches a single address exactly', () => {
    const m = new AddressMatcher(['192.168.222.10']);
    expect(m.matches('192.168.222.10')).toBe(true);
    expect(m.matches('192.168.222.11')).toBe(false);
    expect(m.matches('192.168.222.1')).toBe(false);
  });

  it('matches every address of a block and none outside it', () => {
    const m = new AddressMatcher(['10.20.0.0/14']);
    expect(m.matches('10.20.0.0')).toBe(true);
    expect(m.matches('10.23.255.255')).toBe(true);
    expect(m.matches('10.19.255.255')).toBe(false);
    expect(m.matches('10.24.0.0')).toBe(false);
  });

  it('treats /0 as everything and /32 as one address', () => {
    expect(new AddressMatcher(['0.0.0.0/0']).matches('255.255.255.255')).toBe(true);
    expect(new AddressMatcher(['0.0.0.0/0']).matches('0.0.0.1')).toBe(true);
    expect(new AddressMatcher(['203.0.113.7/32']).matches('203.0.113.7')).toBe(true);
    expect(new AddressMatcher(['203.0.113.7/32']).matches('203.0.113.6')).toBe(false);
  });

  it('ignores host bits written in a block ("10.1.2.3/8" is 10.0.0.0/8)', () => {
    const m = new AddressMatcher(['10.1.2.3/8']);
    expect(m.matches('10.200.0.1')).toBe(true);
    expect(m.matches('11.0.0.0')).toBe(false);
  });

  it('matches any of several entries', () => {
    const m = new AddressMatcher(['192.0.2.1', '198.51.100.0/24', '2001:db8::/32']);
    expect(m.matches('192.0.2.1')).toBe(true);
    expect(m.matches('198.51.100.99')).toBe(true);
    expect(m.matches('2001:db8:1::5')).toBe(true);
    expect(m.matches('192.0.2.2')).toBe(false);
  });

  it('matches nothing when built from no entries', () => {
    expect(new AddressMatcher([]).matches('127.0.0.1')).toBe(false);
  });
});

describe('AddressMatcher with IPv6', () => {
  it('reads every spelling of the same address alike (RFC 4291 §2.2)', () => {
    const m = new AddressMatcher(['2001:db8::1']);
    for (const a of ['2001:db8::1', '2001:DB8:0:0:0:0:0:1', '2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8:0::0:1', '[2001:db8::1]', '2001:db8::1%eth0']) {
      expect(m.matches(a), a).toBe(true);
    }
    expect(m.matches('2001:db8::2')).toBe(false);
    expect(m.matches('2001:db8:1::1')).toBe(false);
  });

  it('places "::" at the start, middle or end', () => {
    expect(new AddressMatcher(['::']).matches('0:0:0:0:0:0:0:0')).toBe(true);
    expect(new AddressMatcher(['1::']).matches('1:0:0:0:0:0:0:0')).toBe(true);
    expect(new AddressMatcher(['1:2:3:4:5:6:7::']).matches('1:2:3:4:5:6:7:0')).toBe(true);
    expect(new AddressMatcher(['::2:3:4:5:6:7:8']).matches('0:2:3:4:5:6:7:8')).toBe(true);
    expect(new AddressMatcher(['1:2::7:8']).matches('1:2:0:0:0:0:7:8')).toBe(true);
  });

  it('matches prefixes that end inside a group and at /0 and /128', () => {
    const m = new AddressMatcher(['2001:db8:abcd:12::/62']);
    expect(m.matches('2001:db8:abcd:13:ffff::1')).toBe(true);
    expect(m.matches('2001:db8:abcd:14::')).toBe(false);
    expect(new AddressMatcher(['::/0']).matches('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe(true);
    expect(new AddressMatcher(['fe80::1/128']).matches('fe80::1')).toBe(true);
    expect(new AddressMatcher(['fe80::1/128']).matches('fe80::2')).toBe(false);
  });

  it('reads a dotted-quad tail as the last 32 bits', () => {
    expect(new AddressMatcher(['64:ff9b::/96']).matches('64:ff9b::192.0.2.33')).toBe(true);
    expect(new AddressMatcher(['64:ff9b::c000:221']).matches('64:ff9b::192.0.2.33')).toBe(true);
  });
});

describe('IPv4-mapped IPv6 addresses (RFC 4291 §2.5.5.2)', () => {
  it('"::ffff:127.0.0.1" matches "127.0.0.0/8", as a dual-stack socket reports an IPv4 peer', () => {
    const m = new AddressMatcher(['127.0.0.0/8']);
    expect(m.matches('::ffff:127.0.0.1')).toBe(true);
    expect(m.matches('::FFFF:127.1.2.3')).toBe(true);
    expect(m.matches('::ffff:7f00:1')).toBe(true);
    expect(m.matches('::ffff:128.0.0.1')).toBe(false);
  });

  it('an entry written mapped matches the plain IPv4 address too', () => {
    const m = new AddressMatcher(['::ffff:192.168.0.0/112']);
    expect(m.matches('192.168.3.4')).toBe(true);
    expect(m.matches('::ffff:192.168.3.4')).toBe(true);
    expect(m.matches('192.169.0.0')).toBe(false);
  });

  it('an IPv6 block around ::ffff:0:0/96 covers IPv4 peers', () => {
    expect(new AddressMatcher(['::/0']).matches('198.51.100.1')).toBe(true);
    expect(new AddressMatcher(['::/64']).matches('198.51.100.1')).toBe(true);
    expect(new AddressMatcher(['2001:db8::/32']).matches('198.51.100.1')).toBe(false);
  });

  it('an IPv4 rule does not match an IPv6 address that merely ends in the same bits', () => {
    expect(new AddressMatcher(['127.0.0.1']).matches('::127.0.0.1')).toBe(false);
    expect(new AddressMatcher(['127.0.0.1']).matches('2001:db8::7f00:1')).toBe(false);
  });
});

describe('LOOPBACK', () => {
  it('holds 127.0.0.0/8 and ::1, mapped or not', () => {
    for (const a of ['127.0.0.1', '127.255.255.254', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) expect(LOOPBACK.matches(a), a).toBe(true);
    for (const a of ['128.0.0.1', '10.0.0.1', '::2', '::', '::ffff:10.0.0.1', 'fe80::1']) expect(LOOPBACK.matches(a), a).toBe(false);
  });
});

describe('bad input', () => {
  const tricky = [
    '1.2.3.4', '256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.4 ', ' 1.2.3.4', '1..2.3', '',
    '::', '::1', ':::1', ':1', '1:', '1::2::3', '12345::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::',
    '::1:2:3:4:5:6:7:8', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '::1:2:3:4:5:6:1.2.3.4', '::ffff:01.2.3.4',
    '::ffff:1.2.3', '1.2.3.4::', 'g::1', 'localhost', '::1.2.3.4', '1::1.2.3.4',
  ];

  it('accepts exactly the addresses net.isIP accepts', () => {
    for (const text of tricky) {
      let accepted = true;
      try {
        new AddressMatcher([text]);
      } catch {
        accepted = false;
      }
      expect(accepted, JSON.stringify(text)).toBe(isIP(text) !== 0);
    }
  });

  it('throws a TypeError naming the bad entry', () => {
    expect(() => new AddressMatcher(['10.0.0.1', '10.0.0.300'])).toThrow(new TypeError('"10.0.0.300" is not an IP address or CIDR block'));
    for (const bad of ['10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/8/8', 'fe80::1%eth0', 'host.example']) {
      expect(() => new AddressMatcher([bad]), bad).toThrow(TypeError);
    }
  });

  it('answers false, without throwing, for anything that is not an address', () => {
    const m = new AddressMatcher(['0.0.0.0/0', '::/0']);
    for (const junk of ['', 'x', '1.2.3', '1.2.3.4.5', '::g', '[::1', '1:2:3:4:5:6:7:8:9', '999.1.1.1', '\u0000']) {
      expect(m.matches(junk), JSON.stringify(junk)).toBe(false);
    }
  });
});

describe('agreement with net.BlockList on random blocks and addresses', () => {
  // A fixed-seed generator, so a failure repeats.
  let seed = 0x9e3779b9;
  const rand32 = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  const v4Text = (n: number): string => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  /** Full form or "::"-compressed at the longest zero run, so both spellings get exercised. */
  const v6Text = (w: number[]): string => {
    const g = w.flatMap((x) => [x >>> 16, x & 0xffff]).map((x) => x.toString(16));
    let best = -1;
    let bestLen = 0;
    for (let i = 0; i < 8; i++) {
      let j = i;
      while (j < 8 && g[j] === '0') j++;
      if (j - i > bestLen) [best, bestLen] = [i, j - i];
    }
    if (bestLen < 2) return g.join(':');
    return `${g.slice(0, best).join(':')}::${g.slice(best + bestLen).join(':')}`;
  };
  /** A nearby address: the same top bits as `base` for a random length, then random bits. */
  const near = (base: number): number => {
    const keep = rand32() % 33;
    const mask = keep === 0 ? 0 : (0xffffffff << (32 - keep)) >>> 0;
    return ((base & mask) | (rand32() & ~mask)) >>> 0;
  };

  it('IPv4: 200 blocks × 50 addresses', () => {
    for (let r = 0; r < 200; r++) {
      const base = rand32();
      const bits = rand32() % 33;
      const m = new AddressMatcher([`${v4Text(base)}/${bits}`]);
      const oracle = new BlockList();
      const maskBits = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      oracle.addSubnet(v4Text((base & maskBits) >>> 0), bits, 'ipv4');
      for (let k = 0; k < 50; k++) {
        const a = v4Text(near(base));
        expect(m.matches(a), `${v4Text(base)}/${bits} ∋ ${a}`).toBe(oracle.check(a, 'ipv4'));
      }
    }
  });

  it('IPv6: 200 blocks × 50 addresses, with zero runs to compress', () => {
    for (let r = 0; r < 200; r++) {
      // Zero out some words so "::" appears; keep word 2 away from 0xffff so no address is IPv4-mapped.
      const base = [0, 1, 2, 3].map((i) => (rand32() % 3 === 0 ? 0 : i === 2 ? rand32() & 0xfffeffff : rand32()));
      const bits = rand32() % 129;
      const m = new AddressMatcher([`${v6Text(base)}/${bits}`]);
      const oracle = new BlockList();
      oracle.addSubnet(v6Text(base), bits, 'ipv6');
      for (let k = 0; k < 50; k++) {
        const cut = rand32() % 4;
        const w = base.map((x, i) => (i < cut ? x : i === cut ? near(x) : rand32() % 2 === 0 ? 0 : rand32()));
        if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff) continue;
        const a = v6Text(w);
        expect(m.matches(a), `${v6Text(base)}/${bits} ∋ ${a}`).toBe(oracle.check(a, 'ipv6'));
      }
    }
  });
});
