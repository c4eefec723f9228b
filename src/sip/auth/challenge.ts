/**
 * Reading Digest challenges from WWW-Authenticate / Proxy-Authenticate values (RFC 3261 §22.2, RFC 7616 §3.3,
 * RFC 8760 §2) and choosing the one a UAC answers.
 *
 * A challenge is "supported" when it is Digest, names an algorithm we implement (absent means MD5), carries a
 * realm and a nonce, and is answerable: with qop it must offer "auth" (we do not implement auth-int), and a
 * -sess algorithm needs qop (without qop there is no cnonce to put in A1). Anything else yields undefined,
 * so the caller returns the 401/407 as it is instead of sending credentials that cannot be right.
 *
 * Never throws: the input comes straight off the wire.
 */
import { parseAuthHeader, type AuthChallengeText } from './auth-params.js';
import { algorithmByName, algorithmInfo, type DigestAlgorithm } from './hash.js';

export interface DigestChallenge {
  scheme: 'Digest';
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm: DigestAlgorithm;
  /** qop-options, lower-case; absent for a legacy (RFC 2069) challenge. */
  qop?: string[];
  /** True when the server says the previous nonce was stale and the credentials were otherwise right. */
  stale?: boolean;
}

/** The first supported Digest challenge in one header value (which may hold several), or undefined. */
export function parseChallenge(headerValue: string): DigestChallenge | undefined {
  for (const text of parseAuthHeader(headerValue)) {
    const ch = toDigestChallenge(text);
    if (ch) return ch;
  }
  return undefined;
}

/**
 * The challenge to answer among every WWW-Authenticate (or Proxy-Authenticate) value of a response.
 *
 * RFC 8760 §2.4: "it SHOULD use the topmost header field that it supports unless a local policy dictates
 * otherwise." Our local policy is strongest first (SHA-512-256, then SHA-256, then MD5), topmost among equals:
 * challenges are not integrity-protected, and RFC 8760 §3 warns that offering MD5 next to a stronger
 * algorithm invites a downgrade by an attacker who reorders them. A server that lists its preference first
 * (RFC 8760 §2.3) normally lists the strongest first, so the two rules usually agree.
 */
export function chooseChallenge(values: readonly string[]): DigestChallenge | undefined {
  let best: DigestChallenge | undefined;
  let bestStrength = 0;
  for (const value of values) {
    for (const text of parseAuthHeader(value)) {
      const ch = toDigestChallenge(text);
      if (!ch) continue;
      const strength = algorithmInfo(ch.algorithm).strength;
      if (strength > bestStrength) {
        best = ch;
        bestStrength = strength;
      }
    }
  }
  return best;
}

function toDigestChallenge(text: AuthChallengeText): DigestChallenge | undefined {
  if (text.scheme.toLowerCase() !== 'digest') return undefined;
  const p = text.params;
  const realm = p.get('realm');
  const nonce = p.get('nonce');
  if (realm === undefined || nonce === undefined || nonce.length === 0) return undefined;
  // RFC 7616 §3.3: "If this parameter is not present, it is assumed to be "MD5"."
  const algorithmText = p.get('algorithm');
  const algorithm = algorithmText === undefined ? 'MD5' : algorithmByName(algorithmText);
  if (!algorithm) return undefined;
  const ch: DigestChallenge = { scheme: 'Digest', realm, nonce, algorithm };
  const qopText = p.get('qop');
  if (qopText !== undefined) {
    // RFC 7616 §3.3: qop is a quoted, comma-separated list of "auth" / "auth-int" / tokens.
    const qop = qopText
      .split(',')
      .map((q) => q.trim().toLowerCase())
      .filter((q) => q.length > 0);
    if (!qop.includes('auth')) return undefined; // auth-int only: we cannot answer it (FIXME if ever needed)
    ch.qop = qop;
  } else if (algorithmInfo(algorithm).session) {
    return undefined; // RFC 2617 §3.2.2: no cnonce without qop, and -sess A1 needs one
  }
  const opaque = p.get('opaque');
  if (opaque !== undefined) ch.opaque = opaque;
  // RFC 7616 §3.3: stale is a case-insensitive flag; only "true" means true.
  const stale = p.get('stale');
  if (stale !== undefined) ch.stale = stale.toLowerCase() === 'true';
  return ch;
}
