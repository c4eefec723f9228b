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
import { checkNonce, mintNonce } from './nonce.js';

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

export type VerifyResult = { ok: true; username: string } | { ok: false; stale: boolean; reason: string };

/**
 * Checks an Authorization / Proxy-Authorization value for a request with this method.
 *
 * RFC 7616 §3.3 on stale: "The server should only set stale to true if it receives a request for which the
 * nonce is invalid and with a valid digest for that nonce (indicating that the client knows the correct
 * username/password)." So an expired or foreign nonce gives stale: true only when the response is right for
 * it; a wrong password gives stale: false whatever the nonce (the client must ask the user again).
 */
export function verifyAuthorization(
  headerValue: string,
  method: string,
  lookupPassword: (username: string, realm: string) => string | undefined,
  secret: Buffer,
  nonceMaxAgeS: number = DEFAULT_NONCE_MAX_AGE_S,
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
  return { ok: true, username: auth.username };
}
