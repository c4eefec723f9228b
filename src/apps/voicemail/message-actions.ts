/**
 * What the owner can do with a message besides hearing, saving and deleting it:
 *
 * - forward (8): "enter the mailbox number" ─► 1 record an introduction | 2 send as it is | * cancel.
 *   With an introduction, the recipient gets ONE message: introduction, half a second of silence, then the
 *   original (wav-concat.ts), so it plays and mails as one. Without, the original audio is copied
 *   (keepAudioFile). Either way the new message is from the forwarding owner (their number and name, so a
 *   reply goes to them), reason 'forwarded', forwardedFrom their mailbox, urgent as the original.
 * - reply (advanced 1): when the sender is a mailbox here, record and leave a message in it.
 * - call back (advanced 2): blind transfer to the sender, allowed only when the sender is a mailbox here (an
 *   internal extension), so that the voicemail system cannot be used to dial out (toll fraud).
 */
import { rm } from 'node:fs/promises';
import { MailboxFullError, type Mailbox, type MessageRecord, type NewMessage } from '../../store/types.js';
import { MAX_TRIES, chooseAction, enterDigits } from './menu.js';
import { callerDigits } from './phrases.js';
import { recordWithReview } from './record-greeting.js';
import { tmpWav, type Session } from './session.js';
import { concatWav } from './wav-concat.js';

/** The mailbox a message came from, when its sender is one of ours (and not the owner). */
export async function senderMailbox(s: Session, message: MessageRecord): Promise<Mailbox | undefined> {
  const digits = callerDigits(message.from);
  if (digits === undefined) return undefined;
  const mailbox = await s.ctx.store.findMailbox(message.from).catch(() => undefined);
  return mailbox && mailbox.number !== s.mailbox.number ? mailbox : undefined;
}

export async function forwardMessage(s: Session, message: MessageRecord): Promise<void> {
  const target = await askMailbox(s);
  if (!target) return;
  const choice = await chooseAction(s, 'forward');
  if (choice === 'cancel') return;
  const base: Omit<NewMessage, 'audioFile' | 'durationMs'> = {
    mailbox: target.number,
    from: s.mailbox.number,
    fromName: s.mailbox.name,
    urgent: message.urgent,
    reason: 'forwarded',
    forwardedFrom: s.mailbox.number,
  };
  if (choice === 'send') {
    await deliver(s, { ...base, audioFile: message.audioPath, keepAudioFile: true, durationMs: message.durationMs });
    return;
  }
  const intro = await recordWithReview(s, { prompt: 'record_introduction', maxMs: 60_000 });
  if (!intro) return;
  const joined = tmpWav(s.ctx, 'forward');
  try {
    const durationMs = await concatWav([intro.path, message.audioPath], joined);
    await deliver(s, { ...base, audioFile: joined, durationMs });
  } finally {
    await rm(intro.path, { force: true }).catch(() => undefined);
    await rm(joined, { force: true }).catch(() => undefined);
  }
}

export async function replyToSender(s: Session, message: MessageRecord): Promise<void> {
  const target = await senderMailbox(s, message);
  if (!target) {
    await s.call.play(['sender_unreachable'], { bargeIn: true });
    return;
  }
  const reply = await recordWithReview(s, { prompt: 'record_reply', maxMs: s.ctx.config.maxMessageS * 1000 });
  if (!reply) return;
  try {
    await deliver(s, {
      mailbox: target.number,
      from: s.mailbox.number,
      fromName: s.mailbox.name,
      urgent: false,
      reason: 'direct',
      audioFile: reply.path,
      durationMs: reply.durationMs,
    });
  } finally {
    await rm(reply.path, { force: true }).catch(() => undefined);
  }
}

export async function callBack(s: Session, message: MessageRecord): Promise<void> {
  const target = await senderMailbox(s, message);
  if (!target) {
    await s.call.play(['sender_unreachable'], { bargeIn: true });
    return;
  }
  await s.call.play(['please_hold_transfer'], { bargeIn: false });
  const result = await s.call.transfer(target.number);
  s.log.info({ target: target.number, ok: result.ok, status: result.status }, 'call back');
  // On success the PBX has taken the caller away and the call is over; the next step unwinds.
  if (!result.ok) await s.call.play(['transfer_failed'], { bargeIn: true });
}

/** "Enter the mailbox number": a mailbox of ours other than the owner's, or undefined (cancelled). */
async function askMailbox(s: Session): Promise<Mailbox | undefined> {
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    const number = await enterDigits(s.call, ['enter_forward_mailbox']);
    if (number === undefined) return undefined;
    if (number === '') continue;
    const mailbox = await s.ctx.store.findMailbox(number);
    if (mailbox && mailbox.number !== s.mailbox.number) return mailbox;
    await s.call.play(['mailbox_unknown'], { bargeIn: true });
  }
  return undefined;
}

/** Stores the message; "message sent", or "that mailbox is full". */
async function deliver(s: Session, message: NewMessage): Promise<void> {
  try {
    const stored = await s.ctx.store.deposit(message);
    s.log.info({ to: message.mailbox, id: stored.id, reason: message.reason }, 'message delivered from the session');
    s.ctx.onDeposit?.(stored);
    await s.call.play(['message_sent'], { bargeIn: true });
  } catch (err) {
    if (!(err instanceof MailboxFullError)) throw err;
    await s.call.play(['mailbox_full'], { bargeIn: true });
  }
}
