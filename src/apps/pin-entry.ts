/**
 * A PIN entry as the apps make it (voicemail log-in, the attendant's greeting administrator): the store's
 * checkPin under the back-off (store/pin-backoff.ts), waiting out a running delay in silence and trying again,
 * and the alert an operator sees when a caller or a mailbox reaches its threshold (a warn line, at most once
 * per key per forget period; the store counts each in its pinBackoffAlerts counter).
 *
 * The caller hears nothing different for an absent mailbox: both wait the same, both get "not correct".
 */
import type { Logger } from 'pino';
import type { Call } from '../call/call.js';
import type { PinBackoffPolicy } from '../store/pin-backoff.js';
import type { Mailbox, MessageStore, PinAlert } from '../store/types.js';

export interface PinEntryOptions {
  store: Pick<MessageStore, 'checkPin'>;
  policy: PinBackoffPolicy;
  /** Where the try comes from: the call's source address (the PBX), a browser's address (types.ts PinAttempt). */
  source: string;
  /** The source carries many callers' tries (a PBX): counted per mailbox only. */
  sharedSource?: boolean;
  /** The caller's number, when the call has one: for the operator's log lines only (anyone can write any From). */
  caller?: string;
  log: Logger;
  /**
   * Waits `ms` (silenceOn(call)). Like every call operation it rejects with CallEndedError when the caller
   * hangs up, which ends the entry (call.ts).
   */
  pause(ms: number): Promise<unknown>;
}

/**
 * Who a call's PIN entry comes from: its source (the address, an IPv6 one per prefix, as every per-source limit
 * counts it), which carries every caller the PBX sends (so counted per mailbox, and at all mailboxes together
 * under its own threshold: store/pin-backoff.ts), and the caller's number when there is one (for the log: a From
 * the caller may choose).
 */
export function callTrySource(call: Pick<Call, 'sourceKey' | 'parties'>): Pick<PinEntryOptions, 'source' | 'sharedSource' | 'caller'> {
  const caller = call.parties.caller.number;
  return { source: call.sourceKey, sharedSource: true, ...(caller !== '' && { caller }) };
}

/** A pause in silence on the call (on the shared media clock; keys pressed meanwhile wait for the next collect). */
export function silenceOn(call: Pick<Call, 'play'>): (ms: number) => Promise<unknown> {
  return (ms) => call.play([{ silenceMs: ms }], { bargeIn: false });
}

/**
 * Waiting longer than this many of the longest delay means others keep taking the tries (several calls
 * guessing at this mailbox): the entry is answered as wrong rather than holding the caller for ever.
 */
const MAX_WAITS_OF_LONGEST_DELAY = 3;

/** The mailbox when `pin` opens `number`; undefined for a wrong PIN or an absent mailbox. CallEndedError from pause(). */
export async function enterPin(number: string, pin: string, opts: PinEntryOptions): Promise<Mailbox | undefined> {
  let waited = 0;
  for (;;) {
    const result = await opts.store.checkPin({ number, pin, source: opts.source, sharedSource: opts.sharedSource, policy: opts.policy });
    if (result.verdict === 'ok') return result.mailbox;
    if (result.verdict === 'wrong') {
      logPinAlerts(opts.log, number, opts.source, result.alerts);
      return undefined;
    }
    if (waited >= MAX_WAITS_OF_LONGEST_DELAY * opts.policy.maxDelayMs) return undefined;
    const ms = Math.min(result.waitMs, opts.policy.maxDelayMs);
    waited += ms;
    await opts.pause(ms);
  }
}

/** The operator's warn line for each back-off threshold a wrong PIN reached (the phone's and the web's sign-in). */
export function logPinAlerts(log: Logger, number: string, source: string, alerts: readonly PinAlert[]): void {
  for (const alert of alerts) {
    // The shared source's count slows every caller behind that source, at every mailbox: the operator should know.
    const what = alert.kind === 'sharedSource' ? 'wrong PINs from one source at many mailboxes: every PIN entry from it is slowed' : 'wrong PINs: further tries are slowed';
    log.warn({ mailbox: number, source, key: alert.kind, failures: alert.failures, delayMs: alert.delayMs }, what);
  }
}
