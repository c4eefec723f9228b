/**
 * Which source addresses may talk to us: a set of IPv4/IPv6 addresses and CIDR blocks, asked once per
 * inbound message (so it is built once and matching allocates nothing).
 *
 * IPv4 rules are (network, mask) pairs of uint32; IPv6 rules are four uint32 words of network and mask.
 * An IPv4-mapped IPv6 address (RFC 4291 §2.5.5.2, "::ffff:192.0.2.1", what a dual-stack socket reports for
 * an IPv4 peer) is matched as the IPv4 address it carries, and an entry written in that form with a prefix
 * of /96 or longer becomes the equivalent IPv4 rule, so either spelling matches either. A shorter IPv6 block
 * that contains ::ffff:0:0/96 ("::/0") contains every IPv4 peer as well.
 *
 * Addresses may carry a zone ("fe80::1%eth0") or brackets ("[::1]"); both are ignored. This module does not
 * resolve host names.
 */

/** Reused by matches(): one message at a time on the event loop, so one buffer serves every call. */
const SCRATCH = new Uint32Array(4);

/** The 16-bit groups of the IPv6 text being parsed, before "::" is expanded. */
const GROUPS = new Uint16Array(8);

export class AddressMatcher {
  /** [network, mask] pairs, flattened. */
  private readonly v4: Uint32Array;
  /** [net0..net3, mask0..mask3] per rule, flattened. */
  private readonly v6: Uint32Array;

  /** @param entries IPv4/IPv6 addresses or CIDR blocks ("10.0.0.0/8", "2001:db8::/32"). Throws TypeError naming a bad one. */
  constructor(entries: readonly string[]) {
    const v4: number[] = [];
    const v6: number[] = [];
    for (const entry of entries) {
      const rule = parseEntry(entry);
      if (!rule) throw new TypeError(`"${entry}" is not an IP address or CIDR block`);
      if (rule.family === 4) v4.push(rule.net, rule.mask);
      else v6.push(...rule.net, ...rule.mask);
    }
    this.v4 = Uint32Array.from(v4);
    this.v6 = Uint32Array.from(v6);
  }

  /** True when `address` is in one of the entries. False for anything that is not an IP address; never throws. */
  matches(address: string): boolean {
    let a = address;
    if (a.charCodeAt(0) === 91 /* [ */ && a.charCodeAt(a.length - 1) === 93) a = a.slice(1, -1);
    if (a.indexOf(':') < 0) {
      const ip = parseV4(a, 0, a.length);
      if (ip < 0) return false;
      if (this.matchV4(ip)) return true;
      if (this.v6.length === 0) return false;
      // An IPv6 rule covering ::ffff:0:0/96 from above ("::/0", "::/64") covers IPv4 peers too.
      SCRATCH[0] = 0;
      SCRATCH[1] = 0;
      SCRATCH[2] = 0xffff;
      SCRATCH[3] = ip;
      return this.matchV6(SCRATCH);
    }
    if (!parseV6(a, SCRATCH)) return false;
    if (isV4Mapped(SCRATCH) && this.matchV4(SCRATCH[3])) return true;
    return this.matchV6(SCRATCH);
  }

  private matchV4(ip: number): boolean {
    const rules = this.v4;
    for (let i = 0; i < rules.length; i += 2) {
      if (((ip & rules[i + 1]) >>> 0) === rules[i]) return true;
    }
    return false;
  }

  private matchV6(w: Uint32Array): boolean {
    const rules = this.v6;
    for (let i = 0; i < rules.length; i += 8) {
      if (
        ((w[0] & rules[i + 4]) >>> 0) === rules[i] &&
        ((w[1] & rules[i + 5]) >>> 0) === rules[i + 1] &&
        ((w[2] & rules[i + 6]) >>> 0) === rules[i + 2] &&
        ((w[3] & rules[i + 7]) >>> 0) === rules[i + 3]
      ) {
        return true;
      }
    }
    return false;
  }
}

type Rule = { family: 4; net: number; mask: number } | { family: 6; net: number[]; mask: number[] };

function parseEntry(entry: string): Rule | undefined {
  const slash = entry.indexOf('/');
  const address = slash < 0 ? entry : entry.slice(0, slash);
  let bits: number | undefined;
  if (slash >= 0) {
    const text = entry.slice(slash + 1);
    if (!/^\d{1,3}$/.test(text)) return undefined;
    bits = Number(text);
  }
  if (address.indexOf(':') < 0) {
    const ip = parseV4(address, 0, address.length);
    const prefix = bits ?? 32;
    if (ip < 0 || prefix > 32) return undefined;
    const mask = maskWord(prefix);
    return { family: 4, net: (ip & mask) >>> 0, mask };
  }
  if (address.indexOf('%') >= 0) return undefined; // a zone means nothing in configuration
  const words = new Uint32Array(4);
  const prefix = bits ?? 128;
  if (!parseV6(address, words) || prefix > 128) return undefined;
  if (isV4Mapped(words) && prefix >= 96) {
    const mask = maskWord(prefix - 96);
    return { family: 4, net: (words[3] & mask) >>> 0, mask };
  }
  const mask = [0, 1, 2, 3].map((i) => maskWord(Math.min(32, Math.max(0, prefix - 32 * i))));
  return { family: 6, net: [0, 1, 2, 3].map((i) => (words[i] & mask[i]) >>> 0), mask };
}

/** A uint32 with the top `bits` bits set (0..32). */
function maskWord(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

export function isV4Mapped(w: Uint32Array): boolean {
  return w[0] === 0 && w[1] === 0 && w[2] === 0xffff;
}

/**
 * Dotted-quad IPv4 in s[from, to) as a uint32, or -1. Four decimal octets 0-255 without leading zeros
 * (net.isIP refuses "010.0.0.1" too: it is octal to some parsers and decimal to others).
 */
function parseV4(s: string, from: number, to: number): number {
  let value = 0;
  let octets = 0;
  let i = from;
  while (octets < 4) {
    const start = i;
    let octet = 0;
    while (i < to) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      octet = octet * 10 + (c - 48);
      i++;
    }
    const len = i - start;
    if (len === 0 || len > 3 || octet > 255 || (len > 1 && s.charCodeAt(start) === 48)) return -1;
    value = value * 256 + octet;
    octets++;
    if (octets < 4) {
      if (i >= to || s.charCodeAt(i) !== 46 /* . */) return -1;
      i++;
    }
  }
  return i === to ? value : -1;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * IPv6 text (RFC 4291 §2.2: eight groups of 1-4 hex digits, one "::" for a run of zero groups, an optional
 * dotted-quad as the last 32 bits; a "%zone" suffix is ignored) into four uint32 words. False if malformed.
 */
export function parseV6(s: string, out: Uint32Array): boolean {
  let end = s.indexOf('%');
  if (end < 0) end = s.length;
  if (end === 0) return false;
  // Groups as 16-bit values, collected into the output words after we know where "::" expands.
  const groups = GROUPS;
  let count = 0;
  let gap = -1; // index in groups where "::" stands
  let i = 0;
  if (s.charCodeAt(0) === 58 /* : */) {
    if (s.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
    if (i === end) return fill(groups, 0, gap, out);
  }
  while (i < end) {
    if (count === 8) return false;
    const start = i;
    let value = 0;
    while (i < end && i - start < 5) {
      const h = hexValue(s.charCodeAt(i));
      if (h < 0) break;
      value = (value << 4) | h;
      i++;
    }
    if (i < end && s.charCodeAt(i) === 46 /* . */) {
      // Dotted-quad tail: it takes the last two groups and must end the text.
      if (count > 6) return false;
      const v4 = parseV4(s, start, end);
      if (v4 < 0) return false;
      groups[count++] = v4 >>> 16;
      groups[count++] = v4 & 0xffff;
      i = end;
      break;
    }
    const len = i - start;
    if (len === 0 || len > 4) return false;
    groups[count++] = value;
    if (i === end) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < end && s.charCodeAt(i) === 58) {
      if (gap >= 0) return false; // a second "::"
      gap = count;
      i++;
    } else if (i === end) {
      return false; // a trailing single ":"
    }
  }
  return fill(groups, count, gap, out);
}

function fill(groups: Uint16Array, count: number, gap: number, out: Uint32Array): boolean {
  if (gap < 0 ? count !== 8 : count > 7) return false;
  const zeros = 8 - count;
  let w = 0;
  let acc = 0;
  let k = 0;
  for (let g = 0; g < 8; g++) {
    let value: number;
    if (gap >= 0 && g >= gap && g < gap + zeros) value = 0;
    else value = groups[k++];
    if ((g & 1) === 0) acc = value * 65536;
    else out[w++] = acc + value;
  }
  return true;
}

/** 127.0.0.0/8 and ::1 (and so ::ffff:127.x.y.z): the default trust before any PBX is configured. */
export const LOOPBACK: AddressMatcher = new AddressMatcher(['127.0.0.0/8', '::1']);
