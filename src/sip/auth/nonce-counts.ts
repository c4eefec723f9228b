/**
 * Replay protection for our Digest nonces: per nonce, the highest nonce-count (nc) a fully verified request
 * carried. Our nonces are stateless (nonce.ts): without this, a captured Authorization header could be sent
 * again, with any new request of the same method and URI, until its nonce expired.
 *
 * RFC 2617 §3.2.2 (nonce-count; RFC 7616 §3.4 keeps the rule for nc): "The purpose of this directive is to
 * allow the server to detect request replays by maintaining its own copy of this count - if the same nc-value is
 * seen twice, then the request is a replay." So a request is accepted only with an nc greater than every nc
 * accepted before with its nonce; greater, not "the next one":
 * the client counts every request it sends with the nonce, some of which never reach us or are not challenged.
 * A client whose two requests arrive out of order gets a fresh nonce for the late one (stale=TRUE, verify.ts)
 * and sends it again without asking its user.
 *
 * Only requests whose digest was right are recorded (the caller checks the digest first): a request that fails
 * cannot move a legitimate client's count, and only holders of the password can fill the table.
 *
 * Bounded memory: an entry is kept until its nonce expires (after that checkNonce refuses the nonce anyway),
 * and at most `maxEntries` entries; when the cap evicts the entry first used longest ago, every nonce issued
 * no later than the evicted one and not in the table is refused as stale from then on (the "floor"): a nonce
 * whose count was forgotten can never be replayed, it only costs its client one more challenge.
 *
 * Per process: each process mints with its own secret (verify.ts DEFAULT_NONCE_SECRET), so a nonce is only
 * ever valid in the process that counts it.
 *
 * Not here: RFC 2069 credentials without qop (and so without nc), which verify.ts refuses (RFC 7616 §3.3 made
 * qop mandatory); were they accepted, such a nonce would be recorded with nc 1 and so usable once.
 */

/** Nonces counted at most by default: one entry per nonce some authenticated client used in its lifetime. */
export const DEFAULT_MAX_NONCE_ENTRIES = 10_000;

/** What a use of a nonce is, given the counts so far. */
export type NonceUse =
  /** nc is above every nc accepted with this nonce (or its first use): accepted and recorded. */
  | 'fresh'
  /** nc is not above the last one accepted with this nonce: a replay (or a request that arrived late). */
  | 'replay'
  /** The nonce's count was evicted by the cap: whether this nc was used cannot be told, so it is refused. */
  | 'forgotten';

interface Entry {
  highest: number;
  stampS: number;
  expiresAtMs: number;
}

export class NonceCounts {
  /** By nonce, in the order nonces were first used (Map keeps insertion order): the oldest first. */
  private readonly entries = new Map<string, Entry>();
  /** Issue stamp (s) of the newest entry the cap evicted: untracked nonces issued no later are refused. */
  private floorStampS = Number.NEGATIVE_INFINITY;

  constructor(private readonly maxEntries: number = DEFAULT_MAX_NONCE_ENTRIES) {
    if (!(Number.isInteger(maxEntries) && maxEntries > 0)) throw new TypeError(`maxEntries must be a positive integer, got ${maxEntries}`);
  }

  /** Entries held (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Records a use of `nonce` (issued at `stampS`, valid for `maxAgeS`) with nonce-count `nc` by a request whose
   * digest was verified. Call only for a nonce checkNonce found valid.
   */
  use(nonce: string, stampS: number, nc: number, maxAgeS: number, nowMs = Date.now()): NonceUse {
    this.pruneExpired(nowMs);
    const entry = this.entries.get(nonce);
    if (entry) {
      if (nc <= entry.highest) return 'replay';
      entry.highest = nc;
      return 'fresh';
    }
    if (stampS <= this.floorStampS) return 'forgotten';
    this.entries.set(nonce, { highest: nc, stampS, expiresAtMs: (stampS + maxAgeS + 1) * 1000 });
    if (this.entries.size > this.maxEntries) this.evictOldest();
    return 'fresh';
  }

  /** Drops expired entries from the front (first-use order is close to issue order; the cap bounds the rest). */
  private pruneExpired(nowMs: number): void {
    for (const [nonce, entry] of this.entries) {
      if (entry.expiresAtMs > nowMs) return;
      this.entries.delete(nonce);
    }
  }

  private evictOldest(): void {
    const first = this.entries.entries().next();
    if (first.done) return;
    const [nonce, entry] = first.value;
    this.entries.delete(nonce);
    this.floorStampS = Math.max(this.floorStampS, entry.stampS);
  }
}
