/**
 * The owner's log-in, then their session (session-menu.ts):
 *
 *   mailbox known (owner calling from their own number, or '*' during their greeting)
 *        ─► "enter your PIN"
 *   else ─► "enter your mailbox number" ─► "enter your PIN"
 *   PIN right ─► session;  wrong ─► "that mailbox number or PIN is not correct" ─► again
 *   MAX_TRIES wrong in this call ─► "too many attempts. goodbye" ─► hang up
 *   after repeated failures (across calls) from this caller or on this mailbox, each PIN entry first waits
 *   out a growing delay in silence (the back-off, store/pin-backoff.ts); nothing locks the owner out.
 *
 * Whether a mailbox exists is not revealed (issue 9 item 4): an unknown number is asked its PIN too, takes
 * the same check (a hash of the same cost) and the same delays, and gets the same "not correct". An empty
 * PIN is not counted as a failed login (store), only as a try of this call.
 *
 * At the end of a session, however it ends (exit, goodbye, hang-up), the messages deleted in it are purged
 * (issue 4: "deleted messages are purged at the end of the call").
 */
import type { Call } from '../../call/call.js';
import { pinBackoffPolicy } from '../../store/pin-backoff.js';
import type { Mailbox } from '../../store/types.js';
import { enterPin, silenceOn } from '../pin-entry.js';
import type { VoicemailContext } from './context.js';
import { resolveKeyMap, type KeyMap } from './keymap.js';
import { MAX_TRIES, enterDigits } from './menu.js';
import { runSession } from './session-menu.js';
import { goodbye } from '../goodbye.js';
import { createSession, type VoiceCall } from './session.js';

export interface LoginOptions {
  /** The mailbox to log in to (only the PIN is asked); absent: the caller enters the number. */
  mailbox?: Mailbox;
  /** The owner is calling from their own number: welcome them before asking the PIN. */
  ownerCalling?: boolean;
  /** The site's key map (keymap.ts); default issue 4's keys. */
  keys?: KeyMap;
  /** Who is calling, for the PIN back-off: the caller's number, else the call's source address. */
  source?: string;
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
  for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
    const intro = attempt === 0 && welcome ? ['welcome'] : [];
    let number = opts.mailbox?.number;
    if (number === undefined) {
      number = (await enterDigits(call, [...intro, 'enter_mailbox'])) ?? '';
      if (number === '') {
        await call.play(['no_input'], { bargeIn: true });
        continue;
      }
    }
    const pin = (await enterDigits(call, opts.mailbox && intro.length > 0 ? [...intro, 'enter_pin'] : ['enter_pin'])) ?? '';
    if (pin === '') {
      await call.play(['no_input'], { bargeIn: true });
      continue;
    }
    const source = opts.source ?? 'unknown';
    const mailbox = await enterPin(number, pin, { store: ctx.store, policy: pinBackoffPolicy(ctx.config), source, log, pause: silenceOn(call) });
    if (mailbox) return mailbox;
    log.info({ mailbox: number, source, attempt: attempt + 1 }, 'wrong PIN');
    await call.play(['login_incorrect'], { bargeIn: true });
  }
  return goodbye(call, ['too_many_attempts', 'goodbye']);
}
