/**
 * What the attendant says, by role, as prompt ids. A role lists the ids to try in order: the first one the
 * caller's language has is said, or nothing ([]) when it has none of them (a language folder that lacks a
 * prompt). Every id here is recorded in prompts/en-US.
 *
 * Not here: menu greetings (the config names them) and the voicemail deposit's prompts.
 */
import type { CallPlayItem } from '../../call/call.js';
import type { Voice } from './voice.js';

export const ROLES = {
  /** "Please enter the extension, followed by pound." (a key whose action is dial-by-extension) */
  enterExtension: ['enter_extension'],
  /** "If you know the extension of the person you wish to reach, please enter it now." (menu-prompt.ts) */
  dialExtension: ['attendant_dial_extension'],
  /** "For the operator," (followed by "press 0"; menu-prompt.ts) */
  optOperator: ['opt_operator'],
  invalidExtension: ['invalid_extension'],
  invalidKey: ['invalid'],
  noInput: ['no_input'],
  pleaseHold: ['please_hold_transfer'],
  transferFailed: ['transfer_failed'],
  busy: ['extension_busy'],
  noAnswer: ['no_answer'],
  backToMenu: ['returning_to_menu'],
  goodbye: ['goodbye'],
  /** "Please use your keypad to spell the name of the person you want to reach, then press pound." */
  spellName: ['spell_name'],
  /** "No names match those letters." */
  noMatch: ['no_name_match'],
  /** "Too many names match. Please enter more letters." */
  tooManyMatches: ['too_many_matches'],
  /** "For" (before a name: "For Alice Example, press 1"). */
  forName: ['for_name'],
  /** "For English," said in each language of the language-choice menu. */
  forLanguage: ['for_this_language'],
  /** Administrator log-in. */
  enterMailbox: ['enter_mailbox'],
  enterPin: ['enter_pin'],
  loginIncorrect: ['login_incorrect'],
  locked: ['mailbox_locked'],
  /** "Please enter the number of the greeting to record, followed by pound." */
  enterGreetingNumber: ['enter_greeting_number'],
  recordGreeting: ['record_greeting'],
  greetingSaved: ['greeting_saved'],
  notHeard: ['recording_not_heard'],
  optAccept: ['opt_accept'],
  optListen: ['opt_listen_recording'],
  optRerecord: ['opt_rerecord'],
  optCancel: ['opt_cancel'],
  press: ['press'],
  /** "To leave a message," (followed by "press 1"). */
  optLeaveMessage: ['opt_leave_message'],
  /** "To go back," (followed by "press star"). */
  optBack: ['opt_back'],
} as const satisfies Record<string, readonly string[]>;

export type Role = keyof typeof ROLES;

/** The first id of the role the voice has, as play items; [] when it has none. */
export function said(voice: Voice, role: Role): CallPlayItem[] {
  const id = ROLES[role].find((p) => voice.has(p));
  return id === undefined ? [] : [voice.item(id)];
}

/** Several roles in a row. */
export function saidAll(voice: Voice, ...roles: Role[]): CallPlayItem[] {
  return roles.flatMap((r) => said(voice, r));
}

/** Keypad digits said one by one ("two seven zero zero one"). */
export function saidDigits(voice: Voice, digits: string): CallPlayItem[] {
  return voice.say.digits(digits.replace(/[^0-9*#]/g, '')).map((id) => voice.item(id));
}

/** "press 1" */
export function pressKey(voice: Voice, key: string): CallPlayItem[] {
  return [...said(voice, 'press'), ...saidDigits(voice, key)];
}

/** A name said letter by letter from letter_a .. letter_z, or undefined when the voice lacks a letter. */
export function spelled(voice: Voice, name: string): CallPlayItem[] | undefined {
  const letters = [...name.normalize('NFD').toLowerCase()].filter((c) => c >= 'a' && c <= 'z');
  const ids = letters.map((c) => `letter_${c}`);
  return ids.length > 0 && ids.every((id) => voice.has(id)) ? ids.map((id) => voice.item(id)) : undefined;
}
