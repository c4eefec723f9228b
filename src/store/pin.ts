/**
 * Mailbox PINs: the policy a new PIN must meet, and how a PIN is kept (an scrypt hash, never the PIN).
 *
 * Hash format, self-describing so the parameters can be raised later without breaking stored hashes:
 *   scrypt$<N>$<r>$<p>$<salt, base64>$<key, base64>
 * N = 16384, r = 8, p = 1 (16 MiB of memory, some tens of ms per hash): a 4-digit PIN has only 10^4
 * values, so no hash makes a stolen database safe; the cost only slows a bulk search and must stay small
 * enough for a login. Hashing runs on libuv's thread pool (crypto.scrypt), never on the event loop.
 *
 * Not here: counting failures and locking (the store's verifyPin), where PINs are entered (apps/voicemail).
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const N = 16384;
const R = 8;
const P = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;

function scryptAsync(pin: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(pin, salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** The scrypt hash of a PIN, in the format above (a fresh random salt each time). */
export async function hashPin(pin: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scryptAsync(pin, salt, KEY_BYTES, { N, r: R, p: P, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/**
 * Whether `pin` matches `hash`. The keys are compared with crypto.timingSafeEqual, so the time taken does not
 * say how much of a guess was right. A malformed hash matches nothing (false, never a throw).
 */
export async function verifyPin(pin: string, hash: string): Promise<boolean> {
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![n, r, p].every((v) => Number.isSafeInteger(v) && v > 0)) return false;
  const salt = Buffer.from(parts[4]!, 'base64');
  const expected = Buffer.from(parts[5]!, 'base64');
  if (salt.length === 0 || expected.length === 0) return false;
  let key: Buffer;
  try {
    key = await scryptAsync(pin, salt, expected.length, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 });
  } catch {
    return false; // Parameters scrypt refuses (N not a power of two...): a hash we did not write.
  }
  return timingSafeEqual(key, expected);
}

/** A run of digits that each step by `step` (mod 10, so 7890 and 0987 count, as on a keyboard's top row). */
function isRun(pin: string, step: 1 | -1): boolean {
  for (let i = 1; i < pin.length; i++) {
    if ((pin.charCodeAt(i) - pin.charCodeAt(i - 1) + 10) % 10 !== (step + 10) % 10) return false;
  }
  return true;
}

/**
 * The PIN policy (issue 4), one for every place a PIN is set. Two kinds of PIN:
 * - an initial PIN, set by an administrator (the config's mailboxes[].pin, `vmpilot mailbox add` and
 *   `mailbox set-pin`): the mailbox is marked must-change, and the first log-in cannot go on until the owner
 *   has chosen a PIN of their own (apps/voicemail/tutorial.ts). It must be a PIN (pinFormatProblem); one easy
 *   to guess (1234, the mailbox number) is accepted with a warning, because sites hand out such default PINs
 *   and the owner replaces it at once;
 * - a PIN the owner chooses by phone: it must also be hard to guess (checkPinPolicy).
 */

/** What a PIN is: 4 to 16 digits (it is typed on a keypad). The config schema checks this too. */
export const PIN_FORMAT = /^[0-9]{4,16}$/;

/** Why `pin` cannot be a PIN at all, or undefined. */
export function pinFormatProblem(pin: string): string | undefined {
  return PIN_FORMAT.test(pin) ? undefined : 'the PIN must be 4 to 16 digits';
}

/** Why `pin` is easy to guess for this mailbox ("it is the mailbox number"...), or undefined. */
export function guessablePinProblem(pin: string, mailboxNumber: string): string | undefined {
  if (pin === mailboxNumber) return 'it is the mailbox number';
  if (/^(.)\1*$/.test(pin)) return 'it is one digit repeated';
  if (isRun(pin, 1) || isRun(pin, -1)) return 'it is a run of consecutive digits (such as 1234 or 4321)';
  return undefined;
}

/**
 * The policy for a PIN the owner chooses: 4 to 16 digits, not the mailbox number, not one digit repeated
 * (0000), not a run up or down (1234, 123456, 4321). Returns why a PIN is refused, or undefined.
 */
export function checkPinPolicy(pin: string, mailboxNumber: string): string | undefined {
  const guessable = guessablePinProblem(pin, mailboxNumber);
  return pinFormatProblem(pin) ?? (guessable && `the PIN is too easy to guess: ${guessable}`);
}

/** The warning for an initial PIN that is easy to guess (accepted: see above), or undefined. */
export function weakInitialPinWarning(pin: string, mailboxNumber: string): string | undefined {
  const guessable = guessablePinProblem(pin, mailboxNumber);
  return guessable && `PIN ${pin} is easy to guess (${guessable}); accepted as an initial PIN, which the owner must replace at first login`;
}
