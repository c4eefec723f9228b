/**
 * The UAS side of Digest (RFC 3261 §22.4, RFC 7616 §3.3 and §3.5): issuing challenges with stateless nonces
 * and checking the credentials that come back. Only qop=auth is accepted: every challenge we issue offers it,
 * and RFC 7616 §3.3 made qop mandatory.
 *
 * Does not check that the `uri` parameter names the Request-URI (RFC 7616 §3.4.6); the caller can compare
 * parseAuthorization(...).uri if it cares. Never throws on what a client sends.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { quoteString } from '../headers/tokens.js';
import { parseAuthorization } from './credentials.js';
import { algorithmInfo, digestResponse, type DigestAlgorithm } from './hash.js';
import { checkNonce, mintNonce, nonceIssuedAtS } from './nonce.js';
import type { NonceCounts } from './nonce-counts.js';

/** The secret createChallenge uses when given none: random, made once per process. */
export const DEFAULT_NONCE_SECRET: Buffer = randomBytes(32);

/** Default nonce lifetime for verifyAuthorization, in seconds. */
export const DEFAULT_NONCE_MAX_AGE_S = 300;

/**
 * A WWW-Authenticate / Proxy-Authenticate value: `Digest realm="..",nonce="..",algorithm=..,qop="auth"`, with
 * `stale=TRUE` when the previous credentials were right but their nonce was not (RFC 7616 §3.3). Offer several
 * algorithms by calling this once per algorithm, preferred first (RFC 8760 §2.3).
 */
export function createChallenge(realm: string, algorithm: DigestAlgorithm = 'MD5', secret: Buffer = DEFAULT_NONCE_SECRET, stale = false): string {
  algorithmInfo(algorithm); // TypeError for a name outside the union (from untyped callers)
  const nonce = mintNonce(realm, secret);
  return `Digest realm=${quoteString(realm)},nonce="${nonce}",algorithm=${algorithm},qop="auth"${stale ? ',stale=TRUE' : ''}`;
}

/** `replay`: the digest was right but its nonce-count was used before (nonce-counts.ts); worth an operator's warn. */
export type VerifyResult = { ok: true; username: string } | { ok: false; stale: boolean; reason: string; replay?: true };

/**
 * Checks an Authorization / Proxy-Authorization value for a request with this method.
 *
 * RFC 7616 §3.3 on stale: "The server should only set stale to true if it receives a request for which the
 * nonce is invalid and with a valid digest for that nonce (indicating that the client knows the correct
 * username/password)." So an expired or foreign nonce gives stale: true only when the response is right for
 * it; a wrong password gives stale: false whatever the nonce (the client must ask the user again).
 *
 * With `counts` (a server's NonceCounts), a right digest whose nonce-count is not above the last one accepted
 * with its nonce is a replay (RFC 2617 §3.2.2, nonce-counts.ts): refused with stale: true, by the same rule
 * (the digest is valid for the nonce, the nonce at this count is not), so that a genuine client whose request
 * came late is given a fresh nonce and answers it without asking its user, and the replayer, who has no
 * password, gets nothing. Without `counts` (checking a UAC's credentials in tests) nothing is remembered.
 */
export function verifyAuthorization(
  headerValue: string,
  method: string,
  lookupPassword: (username: string, realm: string) => string | undefined,
  secret: Buffer,
  nonceMaxAgeS: number = DEFAULT_NONCE_MAX_AGE_S,
  counts?: NonceCounts,
): VerifyResult {
  const auth = parseAuthorization(headerValue);
  if ('error' in auth) return { ok: false, stale: false, reason: auth.error };
  if (auth.qop !== 'auth') {
    return { ok: false, stale: false, reason: auth.qop === undefined ? 'qop=auth is required' : `qop=${auth.qop} is not supported` };
  }
  const password = lookupPassword(auth.username, auth.realm);
  if (password === undefined) return { ok: false, stale: false, reason: `unknown user "${auth.username}" in realm "${auth.realm}"` };
  const expected = digestResponse({
    algorithm: auth.algorithm,
    username: auth.username,
    realm: auth.realm,
    password,
    method,
    uri: auth.uri,
    nonce: auth.nonce,
    qop: 'auth',
    nc: auth.nc,
    cnonce: auth.cnonce,
  });
  // Constant time over the digest; its length depends only on the algorithm, which is public.
  const got = Buffer.from(auth.response, 'utf8');
  const want = Buffer.from(expected, 'utf8');
  if (got.length !== want.length || !timingSafeEqual(got, want)) {
    return { ok: false, stale: false, reason: 'wrong response (bad password or a mangled request)' };
  }
  const status = checkNonce(auth.nonce, auth.realm, secret, nonceMaxAgeS);
  if (status !== 'valid') return { ok: false, stale: true, reason: status === 'expired' ? 'nonce expired' : 'nonce not issued by us' };
  if (counts) {
    // parseAuthorization checked that nc is 8 hex digits (qop=auth requires it).
    const use = counts.use(auth.nonce, nonceIssuedAtS(auth.nonce), Number.parseInt(auth.nc!, 16), nonceMaxAgeS);
    if (use === 'replay') return { ok: false, stale: true, reason: `nonce-count ${auth.nc} already used with this nonce (a replay)`, replay: true };
    if (use === 'forgotten') return { ok: false, stale: true, reason: 'nonce no longer counted (the table was full)' };
  }
  return { ok: true, username: auth.username };
}
