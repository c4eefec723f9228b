/**
 * Stateless server nonces (RFC 7616 §3.3 suggests "time-stamp H(time-stamp ":" ETag ":" secret-data)"):
 * a nonce carries the second it was issued, random bytes, and an HMAC over both and the realm, so the server
 * can tell its own fresh nonces from expired or foreign ones without remembering any.
 *
 *   nonce = base64url( issued-at (uint32 seconds) | 8 random bytes | HMAC-SHA-256(secret, those 12 bytes | realm)[0..16) )
 *
 * Replay protection within a nonce's lifetime needs state, the highest nc seen per nonce: nonce-counts.ts, which
 * verifyAuthorization consults once a request's digest and nonce are right.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const STAMP_BYTES = 4;
const RANDOM_BYTES = 8;
const MAC_BYTES = 16;
const NONCE_BYTES = STAMP_BYTES + RANDOM_BYTES + MAC_BYTES;
/** base64url of NONCE_BYTES (28) bytes, no padding. */
const NONCE_PATTERN = /^[A-Za-z0-9_-]{38}$/;
/** Clock skew tolerated for a nonce stamped in the future (another worker's clock). */
const FUTURE_SKEW_S = 5;

export type NonceStatus = 'valid' | 'expired' | 'foreign';

function mac(secret: Buffer, head: Buffer, realm: string): Buffer {
  return createHmac('sha256', secret).update(head).update(realm, 'utf8').digest().subarray(0, MAC_BYTES);
}

export function mintNonce(realm: string, secret: Buffer, nowMs = Date.now()): string {
  const head = Buffer.allocUnsafe(STAMP_BYTES + RANDOM_BYTES);
  head.writeUInt32BE(Math.floor(nowMs / 1000) >>> 0, 0);
  randomBytes(RANDOM_BYTES).copy(head, STAMP_BYTES);
  return Buffer.concat([head, mac(secret, head, realm)]).toString('base64url');
}

/** The second a nonce was issued (its stamp). Meaningful only for a nonce checkNonce found 'valid'. */
export function nonceIssuedAtS(nonce: string): number {
  return Buffer.from(nonce, 'base64url').readUInt32BE(0);
}

/**
 * 'valid' for a nonce this secret issued for this realm less than maxAgeS seconds ago; 'expired' for one that
 * is older; 'foreign' for anything else (another secret, another realm, altered, or not ours at all).
 */
export function checkNonce(nonce: string, realm: string, secret: Buffer, maxAgeS: number, nowMs = Date.now()): NonceStatus {
  if (!NONCE_PATTERN.test(nonce)) return 'foreign';
  const bytes = Buffer.from(nonce, 'base64url');
  // Re-encoding catches the spare low bits of the last character, which decoding ignores.
  if (bytes.length !== NONCE_BYTES || bytes.toString('base64url') !== nonce) return 'foreign';
  const head = bytes.subarray(0, STAMP_BYTES + RANDOM_BYTES);
  if (!timingSafeEqual(bytes.subarray(STAMP_BYTES + RANDOM_BYTES), mac(secret, head, realm))) return 'foreign';
  const age = Math.floor(nowMs / 1000) - bytes.readUInt32BE(0);
  if (age < -FUTURE_SKEW_S) return 'foreign';
  return age > maxAgeS ? 'expired' : 'valid';
}
