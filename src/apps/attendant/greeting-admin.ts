/**
 * Recording company and menu greetings by phone (the 'admin' action, usually on a key no greeting mentions):
 *
 *   "enter your mailbox number" ─► "enter your PIN" ─► an administrator (attendants[].admins) with the right
 *   PIN? (wrong: "not correct", MAX_TRIES, then back to the menu; failures slow further tries, with the
 *   back-off of a mailbox log-in, store/pin-backoff.ts)
 *   ─► "enter the greeting number" ─► a slot this attendant's menus play? ─► record after the tone
 *        ─► "to keep it press 1, to listen press 2, to record again press 3, to cancel press star"
 *        ─► kept: it replaces the slot's greeting at once ("your greeting has been saved")
 *   ─► another greeting number, or no entry: back to the menu
 *
 * Whether a mailbox exists is not revealed: a non-administrator's number gets the same "not correct".
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CallPlayItem } from '../../call/call.js';
import { callTrySource, enterPin, silenceOn } from '../pin-entry.js';
import { saveSlot, slotPath, slotsOf } from './greeting-slots.js';
import { pressKey, said } from './prompts.js';
import type { AttendantSession } from './session.js';

const MAX_TRIES = 3;
const ENTRY_TIMEOUT_MS = 5000;
const GREETING_MAX_MS = 120_000;

/** Digits up to '#' after a prompt; '' when none came. */
async function enter(s: AttendantSession, prompt: CallPlayItem[], max: number): Promise<string> {
  await s.call.play(prompt, { bargeIn: true });
  const got = await s.call.collectDigits({ max, timeoutMs: ENTRY_TIMEOUT_MS, interDigitMs: s.attendant.interDigitMs, terminators: '#' });
  return got.digits;
}

/** The administrator's mailbox number after a good PIN; undefined to go back to the menu. */
async function logIn(s: AttendantSession): Promise<string | undefined> {
  const { voice, ctx, log } = s;
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    const number = await enter(s, said(voice, 'enterMailbox'), 16);
    if (number === '') return undefined;
    const pin = await enter(s, said(voice, 'enterPin'), 16);
    // Every number takes the same PIN check (absent, not an administrator, or one): the time says nothing.
    const who = callTrySource(s.call);
    const mailbox = pin !== '' ? await enterPin(number, pin, { store: ctx.store, policy: ctx.pinBackoff, ...who, log, pause: silenceOn(s.call) }) : undefined;
    const admin = mailbox !== undefined && s.attendant.admins.includes(mailbox.number);
    if (admin) return mailbox.number;
    log.info({ mailbox: number, source: who.source, caller: who.caller }, 'greeting administrator log-in refused');
    await s.call.play(said(voice, 'loginIncorrect'), { bargeIn: true });
  }
  return undefined;
}

type Review = 'keep' | 'listen' | 'again' | 'cancel';
const REVIEW_KEYS: Record<string, Review> = { '1': 'keep', '2': 'listen', '3': 'again', '*': 'cancel' };

async function review(s: AttendantSession): Promise<Review> {
  const v = s.voice;
  const items = [...said(v, 'optAccept'), ...pressKey(v, '1'), ...said(v, 'optListen'), ...pressKey(v, '2'), ...said(v, 'optRerecord'), ...pressKey(v, '3'), ...said(v, 'optCancel'), ...pressKey(v, '*')];
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    await s.call.play(items, { bargeIn: true });
    const got = await s.call.collectDigits({ max: 1, timeoutMs: ENTRY_TIMEOUT_MS, terminators: '' });
    const choice = REVIEW_KEYS[got.digits];
    if (choice) return choice;
  }
  return 'cancel';
}

/** Records one slot with review; whether it was saved. */
async function recordSlot(s: AttendantSession, slot: number): Promise<boolean> {
  const { call, voice, ctx, log } = s;
  const tmp = join(ctx.store.tmpDir, `attendant-greeting-${randomUUID()}.wav`);
  try {
    for (let tries = 0; tries < MAX_TRIES; ) {
      await call.play(said(voice, 'recordGreeting'), { bargeIn: true });
      const outcome = await call.record({ path: tmp, maxMs: GREETING_MAX_MS, silenceMs: 3000, minMs: 1000, beep: true, onHangup: 'discard' });
      if (outcome.tooShort) {
        tries++;
        await call.play(said(voice, 'notHeard'), { bargeIn: true });
        continue;
      }
      let choice = await review(s);
      while (choice === 'listen') {
        await call.play([{ file: tmp }], { bargeIn: true });
        choice = await review(s);
      }
      if (choice === 'cancel') return false;
      if (choice === 'again') continue;
      await saveSlot(ctx.greetingsDir, slot, tmp);
      log.info({ slot, path: slotPath(ctx.greetingsDir, slot), durationMs: outcome.durationMs }, 'attendant greeting recorded');
      await call.play(said(voice, 'greetingSaved'), { bargeIn: true });
      return true;
    }
    return false;
  } finally {
    await rm(tmp, { force: true }).catch(() => undefined);
  }
}

export async function greetingAdmin(s: AttendantSession): Promise<void> {
  const admin = await logIn(s);
  if (admin === undefined) return;
  s.log.info({ mailbox: admin }, 'greeting administrator logged in');
  const slots = slotsOf(s.attendant);
  for (;;) {
    const entry = await enter(s, said(s.voice, 'enterGreetingNumber'), 2);
    if (entry === '') return;
    const slot = Number(entry);
    if (!slots.has(slot)) {
      s.log.info({ slot: entry, slots: [...slots] }, 'no menu plays this greeting slot');
      await s.call.play(said(s.voice, 'invalidKey'), { bargeIn: true });
      continue;
    }
    await recordSlot(s, slot);
  }
}
