/**
 * Caps on live MWI subscriptions (issue 9 item 5: one source held 10,777 of them, and one new message fanned
 * out to as many NOTIFYs). Three limits, checked when a SUBSCRIBE would create a subscription (refreshes and
 * one-time fetches create none):
 *   - per mailbox (mwi.maxSubscriptionsPerMailbox): bounds the NOTIFYs one message change sends;
 *   - per source address (mwi.maxSubscriptionsPerSource): one phone, PBX or host cannot take the table;
 *   - in total (mwi.maxSubscriptions): bounds memory, timers and the store's rows.
 * Over the per-mailbox or per-source limit the answer is 403 (a policy: retrying does not help); over the
 * total it is 503 with Retry-After (RFC 3261 §21.5.4: a temporary overload). Both say which limit in the
 * reason phrase. A number without a mailbox counts like one with a mailbox, so that the limit answers say
 * nothing about which numbers exist. IPv6 sources count per network prefix (sip.limits.ipv6PrefixLength,
 * ../sip/source-key.ts): a host with a /64 is one source, not 2^64.
 */
import { DEFAULT_IPV6_PREFIX_LENGTH, SourceKeys } from '../sip/source-key.js';

export interface SubscriptionLimitsConfig {
  maxTotal: number;
  maxPerSource: number;
  maxPerMailbox: number;
  /** IPv6 sources in one network of this prefix length count as one source (sip.limits.ipv6PrefixLength). */
  ipv6PrefixLength: number;
}

/** mwi.maxSubscriptions, mwi.maxSubscriptionsPerSource, mwi.maxSubscriptionsPerMailbox defaults (README). */
export const DEFAULT_SUBSCRIPTION_LIMITS: SubscriptionLimitsConfig = { maxTotal: 10_000, maxPerSource: 1_000, maxPerMailbox: 10, ipv6PrefixLength: DEFAULT_IPV6_PREFIX_LENGTH };

/** Retry-After of a 503 for a full table, s: subscriptions end as they expire or are ended. */
const FULL_RETRY_AFTER_S = 300;

export interface LimitRefusal {
  limit: 'total' | 'source' | 'mailbox';
  status: 403 | 503;
  reason: string;
  retryAfterS?: number;
}

export class SubscriptionLimits {
  private readonly bySource = new Map<string, number>();
  private total = 0;
  private readonly keys: SourceKeys;

  constructor(private readonly config: SubscriptionLimitsConfig) {
    this.keys = new SourceKeys(config.ipv6PrefixLength);
  }

  /** Why one more subscription from `source` to a mailbox holding `ofMailbox` must be refused; undefined: it fits. */
  check(source: string, ofMailbox: number): LimitRefusal | undefined {
    if (ofMailbox >= this.config.maxPerMailbox) return { limit: 'mailbox', status: 403, reason: 'Too Many Subscriptions For This Mailbox' };
    if ((this.bySource.get(this.keys.keyOf(source)) ?? 0) >= this.config.maxPerSource) return { limit: 'source', status: 403, reason: 'Too Many Subscriptions From This Source' };
    if (this.total >= this.config.maxTotal) return { limit: 'total', status: 503, reason: 'Subscription Table Full', retryAfterS: FULL_RETRY_AFTER_S };
    return undefined;
  }

  added(source: string): void {
    this.total++;
    const key = this.keys.keyOf(source);
    this.bySource.set(key, (this.bySource.get(key) ?? 0) + 1);
  }

  removed(source: string): void {
    this.total = Math.max(0, this.total - 1);
    const key = this.keys.keyOf(source);
    const n = (this.bySource.get(key) ?? 0) - 1;
    if (n > 0) this.bySource.set(key, n);
    else this.bySource.delete(key);
  }
}
