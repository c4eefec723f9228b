/**
 * The digest computation itself: the algorithms SIP may use (RFC 8760 §2.1, RFC 7616 §3.4.1) and the
 * request-digest of RFC 7616 §3.4.1 / RFC 2617 §3.2.2.1, for qop=auth and for the legacy form without qop.
 *
 * Pure functions over strings; no parsing, no randomness. Strings are hashed as UTF-8 (RFC 7616 §4).
 */
import { createHash } from 'node:crypto';

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess' | 'SHA-512-256' | 'SHA-512-256-sess';

interface AlgorithmInfo {
  name: DigestAlgorithm;
  /** Node's name for the hash function H. */
  hash: string;
  /** -sess variants fold the nonce and cnonce into A1 (RFC 7616 §3.4.2). */
  session: boolean;
  /** Higher is stronger; used to pick among several challenges (see chooseChallenge). */
  strength: number;
  /** Length of H() in hex characters. */
  hexLength: number;
}

const ALGORITHMS: readonly AlgorithmInfo[] = [
  { name: 'MD5', hash: 'md5', session: false, strength: 1, hexLength: 32 },
  { name: 'MD5-sess', hash: 'md5', session: true, strength: 1, hexLength: 32 },
  { name: 'SHA-256', hash: 'sha256', session: false, strength: 2, hexLength: 64 },
  { name: 'SHA-256-sess', hash: 'sha256', session: true, strength: 2, hexLength: 64 },
  { name: 'SHA-512-256', hash: 'sha512-256', session: false, strength: 3, hexLength: 64 },
  { name: 'SHA-512-256-sess', hash: 'sha512-256', session: true, strength: 3, hexLength: 64 },
];

const BY_LOWER_NAME = new Map(ALGORITHMS.map((a) => [a.name.toLowerCase(), a]));
const BY_NAME = new Map(ALGORITHMS.map((a) => [a.name, a]));

/**
 * The algorithm an `algorithm=` parameter names, or undefined for one we do not support (SHA-1, AKAv1-MD5...).
 * Matched case-insensitively: the registry names are canonical, but "md5" is common on the wire.
 */
export function algorithmByName(text: string): DigestAlgorithm | undefined {
  return BY_LOWER_NAME.get(text.toLowerCase())?.name;
}

export function algorithmInfo(algorithm: DigestAlgorithm): AlgorithmInfo {
  const info = BY_NAME.get(algorithm);
  if (!info) throw new TypeError(`unsupported digest algorithm "${String(algorithm)}"`);
  return info;
}

export interface DigestInput {
  algorithm: DigestAlgorithm;
  username: string;
  realm: string;
  password: string;
  method: string;
  /** The digest-uri exactly as it appears in the `uri` parameter. */
  uri: string;
  nonce: string;
  /** 'auth', or undefined for the RFC 2069 form (no qop, nc or cnonce). */
  qop?: 'auth';
  /** nc as sent: 8 hex digits. Required with qop. */
  nc?: string;
  /** Required with qop and with every -sess algorithm. */
  cnonce?: string;
}

/**
 * request-digest, lower-case hex.
 *
 * RFC 7616 §3.4.1: response = KD(H(A1), nonce ":" nc ":" cnonce ":" qop ":" H(A2)), with KD(s, d) = H(s ":" d).
 * RFC 2617 §3.2.2.1: without qop, response = KD(H(A1), nonce ":" H(A2)) (compatibility with RFC 2069).
 * RFC 7616 §3.4.2: A1 = username ":" realm ":" passwd; for -sess, A1 = H(that) ":" nonce ":" cnonce.
 * RFC 7616 §3.4.3: for qop=auth (and without qop), A2 = Method ":" request-uri.
 */
export function digestResponse(input: DigestInput): string {
  const info = algorithmInfo(input.algorithm);
  const H = (data: string): string => createHash(info.hash).update(data, 'utf8').digest('hex');
  let ha1 = H(`${input.username}:${input.realm}:${input.password}`);
  if (info.session) {
    if (input.cnonce === undefined) throw new TypeError(`${info.name} needs a cnonce`);
    ha1 = H(`${ha1}:${input.nonce}:${input.cnonce}`);
  }
  const ha2 = H(`${input.method}:${input.uri}`);
  if (input.qop === undefined) return H(`${ha1}:${input.nonce}:${ha2}`);
  if (input.nc === undefined || input.cnonce === undefined) throw new TypeError('qop=auth needs nc and cnonce');
  return H(`${ha1}:${input.nonce}:${input.nc}:${input.cnonce}:${input.qop}:${ha2}`);
}
