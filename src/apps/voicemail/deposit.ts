/**
 * Leaving a message, as a telephony engineer draws it:
 *
 *   mailbox full? ── yes ──► "this mailbox is full" ─► goodbye        ('*' over it: the owner logs in)
 *        │ no
 *   greeting ── '#' ──► beep                                            (greeting.ts chooses which)
 *        ├───── '0' ──► operator (voicemail.operator, else the first attendant pilot); failed: beep
 *        ├───── '*' ──► log in to this mailbox (login.ts)
 *        ▼
 *   beep, record ('#', silence, max length or hang-up ends it) ─► too short? "too short", once more, then bye
 *        ▼
 *   review menu (voicemail.reviewMenu; reviewKeys) ─► store.deposit ─► "message sent" ─► goodbye
 *
 * A hang-up at any point after at least voicemail.minMessageMs of audio keeps the message; shorter ones are
 * discarded. The recording asks the Call to keep its audio on a hang-up (onHangup 'keep'); from then on the
 * take is pending, and whatever ends the flow before it is stored (the next step rejecting with
 * CallEndedError, or a step failing) stores it on the way out: takeMessage has one exit for every path. Crash safety: before each recording starts, a sidecar `<name>.json` next to `<name>.wav` in
 * store.tmpDir (store/recording-sidecar.ts, written and fsynced) records who the message is for and from; if
 * the process dies mid-message, the store's repair() finds the pair at the next start and deposits it. The
 * sidecar goes once the message is stored or discarded. These files (the folder, the sidecar, removals) are
 * the recording disk thread's work (media/disk-thread.ts), like the recording's own: no fs request from the
 * thread that paces RTP, and the sidecar is still on disk before the recording starts.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Call, CallPlayItem } from '../../call/call.js';
import { goodbye } from '../goodbye.js';
import { PlayFileError } from '../../call/play-items.js';
import { MailboxGoneError } from '../../store/errors.js';
import { MailboxFullError, type DepositReason, type Mailbox, type MessageRecord } from '../../store/types.js';
import { recordingSidecarPath, writeRecordingSidecar, type RecordingSidecar } from '../../store/recording-sidecar.js';
import { recordingDisk } from '../../media/disk-thread.js';
import type { Caller } from './addressing.js';
import type { VoicemailContext } from './context.js';
import { chooseGreeting, systemGreeting } from './greeting.js';
import { DEFAULT_KEYMAP, resolveKeyMap, type KeyMap } from './keymap.js';
import { runLogin } from './login.js';
import { menuItems } from './menu-prompts.js';

export interface DepositRequest {
  mailbox: Mailbox;
  reason: DepositReason;
  caller: Caller;
}

export type ReviewAction = 'send' | 'listen' | 'rerecord' | 'urgent' | 'cancel';

/**
 * What the review menu's keys do under the site's key map: its `review` menu (accept sends; listen,
 * re-record, cancel), and, on keys that menu leaves free, '#' sends (as "press pound when finished" invites)
 * and '4' marks the message urgent. FIXME: the key map has no urgent action (the review menu also serves
 * greetings, where it means nothing), so a site that moves a review action onto '4' loses "urgent".
 */
export function reviewKeys(keys: KeyMap): Readonly<Record<string, ReviewAction>> {
  const r = keys.review;
  return { '#': 'send', '4': 'urgent', [r.accept]: 'send', [r.listen]: 'listen', [r.rerecord]: 'rerecord', [r.cancel]: 'cancel' };
}

const DEFAULT_KEYS = resolveKeyMap();
/** Issue 4's review keys: 1 send, 2 listen, 3 re-record, 4 urgent, * cancel ('#' also sends). */
export const REVIEW_KEYS = reviewKeys(DEFAULT_KEYS);

/**
 * The review menu said: the recorded prompt when the keys are issue 4's; otherwise spoken from the map
 * ("To send it, press 2 ..."). FIXME: "to mark it urgent" has no prompt of its own yet, so it is not said then.
 */
function reviewMenuItems(ctx: VoicemailContext): CallPlayItem[] {
  const keys = ctx.keys ?? DEFAULT_KEYS;
  const review = DEFAULT_KEYMAP.review;
  const same = (Object.keys(review) as (keyof typeof review)[]).every((action) => keys.review[action] === review[action]);
  return same ? ['record_menu'] : menuItems(keys, ctx.say, 'review', { phrases: { accept: 'opt_send' } });
}

/** Time allowed for a review key; no key sends the message. */
const REVIEW_TIMEOUT_MS = 5000;
/** Invalid review keys before the message is sent as it is. */
const REVIEW_MAX_INVALID = 3;

/** One recording in store.tmpDir, not yet stored or discarded. */
interface Take {
  wav: string;
  sidecar: RecordingSidecar;
  durationMs: number;
}

export async function runDeposit(call: Call, ctx: VoicemailContext, req: DepositRequest): Promise<void> {
  const log = ctx.logger.child({ callId: call.callId, mailbox: req.mailbox.number });
  call.callRecord.reached('greeting');
  if (!(await ctx.store.hasRoom(req.mailbox.number))) {
    log.info('mailbox full; no message taken');
    const played = await call.play(['mailbox_full']);
    if (played.reason === 'digit' && played.digit === '*') return login(call, ctx, req.mailbox);
    return goodbye(call);
  }
  const key = await playGreeting(call, ctx, req, log);
  call.flushDigits();
  if (key === '*') return login(call, ctx, req.mailbox);
  if (key === '0' && (await toOperator(call, ctx, log))) return;
  await takeMessage(call, ctx, req, log);
}

/** Plays the greeting; the key that stopped it ('' when it played out). */
async function playGreeting(call: Call, ctx: VoicemailContext, req: DepositRequest, log: Logger): Promise<string> {
  const greeting = chooseGreeting(req.mailbox, req.reason, now(ctx), ctx.say);
  log.info({ greeting: greeting.kind, reason: req.reason, from: req.caller.number }, 'greeting');
  let played;
  try {
    played = await call.play(greeting.items);
  } catch (err) {
    if (!(err instanceof PlayFileError)) throw err;
    // A recorded greeting or name the store points at is unreadable: the caller still hears a greeting.
    log.warn({ err: err.message }, 'recorded greeting unreadable; playing the system greeting');
    played = await call.play(systemGreeting(req.mailbox, req.reason === 'busy', ctx.say, false).items);
  }
  return played.reason === 'digit' ? played.digit : '';
}

async function login(call: Call, ctx: VoicemailContext, mailbox: Mailbox): Promise<void> {
  call.flushDigits();
  await runLogin(call, ctx, { mailbox, keys: ctx.keys });
}

/** '0': blind transfer to the operator. True when the PBX took the caller. */
async function toOperator(call: Call, ctx: VoicemailContext, log: Logger): Promise<boolean> {
  const operator = ctx.config.operator ?? ctx.attendantPilots[0];
  if (operator === undefined) {
    log.info("'0' pressed but no operator or attendant is configured; going on to the beep");
    return false;
  }
  await call.play(['please_hold_transfer'], { bargeIn: false });
  const result = await call.transfer(operator);
  if (result.ok) {
    call.callRecord.transferredTo(operator);
    log.info({ operator }, 'caller transferred to the operator');
    return true;
  }
  log.info({ operator, status: result.status, why: result.reason }, 'transfer to the operator failed; taking a message');
  await call.play(['transfer_failed', 'record_after_tone'], { bargeIn: false });
  return false;
}

/** Records, reviews and stores the message; keeps it on a hang-up once it is long enough. */
async function takeMessage(call: Call, ctx: VoicemailContext, req: DepositRequest, log: Logger): Promise<never> {
  const minMs = ctx.config.minMessageMs;
  let take: Take | undefined;
  let tooShort = 0;
  try {
    for (;;) {
      take = await record(call, ctx, req);
      if (take.durationMs < minMs) {
        log.info({ durationMs: take.durationMs, minMs }, 'message too short; discarded');
        await discard(take);
        take = undefined;
        if (tooShort++ > 0) return await goodbye(call, ['message_too_short', 'goodbye']);
        await call.play(['message_too_short', 'please_try_again'], { bargeIn: false });
        continue;
      }
      // A take the caller hung up in has no review: the menu's play rejects, and the take is stored below.
      const action = ctx.config.reviewMenu ? await review(call, ctx, take) : 'send';
      if (action === 'send') break;
      await discard(take);
      take = undefined;
      if (action === 'cancel') {
        log.info('caller cancelled the message');
        await call.play(['message_cancelled'], { bargeIn: false });
        return await goodbye(call);
      }
    }
  } catch (err) {
    // Hung up between two steps (the API rejects with CallEndedError), or a step failed: a take that is
    // still pending passed the length check, and is kept.
    if (take !== undefined) await store(call, ctx, take, log);
    throw err;
  }
  const stored = await store(call, ctx, take, log);
  return goodbye(call, [stored ? 'message_sent' : 'sorry_try_later', 'goodbye']);
}

/** Beep and record into store.tmpDir, the sidecar written first. */
async function record(call: Call, ctx: VoicemailContext, req: DepositRequest): Promise<Take> {
  const dir = ctx.store.tmpDir;
  await recordingDisk().mkdir(dir);
  const wav = join(dir, `vm-${randomUUID()}.wav`);
  const sidecar: RecordingSidecar = {
    mailbox: req.mailbox.number,
    from: req.caller.number,
    fromName: req.caller.name,
    reason: req.reason,
    urgent: false,
    receivedAt: now(ctx),
    // Repair after a crash keeps the recording by the same rule as a hang-up (store/repair.ts keptAfterCrash).
    minMs: ctx.config.minMessageMs,
  };
  await writeRecordingSidecar(wav, sidecar, writeDurably);
  call.callRecord.reached('recording');
  try {
    const outcome = await call.record({
      path: wav,
      maxMs: ctx.config.maxMessageS * 1000,
      silenceMs: ctx.config.silenceS * 1000,
      endOnDigits: '#',
      minMs: ctx.config.minMessageMs,
      // What the caller said before hanging up is their message: resolve with it (takeMessage stores it).
      onHangup: 'keep',
    });
    return { wav, sidecar, durationMs: outcome.durationMs };
  } catch (err) {
    // Hung up during the beep (no file) or the file could not be written.
    await removeTake(wav);
    throw err;
  }
}

/** The review menu; resolves with what to do with the take (no key sends). A hang-up rejects (takeMessage sends). */
async function review(call: Call, ctx: VoicemailContext, take: Take): Promise<'send' | 'rerecord' | 'cancel'> {
  const keys = ctx.keys === undefined ? REVIEW_KEYS : reviewKeys(ctx.keys);
  const menu = reviewMenuItems(ctx);
  let invalid = 0;
  for (;;) {
    await call.play(menu);
    const got = await call.collectDigits({ max: 1, timeoutMs: REVIEW_TIMEOUT_MS, terminators: '' });
    if (got.reason === 'timeout') return 'send';
    const action = Object.hasOwn(keys, got.digits) ? keys[got.digits] : undefined;
    if (action === 'send' || action === 'rerecord' || action === 'cancel') return action;
    if (action === 'listen') {
      await call.play([{ file: take.wav }]);
    } else if (action === 'urgent') {
      take.sidecar.urgent = true;
      await writeRecordingSidecar(take.wav, take.sidecar, writeDurably);
      await call.play(['marked_urgent']);
    } else {
      if (++invalid >= REVIEW_MAX_INVALID) return 'send';
      await call.play(['invalid']);
    }
  }
}

/** store.deposit, then the sidecar goes and onDeposit runs. False when the message could not be stored. */
async function store(call: Call, ctx: VoicemailContext, take: Take, log: Logger): Promise<boolean> {
  const s = take.sidecar;
  let message: MessageRecord;
  try {
    message = await ctx.store.deposit({
      mailbox: s.mailbox,
      from: s.from,
      fromName: s.fromName,
      durationMs: take.durationMs,
      urgent: s.urgent,
      reason: s.reason,
      audioFile: take.wav,
      receivedAt: s.receivedAt,
    });
  } catch (err) {
    if (err instanceof MailboxFullError) {
      // Another caller filled the last place while this one was talking.
      log.warn({ durationMs: take.durationMs }, 'mailbox filled up during the recording; message discarded');
      await discard(take);
    } else if (err instanceof MailboxGoneError) {
      // Deleted while the caller was talking: the store kept the recording in orphans/ (and logged where).
      log.warn({ keptAt: err.keptAt }, 'mailbox deleted during the recording; message kept for an administrator');
    } else {
      // The recording and its sidecar stay in tmp: repair() deposits them at the next start.
      log.error({ err, wav: take.wav }, 'storing the message failed; left for repair at the next start');
    }
    return false;
  }
  // The store removes the recording's sidecar once the message is stored (store/recording-sidecar.ts).
  await recordingDisk().remove(recordingSidecarPath(take.wav));
  call.callRecord.messageLeft(message.mailbox, message.id);
  log.info({ messageId: message.id, durationMs: message.durationMs, urgent: message.urgent }, 'message stored');
  try {
    ctx.onDeposit?.(message);
  } catch (err) {
    log.error({ err }, 'onDeposit failed');
  }
  return true;
}

async function discard(take: Take): Promise<void> {
  await removeTake(take.wav);
}

/** A take's recording and sidecar gone (either may be missing). */
async function removeTake(wav: string): Promise<void> {
  await recordingDisk().remove(wav);
  await recordingDisk().remove(recordingSidecarPath(wav));
}

/** The sidecar's durable write, in the recording disk thread. */
const writeDurably = (path: string, data: string): Promise<void> => recordingDisk().writeDurably(path, data);

function now(ctx: VoicemailContext): number {
  return ctx.now?.() ?? Date.now();
}
