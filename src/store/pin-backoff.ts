/**
 * The PIN back-off policy (issue 9 item 4): wrong PINs slow the next try instead of locking the mailbox.
 *
 * Failures are counted under these keys, each with its own threshold (backoffKeys()):
 *   - the mailbox (as entered, an absent one too, so that absent and present behave alike): many callers
 *     guessing at one mailbox (mailboxAfter);
 *   - the source, the network address the try came from (IPv6 per prefix, sip/source-key.ts), which the
 *     attacker cannot change the way they can change a From number (sourceAfter). A source that carries many
 *     people's tries (a PBX: every call comes from one) counts per mailbox instead ("mailbox:N|source:S"): one
 *     anonymous caller guessing at one mailbox then slows tries at that mailbox only, never every other caller
 *     behind the same PBX.
 *   - the shared source across every mailbox ("shared:S", sharedSourceAfter): the count per source and mailbox
 *     alone let one anonymous caller (or one changing From, or many callers behind one address) try a PIN or
 *     two at each of thousands of mailboxes, slowed nowhere. This count forgets faster (one failure per
 *     sharedSourceForgetAfterMs, the window divided by the threshold: 30 s by default), so the ordinary mistakes
 *     of a whole site's callers never reach it, while a source failing faster than that on average (20 wrong
 *     PINs within about 10 minutes by default) is slowed for every mailbox, with the same delays as the other
 *     keys. That slows the genuine callers behind the same PBX too while it lasts: the price of not letting an
 *     attacker sweep the site; the alert says so, and a quiet window lifts it. A right PIN does not clear it
 *     (an attacker owning one mailbox would clear it at will).
 * Not the caller's number: anyone can write any From, so a count per number would let an attacker slow the
 * owner calling from her own phone by guessing under her number, and stop nobody (the next try has a new one).
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
  /**
   * Failures from one shared source (a PBX), at all mailboxes together, after which every try from it is delayed
   * (voicemail.pinBackoff.sharedSourceAfter).
   */
  sharedSourceAfter: number;
  /** One of the shared source's failures is forgotten per this long, ms (sharedSourceWindowMinutes / sharedSourceAfter). */
  sharedSourceForgetAfterMs: number;
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
  sharedSourceAfter: 20,
  sharedSourceForgetAfterMs: 30_000,
  mailboxAfter: 10,
  firstDelayMs: 2000,
  maxDelayMs: 60_000,
  forgetAfterMs: 15 * 60_000,
};

/** The keys a try is counted under (distinct name spaces: a caller number may equal a mailbox number). */
export const mailboxBackoffKey = (mailbox: string): string => `mailbox:${mailbox}`;
export const sourceBackoffKey = (source: string): string => `source:${source}`;
/** Under the mailbox's key ("mailbox:N|..."): clearing the mailbox's key clears it too (unlock, a right PIN). */
export const sourceAtMailboxBackoffKey = (mailbox: string, source: string): string => `${mailboxBackoffKey(mailbox)}|source:${source}`;
/** A shared source's count at every mailbox together (not under any mailbox's key: nothing of a mailbox clears it). */
export const sharedSourceBackoffKey = (source: string): string => `shared:${source}`;

/** Which count a key is, for the operator's alert. */
export type BackoffKind = 'mailbox' | 'source' | 'sharedSource';

/** Who is trying, as checkPin is told (types.ts PinAttempt). */
export interface TrySource {
  source: string;
  sharedSource?: boolean;
}

/** The keys one try at `mailbox` (its number, or the number entered when it does not exist) counts under. */
export function backoffKeys(
  mailbox: string,
  who: TrySource,
  policy: Pick<PinBackoffPolicy, 'sourceAfter' | 'mailboxAfter' | 'sharedSourceAfter' | 'sharedSourceForgetAfterMs'>,
): (CountedKey & { kind: BackoffKind })[] {
  const keys: (CountedKey & { kind: BackoffKind })[] = [
    { key: mailboxBackoffKey(mailbox), threshold: policy.mailboxAfter, kind: 'mailbox' },
    { key: who.sharedSource ? sourceAtMailboxBackoffKey(mailbox, who.source) : sourceBackoffKey(who.source), threshold: policy.sourceAfter, kind: 'source' },
  ];
  // A source that is not shared is already counted across mailboxes, under its own, lower threshold.
  if (who.sharedSource) {
    keys.push({ key: sharedSourceBackoffKey(who.source), threshold: policy.sharedSourceAfter, forgetAfterMs: policy.sharedSourceForgetAfterMs, kind: 'sharedSource' });
  }
  return keys;
}

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

/** How long one failure of `counted` takes to be forgotten: its own period, else the policy's. */
export function forgetPeriod(counted: CountedKey, policy: Pick<PinBackoffPolicy, 'forgetAfterMs'>): number {
  return counted.forgetAfterMs ?? policy.forgetAfterMs;
}

/** The longest forget period of any key (the stores prune a row once this many per failure have passed). */
export function longestForgetPeriod(policy: Pick<PinBackoffPolicy, 'forgetAfterMs' | 'sharedSourceForgetAfterMs'>): number {
  return Math.max(policy.forgetAfterMs, policy.sharedSourceForgetAfterMs);
}

/** The policy a config gives (voicemail.lockAfter and voicemail.pinBackoff). */
export function pinBackoffPolicy(vm: Pick<VoicemailConfig, 'lockAfter' | 'pinBackoff'>): PinBackoffPolicy {
  const b = vm.pinBackoff;
  return {
    sourceAfter: b.sourceAfter,
    sharedSourceAfter: b.sharedSourceAfter,
    sharedSourceForgetAfterMs: Math.round((b.sharedSourceWindowMinutes * 60_000) / b.sharedSourceAfter),
    mailboxAfter: vm.lockAfter,
    firstDelayMs: Math.round(b.firstDelayS * 1000),
    maxDelayMs: Math.round(Math.max(b.maxDelayS, b.firstDelayS) * 1000),
    forgetAfterMs: Math.round(b.forgetMinutes * 60_000),
  };
}

/** What the store remembers per back-off key (pin-failure-table.ts, pg/pin-failures.ts). */
export interface FailureState {
  failures: number;
  lastFailureAt: number;
  /** The earliest next try, ms since the epoch. */
  notBefore: number;
  /** When the key last raised an alert (0: never). */
  alertedAt: number;
}

/** A key a try is counted under, with its threshold. */
export interface CountedKey {
  key: string;
  threshold: number;
  /** One failure forgotten per this long without failures, ms; absent: the policy's forgetAfterMs. */
  forgetAfterMs?: number;
}

/** Failures remembered past a key's threshold: the delay reached its cap long before. */
const MAX_OVER_THRESHOLD = 32;

/**
 * A try asking to go ahead `now`, given each key's state: waitMs > 0 when a key's delay is not over (the try
 * is refused); otherwise the keys past their threshold are held (notBefore) for their delay, so that a
 * concurrent try waits for this one's outcome. The store applies `holds` in the transaction that read `states`.
 */
export function claimTry(
  keys: readonly CountedKey[],
  states: ReadonlyMap<string, FailureState>,
  now: number,
  policy: PinBackoffPolicy,
): { waitMs: number; holds: { key: string; notBefore: number }[] } {
  let waitMs = 0;
  for (const { key } of keys) {
    const state = states.get(key);
    if (state && state.notBefore > now) waitMs = Math.max(waitMs, state.notBefore - now);
  }
  if (waitMs > 0) return { waitMs, holds: [] };
  const holds: { key: string; notBefore: number }[] = [];
  for (const counted of keys) {
    const state = states.get(counted.key);
    if (!state) continue;
    const hold = delayAfter(rememberedFailures(state.failures, state.lastFailureAt, now, forgetPeriod(counted, policy)), counted.threshold, policy);
    if (hold > 0) holds.push({ key: counted.key, notBefore: now + hold });
  }
  return { waitMs: 0, holds };
}

/**
 * A wrong PIN counted under one key: its new state, the delay now imposed, and whether it raises an alert (it
 * reached its threshold and has not alerted within the policy's forgetAfterMs).
 */
export function countFailure(
  state: FailureState | undefined,
  counted: CountedKey,
  now: number,
  policy: PinBackoffPolicy,
): { state: FailureState; delayMs: number; alert: boolean } {
  const threshold = counted.threshold;
  const before = state ? rememberedFailures(state.failures, state.lastFailureAt, now, forgetPeriod(counted, policy)) : 0;
  const failures = Math.min(before + 1, threshold + MAX_OVER_THRESHOLD);
  const delayMs = delayAfter(failures, threshold, policy);
  const alert = failures >= threshold && (state === undefined || state.alertedAt <= now - policy.forgetAfterMs);
  return { state: { failures, lastFailureAt: now, notBefore: now + delayMs, alertedAt: alert ? now : (state?.alertedAt ?? 0) }, delayMs, alert };
}
