/**
 * Random identifiers for tags, branches and Call-IDs (RFC 3261 §19.3: tags and Call-IDs MUST be globally
 * unique and cryptographically random, at least 32 bits). Drawn from a pooled crypto buffer so that the
 * call-setup hot path does not pay a system call per identifier.
 */
import { randomBytes } from 'node:crypto';
import { MAGIC_COOKIE } from './transaction/transaction-key.js';

const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let offset = 0;

function randomHex(bytes: number): string {
  if (offset + bytes > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  const out = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return out;
}

/** A From/To tag: 64 random bits. */
export function newTag(): string {
  return randomHex(8);
}

/** A Via branch: the RFC 3261 magic cookie plus 96 random bits. */
export function newBranch(): string {
  return MAGIC_COOKIE + randomHex(12);
}

/** A Call-ID: 128 random bits, optionally @host. */
export function newCallId(host?: string): string {
  return host ? `${randomHex(16)}@${host}` : randomHex(16);
}
