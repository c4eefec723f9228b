/**
 * Listening to messages, one at a time, as issue 4 draws it:
 *
 *   envelope ("urgent message two, received today at three PM from two seven zero zero one")
 *     ─► the message ─► the message menu, waiting for a key
 *
 * and at any of the three steps the message keys (keymap.ts `message`) act: 4 previous, 5 repeat, 6 next,
 * 7 delete (again: restore), 9 save, 8 forward, 3 advanced (reply, call back, envelope), * back and # ahead
 * three seconds (while the message plays; played from an offset), 0 mailbox options.
 *
 * Hearing a message -- played to its end, or left with next or save -- marks it heard and moves it from
 * new to saved (issue 4), unless it was deleted. Deleted messages stay in the list, announced as deleted, and
 * delete on them restores them; they are purged when the call ends (login.ts).
 */
import type { CallPlayItem } from '../../call/call.js';
import { PlayFileError } from '../../call/play-items.js';
import { actionFor, type ActionOf } from './keymap.js';
import { MAX_TRIES, MENU_TIMEOUT_MS, chooseAction, takeKey } from './menu.js';
import { menuItems } from './menu-prompts.js';
import { callBack, forwardMessage, replyToSender, senderMailbox } from './message-actions.js';
import { loadMessages, type ListEntry } from './message-list.js';
import { runMailboxOptions } from './mailbox-options.js';
import { envelopeItems } from './phrases.js';
import { goodbye } from '../goodbye.js';
import { nowMs, type Session } from './session.js';

/** How far * and # move within a message, ms. */
export const SKIP_MS = 3000;

/** Where the player is with the current message. */
export enum MessageStep {
  /** Saying who called and when. */
  Envelope = 'envelope',
  /** Playing the message audio from `offsetMs`. */
  Audio = 'audio',
  /** The message has been played; saying the message menu and waiting for a key. */
  Menu = 'menu',
}

type MessageAction = ActionOf<'message'>;

/** Plays the folder's messages (both: new, then saved) until the owner leaves the list or it runs out. */
export async function listenToMessages(s: Session, folder?: 'new' | 'saved'): Promise<void> {
  const list = await loadMessages(s, folder);
  if (list.length === 0) {
    const noun = folder === 'saved' ? 'saved_message' : folder === 'new' ? 'new_message' : 'message';
    await s.call.play(['you_have', ...s.say.countPhrase(0, noun)], { bargeIn: true });
    return;
  }
  let index = 0;
  let step = MessageStep.Envelope;
  let offsetMs = 0;
  let menuFailures = 0;
  for (;;) {
    const entry = list[index]!;
    let key: string;
    /** Where the audio was when the key came (Audio step). */
    let positionMs = 0;
    if (step === MessageStep.Envelope) {
      const result = await playEnvelope(s, entry, index);
      if (result !== 'digit') {
        step = MessageStep.Audio;
        offsetMs = 0;
        continue;
      }
      key = await takeKey(s.call);
    } else if (step === MessageStep.Audio) {
      const started = performance.now();
      const result = await playAudio(s, entry, offsetMs);
      if (result !== 'digit') {
        if (result === 'done') {
          s.log.info({ messageId: entry.message.id }, 'message played to the end');
          await markHeard(s, entry);
        }
        step = MessageStep.Menu;
        menuFailures = 0;
        continue;
      }
      positionMs = offsetMs + (performance.now() - started);
      key = await takeKey(s.call);
    } else {
      const got = await waitForKey(s, entry);
      if (got === undefined) {
        if (++menuFailures >= MAX_TRIES) return goodbye(s.call);
        continue;
      }
      key = got;
    }
    const action = actionFor(s.keys, 'message', key);
    const at = step;
    if (action === undefined) {
      if (at === MessageStep.Menu && ++menuFailures >= MAX_TRIES) return goodbye(s.call);
      await s.call.play(['invalid'], { bargeIn: true });
      // A stray key: carry on with the message from where it was.
      if (at === MessageStep.Audio) offsetMs = positionMs;
      if (at === MessageStep.Envelope) {
        step = MessageStep.Audio;
        offsetMs = 0;
      }
      continue;
    }
    menuFailures = 0;
    const next = await act(s, list, index, at, action, positionMs);
    if (next === 'leave') return;
    ({ index, step, offsetMs } = next);
  }
}

interface Position {
  index: number;
  step: MessageStep;
  offsetMs: number;
}

/** Carries out one message key; returns where to go on, or 'leave' (back to the main menu). */
async function act(s: Session, list: ListEntry[], index: number, at: MessageStep, action: MessageAction, positionMs: number): Promise<Position | 'leave'> {
  const entry = list[index]!;
  const here = (step: MessageStep, offsetMs = 0): Position => ({ index, step, offsetMs });
  const { call, ctx } = s;
  // The action, not the key: keys are never logged (PINs are keys too).
  s.log.info({ messageId: entry.message.id, action }, 'message action');
  switch (action) {
    case 'previous':
      if (index === 0) {
        await call.play(['first_message'], { bargeIn: true });
        return here(MessageStep.Envelope);
      }
      return { index: index - 1, step: MessageStep.Envelope, offsetMs: 0 };
    case 'repeat':
      return here(MessageStep.Audio);
    case 'next':
      await markHeard(s, entry);
      return advance(s, list, index);
    case 'save':
      if (entry.folder === 'deleted') s.deleted.delete(entry.message.id);
      await markHeard(s, entry);
      if (entry.folder !== 'saved') await ctx.store.setFolder(entry.message.id, 'saved');
      entry.folder = 'saved';
      await call.play(['message_saved'], { bargeIn: true });
      return advance(s, list, index);
    case 'delete':
      if (entry.folder === 'deleted') {
        const back = s.deleted.get(entry.message.id) ?? 'saved';
        await ctx.store.setFolder(entry.message.id, back);
        s.deleted.delete(entry.message.id);
        entry.folder = back;
        await call.play(['message_restored'], { bargeIn: true });
        return here(MessageStep.Menu);
      }
      s.deleted.set(entry.message.id, entry.folder);
      await ctx.store.setFolder(entry.message.id, 'deleted');
      entry.folder = 'deleted';
      await call.play(['message_deleted'], { bargeIn: true });
      return advance(s, list, index);
    case 'forward':
      await forwardMessage(s, entry.message);
      return here(MessageStep.Menu);
    case 'advanced': {
      const choice = await chooseAction(s, 'advanced');
      if (choice === 'reply') await replyToSender(s, entry.message);
      else if (choice === 'callBack') await callBack(s, entry.message);
      else if (choice === 'envelope') return here(MessageStep.Envelope);
      return here(MessageStep.Menu);
    }
    case 'rewind':
      if (at === MessageStep.Envelope) return here(MessageStep.Envelope);
      if (at === MessageStep.Menu) return here(MessageStep.Audio, Math.max(0, entry.message.durationMs - SKIP_MS));
      return here(MessageStep.Audio, Math.max(0, positionMs - SKIP_MS));
    case 'fastForward': {
      if (at === MessageStep.Envelope) return here(MessageStep.Audio);
      if (at === MessageStep.Menu) {
        return advance(s, list, index);
      }
      const to = positionMs + SKIP_MS;
      if (to < entry.message.durationMs) return here(MessageStep.Audio, to);
      // Skipped past the end: heard.
      await markHeard(s, entry);
      return here(MessageStep.Menu);
    }
    case 'mailboxOptions':
      await runMailboxOptions(s);
      return here(MessageStep.Menu);
  }
}

/** The next message's envelope, or "no more messages" and back to the main menu. */
async function advance(s: Session, list: ListEntry[], index: number): Promise<Position | 'leave'> {
  if (index + 1 < list.length) return { index: index + 1, step: MessageStep.Envelope, offsetMs: 0 };
  await s.call.play(['no_more_messages'], { bargeIn: true });
  return 'leave';
}

/** Marks the message heard and moves it from new to saved (not when deleted). */
async function markHeard(s: Session, entry: ListEntry): Promise<void> {
  const { store } = s.ctx;
  if (!entry.heard) {
    await store.markHeard(entry.message.id);
    entry.heard = true;
  }
  if (entry.folder === 'new') {
    await store.setFolder(entry.message.id, 'saved');
    entry.folder = 'saved';
  }
}

async function playEnvelope(s: Session, entry: ListEntry, index: number): Promise<'done' | 'digit'> {
  const sender = await senderMailbox(s, entry.message);
  const facts = { index, deleted: entry.folder === 'deleted', timeZone: s.ctx.config.timeZone, now: nowMs(s.ctx) };
  let items: CallPlayItem[] = envelopeItems(s.say, entry.message, { ...facts, senderNameFile: sender?.greetings.name });
  let result;
  try {
    result = await s.call.play(items, { bargeIn: true });
  } catch (err) {
    if (!(err instanceof PlayFileError)) throw err;
    // The sender's recorded name is unreadable: say the number instead.
    items = envelopeItems(s.say, entry.message, facts);
    result = await s.call.play(items, { bargeIn: true });
  }
  return result.reason === 'digit' ? 'digit' : 'done';
}

/** 'failed': the file could not be played (said so; the message is not marked heard). */
async function playAudio(s: Session, entry: ListEntry, offsetMs: number): Promise<'done' | 'digit' | 'failed'> {
  try {
    const result = await s.call.play([{ file: entry.message.audioPath, offsetMs }], { bargeIn: true });
    return result.reason === 'digit' ? 'digit' : 'done';
  } catch (err) {
    if (!(err instanceof PlayFileError)) throw err;
    s.log.error({ err, id: entry.message.id }, 'message audio unreadable');
    await s.call.play(['message_unavailable'], { bargeIn: true });
    return 'failed';
  }
}

/** Says the message menu (a key typed ahead skips it) and waits for a key; undefined when none came. */
async function waitForKey(s: Session, entry: ListEntry): Promise<string | undefined> {
  const items = menuItems(s.keys, s.say, 'message', entry.folder === 'deleted' ? { phrases: { delete: 'opt_restore' } } : {});
  await s.call.play(items, { bargeIn: true });
  const got = await s.call.collectDigits({ max: 1, timeoutMs: MENU_TIMEOUT_MS, terminators: '' });
  return got.digits === '' ? undefined : got.digits;
}
