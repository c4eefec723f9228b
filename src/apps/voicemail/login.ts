/**
 * The owner's log-in, then their session (session-menu.ts):
 *
 *   mailbox known ('*' during the owner's greeting) ─► "enter your PIN", every try
 *   caller has a number (the "voicemail button") ─► "welcome, enter your PIN" for that number, first try only,
 *        whether or not a mailbox has that number; then as below (# or nothing for the PIN goes there at once)
 *   else ─► "enter your mailbox number" ─► "enter your PIN"
 *   PIN right ─► session;  wrong ─► "that mailbox number or PIN is not correct" ─► again
 *   MAX_TRIES wrong in this call ─► "too many attempts. goodbye" ─► hang up
 *   after repeated failures (across calls) from this caller or on this mailbox, each PIN entry first waits
 *   out a growing delay in silence (the back-off, store/pin-backoff.ts); nothing locks the owner out.
 *
 * Whether a mailbox exists is not revealed (issue 9 item 4): an unknown number is asked its PIN too, takes
 * the same check (a hash of the same cost) and the same delays, and gets the same "not correct". That holds
 * for the caller's own number as well: a caller who sets From to a number hears "enter your PIN" whether or
 * not that number has a mailbox (asking a caller from an unknown number for their mailbox number instead told
 * anyone who can choose their From which numbers have mailboxes). An empty PIN is not counted as a failed
 * login (store), only as a try of this call.
 *
 * At the end of a session, however it ends (exit, goodbye, hang-up), the messages deleted in it are purged
 * (issue 4: "deleted messages are purged at the end of the call").
 */
import type { Call } from '../../call/call.js';
import { pinBackoffPolicy } from '../../store/pin-backoff.js';
import type { Mailbox } from '../../store/types.js';
import { enterPin, silenceOn, type PinEntryOptions } from '../pin-entry.js';
import type { VoicemailContext } from './context.js';
import { resolveKeyMap, type KeyMap } from './keymap.js';
import { MAX_TRIES, enterDigits } from './menu.js';
import { runSession } from './session-menu.js';
import { goodbye } from '../goodbye.js';
import { createSession, type VoiceCall } from './session.js';

export interface LoginOptions {
  /** The mailbox to log in to (only the PIN is asked); absent: the caller enters the number. */
  mailbox?: Mailbox;
  /** With `mailbox`: welcome the caller before asking the PIN. */
  ownerCalling?: boolean;
  /**
   * The caller's own number: the first try asks only the PIN, for this number, whether or not it is a mailbox
   * (the later tries ask the mailbox number too).
   */
  callerNumber?: string;
  /** The site's key map (keymap.ts); default issue 4's keys. */
  keys?: KeyMap;
  /** Who is trying, for the PIN back-off (pin-entry.ts callTrySource); default the source 'unknown'. */
  who?: Pick<PinEntryOptions, 'source' | 'sharedSource' | 'caller'>;
}

const DEFAULT_KEYS = resolveKeyMap();

export async function runLogin(call: Call, ctx: VoicemailContext, opts: LoginOptions): Promise<void> {
  return loginAndServe(call, ctx, opts);
}

/** runLogin over the part of the Call API it uses (flow tests script a caller through this). */
export async function loginAndServe(call: VoiceCall, ctx: VoicemailContext, opts: LoginOptions): Promise<void> {
  call.callRecord?.reached('login');
  const mailbox = await authenticate(call, ctx, opts);
  call.callRecord?.loggedIn(mailbox.number);
  const s = createSession(call, ctx, opts.keys ?? DEFAULT_KEYS, mailbox);
  s.log.info({ setupDone: mailbox.setupDone, mustChangePin: mailbox.mustChangePin }, 'owner logged in');
  try {
    await runSession(s);
  } finally {
    const purged = await ctx.store.purgeDeleted(mailbox.number).catch((err: unknown) => {
      s.log.error({ err }, 'purging deleted messages failed');
      return 0;
    });
    if (purged > 0) s.log.info({ purged }, 'deleted messages purged');
  }
}

/** The mailbox whose PIN the caller entered; otherwise says goodbye and ends the call (CallEndedError). */
export async function authenticate(call: VoiceCall, ctx: VoicemailContext, opts: LoginOptions): Promise<Mailbox> {
  const log = ctx.logger.child({ callId: call.callId });
  const welcome = opts.ownerCalling === true || opts.mailbox === undefined;
  const who = opts.who ?? { source: 'unknown' };
  for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
    const intro = attempt === 0 && welcome ? ['welcome'] : [];
    // The number whose PIN is asked without asking the number: the mailbox given, else on the first try the
    // caller's own number (a mailbox or not: the caller hears the same either way).
    let number = opts.mailbox?.number ?? (attempt === 0 ? opts.callerNumber : undefined);
    const numberGiven = number !== undefined;
    if (number === undefined) {
      number = (await enterDigits(call, [...intro, 'enter_mailbox'])) ?? '';
      if (number === '') {
        await call.play(['no_input'], { bargeIn: true });
        continue;
      }
    }
    const pin = (await enterDigits(call, numberGiven ? [...intro, 'enter_pin'] : ['enter_pin'])) ?? '';
    if (pin === '') {
      await call.play(['no_input'], { bargeIn: true });
      continue;
    }
    const mailbox = await enterPin(number, pin, { store: ctx.store, policy: pinBackoffPolicy(ctx.config), ...who, log, pause: silenceOn(call) });
    if (mailbox) return mailbox;
    log.info({ mailbox: number, source: who.source, caller: who.caller, attempt: attempt + 1 }, 'wrong PIN');
    await call.play(['login_incorrect'], { bargeIn: true });
  }
  return goodbye(call, ['too_many_attempts', 'goodbye']);
}
