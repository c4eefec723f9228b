/**
 * The PIN back-off policy (issue 9 item 4): wrong PINs slow the next try instead of locking the mailbox.
 *
 * Failures are counted under two keys, each with its own threshold:
 *   - the source (the caller's number, else the address the call came from): one caller guessing;
 *   - the mailbox (as entered, an absent one too, so that absent and present behave alike): many callers
 *     guessing at one mailbox.
 * Below a key's threshold a try is not delayed. From the threshold on, the try after the n-th failure waits
 * firstDelayMs * 2^(n - threshold), at most maxDelayMs, and only one try per key is let through per delay
 * (several calls guessing at once get no more tries than one). One failure is forgotten per forgetAfterMs
 * without failures, so an owner who mistyped is back to normal after a while, and nothing ever locks for good.
 *
 * An owner under attack therefore waits at most maxDelayMs for their try, then gets in with the right PIN.
 * This module is pure arithmetic; the store keeps the counts (pin-failure-table.ts).
 */
import type { VoicemailConfig } from '../config/schema.js';

export interface PinBackoffPolicy {
  /** Failures from one source after which its tries are delayed (voicemail.pinBackoff.sourceAfter). */
  sourceAfter: number;
  /** Failures on one mailbox, from any source, after which its tries are delayed (voicemail.lockAfter). */
  mailboxAfter: number;
  /** The first delay, ms. */
  firstDelayMs: number;
  /** The longest delay, ms. */
  maxDelayMs: number;
  /** One failure is forgotten per this long without a failure, ms. */
  forgetAfterMs: number;
}

/** The defaults of voicemail.pinBackoff and voicemail.lockAfter (README). */
export const DEFAULT_PIN_BACKOFF: PinBackoffPolicy = {
  sourceAfter: 3,
  mailboxAfter: 10,
  firstDelayMs: 2000,
  maxDelayMs: 60_000,
  forgetAfterMs: 15 * 60_000,
};

/** The keys a try is counted under (distinct name spaces: a caller number may equal a mailbox number). */
export const mailboxBackoffKey = (mailbox: string): string => `mailbox:${mailbox}`;
export const sourceBackoffKey = (source: string): string => `source:${source}`;

/** Failures still remembered `now`: one forgotten per forgetAfterMs since the last failure. */
export function rememberedFailures(failures: number, lastFailureAt: number, now: number, forgetAfterMs: number): number {
  if (failures <= 0) return 0;
  const forgotten = forgetAfterMs > 0 ? Math.floor(Math.max(0, now - lastFailureAt) / forgetAfterMs) : failures;
  return Math.max(0, failures - forgotten);
}

/** How long the try after `failures` failures waits (0 below the threshold). */
export function delayAfter(failures: number, threshold: number, policy: Pick<PinBackoffPolicy, 'firstDelayMs' | 'maxDelayMs'>): number {
  if (failures < threshold) return 0;
  // 2^30 is past any cap; the exponent is bounded so the arithmetic stays exact.
  const exponent = Math.min(30, failures - threshold);
  return Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** exponent);
}

/** The policy a config gives (voicemail.lockAfter and voicemail.pinBackoff). */
export function pinBackoffPolicy(vm: Pick<VoicemailConfig, 'lockAfter' | 'pinBackoff'>): PinBackoffPolicy {
  const b = vm.pinBackoff;
  return {
    sourceAfter: b.sourceAfter,
    mailboxAfter: vm.lockAfter,
    firstDelayMs: Math.round(b.firstDelayS * 1000),
    maxDelayMs: Math.round(Math.max(b.maxDelayS, b.firstDelayS) * 1000),
    forgetAfterMs: Math.round(b.forgetMinutes * 60_000),
  };
}
