/**
 * The small machine that runs every keypad menu of the session: say the menu (a key typed ahead skips it),
 * wait for one key, return its action. A key that does nothing here gets "that entry is not valid" and the
 * menu again; silence gets the menu again. After MAX_TRIES such failures in a row the caller is told goodbye
 * and the call ends (nobody listening, or nobody able to use the menu).
 *
 * Also: number entry ("enter the mailbox number, followed by pound") with the same retry rule.
 */
import type { CallPlayItem } from '../../call/call.js';
import { actionFor, type ActionOf, type KeyMap, type MenuName } from './keymap.js';
import { menuItems, type MenuSpeech } from './menu-prompts.js';
import { goodbye } from '../goodbye.js';
import { type VoiceCall } from './session.js';
import type { Say } from '../../prompts/say.js';

/** Menus are said again at most this many times (invalid key or no key) before goodbye. */
export const MAX_TRIES = 3;
/** Time for the key after a menu has been said, ms. */
export const MENU_TIMEOUT_MS = 5000;

export interface MenuIo {
  call: VoiceCall;
  keys: KeyMap;
  say: Say;
}

export interface ChooseOptions<M extends MenuName> extends MenuSpeech<M> {
  /** Said before the menu the first time only ("You have two new messages."). */
  intro?: readonly CallPlayItem[];
  /** Say only the intro, not the choices, the first time (the choices come on a retry). */
  introOnly?: boolean;
}

/** Says `menu` and returns the action of the key pressed; ends the call after MAX_TRIES failures. */
export async function chooseAction<M extends MenuName>(io: MenuIo, menu: M, options: ChooseOptions<M> = {}): Promise<ActionOf<M>> {
  const { call } = io;
  let intro = options.intro;
  for (let failures = 0; failures < MAX_TRIES; ) {
    const choices = intro && options.introOnly ? [] : menuItems(io.keys, io.say, menu, options);
    const items: CallPlayItem[] = intro && intro.length > 0 ? [...intro, { silenceMs: 300 }, ...choices] : choices;
    intro = undefined;
    await call.play(items, { bargeIn: true });
    const got = await call.collectDigits({ max: 1, timeoutMs: MENU_TIMEOUT_MS, terminators: '' });
    if (got.digits === '') {
      failures++;
      continue;
    }
    const action = actionFor(io.keys, menu, got.digits);
    if (action !== undefined && !options.hide?.includes(action)) return action;
    failures++;
    if (failures < MAX_TRIES) await call.play(['invalid'], { bargeIn: true });
  }
  return goodbye(call);
}

/** Takes the key that stopped a barge-in play (it stays buffered until collected). */
export async function takeKey(call: VoiceCall): Promise<string> {
  const got = await call.collectDigits({ max: 1, timeoutMs: 0, terminators: '' });
  return got.digits;
}

export interface EntryOptions {
  /** Most digits. Default 16. */
  max?: number;
  /** Time for the first key after the prompt, ms. Default 6000. */
  timeoutMs?: number;
  /** Time between keys, ms. Default 4000. */
  interDigitMs?: number;
}

/**
 * Says `prompt` and collects digits up to '#' (or the max, or a pause). Returns the digits ('' when the
 * caller entered nothing), or undefined for '*' pressed first (the caller backs out).
 */
export async function enterDigits(call: VoiceCall, prompt: readonly CallPlayItem[], options: EntryOptions = {}): Promise<string | undefined> {
  await call.play(prompt, { bargeIn: true });
  const got = await call.collectDigits({
    max: options.max ?? 16,
    timeoutMs: options.timeoutMs ?? 6000,
    interDigitMs: options.interDigitMs ?? 4000,
    terminators: '#*',
  });
  if (got.terminator === '*' && got.digits === '') return undefined;
  // '*' after some digits: a slip; the caller starts again.
  if (got.terminator === '*') return '';
  return got.digits;
}
