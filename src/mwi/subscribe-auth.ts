/**
 * Digest authentication of SUBSCRIBE requests (RFC 3261 §22.4, RFC 7616) when `mwi.subscribeAuth` is set:
 * one realm, one username and password shared by the phones or PBX that subscribe.
 *
 * Only a SUBSCRIBE that creates a subscription is challenged. Refreshes and unsubscribes inside the dialog
 * are not: they must carry the dialog's Call-ID and both 64-bit random tags, which only the authenticated
 * subscriber (or someone on its path) has.
 */
import type { Logger } from 'pino';
import type { IncomingRequest } from '../sip/incoming-request.js';
import { createChallenge, parseAuthorization, verifyAuthorization, DEFAULT_NONCE_MAX_AGE_S, DEFAULT_NONCE_SECRET, NonceCounts } from '../sip/auth/digest.js';

export interface SubscribeAuthConfig {
  realm: string;
  username: string;
  password: string;
}

export class SubscribeAuthenticator {
  /** The nonce-counts our nonces were used with: a captured Authorization cannot be sent again (nonce-counts.ts). */
  private readonly counts = new NonceCounts();

  constructor(
    private readonly cfg: SubscribeAuthConfig,
    private readonly log: Logger,
    /** HMAC key of our nonces. Default: random per process (a nonce from another worker is then "stale"). */
    private readonly secret: Buffer = DEFAULT_NONCE_SECRET,
  ) {}

  /**
   * True when the request carries valid credentials for our realm. Otherwise it has been answered: 401 with a
   * fresh challenge (with stale=TRUE when only the nonce was out of date, RFC 7616 §3.3).
   */
  check(inc: IncomingRequest): boolean {
    // A request may carry credentials for several realms (RFC 3261 §22.4); ours are the ones that count.
    const mine = inc.message.headers.getAll('authorization').find((v) => {
      const parsed = parseAuthorization(v);
      return !('error' in parsed) && parsed.realm === this.cfg.realm;
    });
    if (mine === undefined) {
      this.challenge(inc, false);
      return false;
    }
    const lookup = (username: string, realm: string): string | undefined =>
      username === this.cfg.username && realm === this.cfg.realm ? this.cfg.password : undefined;
    const result = verifyAuthorization(mine, inc.method, lookup, this.secret, DEFAULT_NONCE_MAX_AGE_S, this.counts);
    if (result.ok) return true;
    if (!result.stale || result.replay) {
      this.log.warn({ callId: inc.callId, remote: inc.flow.remoteAddress, reason: result.reason }, 'SUBSCRIBE credentials refused');
    }
    this.challenge(inc, result.stale);
    return false;
  }

  private challenge(inc: IncomingRequest, stale: boolean): void {
    inc.respond(401, { headers: { 'www-authenticate': createChallenge(this.cfg.realm, 'MD5', this.secret, stale) } });
  }
}
