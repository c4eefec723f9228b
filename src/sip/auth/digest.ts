/**
 * Digest access authentication for SIP (RFC 3261 §22, RFC 7616, RFC 8760): MD5, SHA-256 and SHA-512-256,
 * each plain or -sess; qop=auth and the legacy form without qop. auth-int is not implemented: challenges that
 * offer only auth-int are treated as unsupported, and credentials using it are refused.
 *
 * The one import path for the rest of the stack. Each part lives in its own file:
 *   auth-params.ts  the challenge/credentials grammar    hash.ts     algorithms and the digest computation
 *   challenge.ts    reading and choosing challenges      nonce.ts    stateless HMAC nonces
 *   credentials.ts  building and reading Authorization   verify.ts   UAS: issuing and checking
 *   nonce-counts.ts the highest nc per nonce (replays)
 */
export type { DigestAlgorithm } from './hash.js';
export { parseChallenge, chooseChallenge, type DigestChallenge } from './challenge.js';
export { buildAuthorization, parseAuthorization, type DigestCredentials, type DigestAuthorization } from './credentials.js';
export { NonceCounts, DEFAULT_MAX_NONCE_ENTRIES } from './nonce-counts.js';
export { createChallenge, verifyAuthorization, DEFAULT_NONCE_SECRET, DEFAULT_NONCE_MAX_AGE_S, type VerifyResult } from './verify.js';
