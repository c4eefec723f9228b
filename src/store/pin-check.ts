/**
 * One PIN entry under the back-off (store.checkPin, types.ts), the same steps for every store engine: claim a
 * try, hash (an absent mailbox against a dummy hash of the same cost), count the outcome. Every entry runs
 * the same steps whether the mailbox exists or not; only the answer to a right PIN differs, and only a real
 * mailbox can give one.
 *
 * Not here: the policy's arithmetic (pin-backoff.ts), where the counts live (pin-failure-table.ts for SQLite,
 * pg/pin-failures.ts for PostgreSQL: each step is one transaction there, so hosts count together).
 */
import { backoffKeys, type CountedKey, type PinBackoffPolicy } from './pin-backoff.js';
import { verifyPin } from './pin.js';
import type { Mailbox, PinAlert, PinAttempt, PinCheck } from './types.js';

/** What checkPin needs from a store engine. */
export interface PinCheckSteps {
  /** checkPin's stand-in for an absent mailbox's hash (same parameters, so the same cost). */
  dummyHash(): Promise<string>;
  /** The mailbox a number or alias names: its number, PIN hash and administrator's lock. */
  credentials(numberOrAlias: string): Promise<{ number: string; pinHash: string; locked: boolean } | undefined>;
  /** pin-backoff.ts claimTry in one transaction: ms to wait, or 0 (and the keys held). */
  claim(keys: readonly CountedKey[], now: number, policy: PinBackoffPolicy): Promise<number>;
  /** pin-backoff.ts countFailure for each key in one transaction: the keys that raised an alert. */
  recordFailure(keys: readonly CountedKey[], now: number, policy: PinBackoffPolicy): Promise<{ key: string; failures: number; delayMs: number }[]>;
  /** Forgets a key's failures. */
  clear(key: string): Promise<void>;
  /** The mailbox record after a right PIN. */
  mailbox(number: string): Promise<Mailbox>;
}

export async function checkPinWith(steps: PinCheckSteps, attempt: PinAttempt): Promise<PinCheck> {
  const { number, pin, policy } = attempt;
  const dummy = await steps.dummyHash();
  const found = await steps.credentials(number);
  const counted = backoffKeys(found?.number ?? number, attempt, policy);
  const mailboxKey = counted[0]!.key;
  const waitMs = await steps.claim(counted, Date.now(), policy);
  if (waitMs > 0) return { verdict: 'wait', waitMs };
  const matches = await verifyPin(pin, found?.pinHash ?? dummy);
  if (matches && found !== undefined && !found.locked) {
    await steps.clear(mailboxKey); // and the keys under it: every source's count at this mailbox
    return { verdict: 'ok', mailbox: await steps.mailbox(found.number) };
  }
  // The same writes whether the mailbox exists or not (its failedLogins is the mailbox key's count).
  const raised = await steps.recordFailure(counted, Date.now(), policy);
  const alerts = raised.map(({ key, failures, delayMs }): PinAlert => ({ kind: counted.find((c) => c.key === key)?.kind ?? 'source', failures, delayMs }));
  return { verdict: 'wrong', alerts };
}
