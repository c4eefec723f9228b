/**
 * What a per-source limit counts under: the source address, except that IPv6 sources are aggregated per
 * network prefix (a /64 by default, sip.limits.ipv6PrefixLength). One IPv6 subscriber is routinely given a
 * whole /64 (RFC 6177 §2 recommends at least that, usually a /56 or /48 to a site), so an attacker holding one
 * has 2^64 source addresses: a cap counted per exact address would not cap it at all.
 *
 * IPv4 addresses are their own key (no allocation), and so is an IPv4-mapped IPv6 address ("::ffff:192.0.2.1",
 * RFC 4291 §2.5.5.2, what a dual-stack socket reports for an IPv4 peer): an IPv4 peer is the same source on
 * either kind of socket. Anything that is not an IP address is its own key too (never throws).
 *
 * Used by every per-source limit: stream connections (transport-layer.ts), the request rate limit and the
 * strangers' log (sip-endpoint.ts, stack.ts), SUBSCRIBE caps (mwi/subscription-limits.ts), the PIN back-off
 * (apps/voicemail, http/web). The keys of IPv6 addresses seen recently are cached (a bounded map), so that the
 * packet path parses an IPv6 source once, not per packet.
 */
import { isV4Mapped, parseV6 } from './trust.js';

/** The default IPv6 prefix length sources are aggregated by (one subscriber's LAN). */
export const DEFAULT_IPV6_PREFIX_LENGTH = 64;

/** Cached IPv6 keys at most; the cache starts over when full (a spray of addresses only costs re-parsing). */
const MAX_CACHED = 4096;

/** Reused by keyOf(): one call at a time on the event loop. */
const WORDS = new Uint32Array(4);

export class SourceKeys {
  private readonly cache = new Map<string, string>();

  /** @param ipv6PrefixLength IPv6 sources in one network of this length share a key (0 to 128; 128: per address). */
  constructor(readonly ipv6PrefixLength: number = DEFAULT_IPV6_PREFIX_LENGTH) {
    if (!(Number.isInteger(ipv6PrefixLength) && ipv6PrefixLength >= 0 && ipv6PrefixLength <= 128)) {
      throw new TypeError(`ipv6PrefixLength must be an integer from 0 to 128, got ${ipv6PrefixLength}`);
    }
  }

  /** The key `address` counts under: "192.0.2.1", or "2001:db8:1:2::/64" for any address of that /64. */
  keyOf(address: string): string {
    if (address.indexOf(':') < 0) return address;
    const cached = this.cache.get(address);
    if (cached !== undefined) return cached;
    const key = this.compute(address);
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(address, key);
    return key;
  }

  private compute(address: string): string {
    const bare = address.charCodeAt(0) === 91 /* [ */ && address.endsWith(']') ? address.slice(1, -1) : address;
    if (!parseV6(bare, WORDS)) return address;
    if (isV4Mapped(WORDS)) return [WORDS[3]! >>> 24, (WORDS[3]! >>> 16) & 255, (WORDS[3]! >>> 8) & 255, WORDS[3]! & 255].join('.');
    const bits = this.ipv6PrefixLength;
    const groups: string[] = [];
    for (let g = 0; g < 8; g++) {
      const word = WORDS[g >> 1]!;
      const group = g % 2 === 0 ? word >>> 16 : word & 0xffff;
      const keep = Math.min(16, Math.max(0, bits - 16 * g));
      groups.push((keep === 0 ? 0 : group & ((0xffff << (16 - keep)) & 0xffff)).toString(16));
    }
    return `${compress(groups)}/${bits}`;
  }
}

/** RFC 5952 §4.2: the longest run of two or more zero groups (the first of equal runs) written "::". */
function compress(groups: readonly string[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}
