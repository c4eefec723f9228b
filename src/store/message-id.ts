/**
 * Message ids: unique, sortable by creation time as plain strings, and safe as file names. ULID-like:
 * 10 characters of milliseconds since the epoch then 16 random characters, in Crockford's base 32
 * (0-9, A-Z without I, L, O, U), 26 characters in all, e.g. 01J9Z3K8Q4V6M2T5R7W0X1Y2Z3.
 *
 * Within one millisecond the order of ids is random (80 random bits make a collision practically impossible);
 * play order never relies on it (the store sorts by receivedAt).
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A new id for a message created at `now` (ms since the epoch). */
export function newMessageId(now: number = Date.now()): string {
  let time = '';
  let t = Math.max(0, Math.floor(now));
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(16);
  let rand = '';
  for (const b of bytes) rand += ALPHABET[b & 31]!;
  return time + rand;
}

/** Whether a string has the shape of an id from newMessageId (checked before it is used in a file name). */
export function isMessageId(text: string): boolean {
  return /^[0-9A-HJKMNP-TV-Z]{26}$/.test(text);
}
