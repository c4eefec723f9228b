/**
 * Dial by name:
 *
 *   "spell the name, then pound" ─► keys (interDigitMs between them, '#' ends) ─► search (keypad.ts) over
 *   the directory (every mailbox not hidden from it)
 *     none          ─► "no names match" ─► spell again
 *     too many      ─► "please enter more letters" ─► spell again
 *     1..maxMatches ─► "For <name>, press 1. For <name>, press 2 ..." ─► the key chosen ─► that mailbox
 *                      ('*' spells again; no key or a wrong one: the list again, then spell again)
 *   MAX_TRIES spellings without a choice ─► undefined (back to the menu)
 *
 * One match is offered the same way, so the caller confirms before being transferred. Each name is said by
 * its owner's recorded name (the mailbox's 'name' greeting), else spelled letter by letter, else (no letter
 * prompts) as "the person at extension 2 7 0 0 0".
 */
import type { CallPlayItem } from '../../call/call.js';
import type { Mailbox } from '../../store/types.js';
import type { Extension } from './dial-by-extension.js';
import { searchDirectory } from './keypad.js';
import { pressKey, said, saidDigits, spelled } from './prompts.js';
import type { AttendantSession } from './session.js';
import type { Voice } from './voice.js';

const MAX_TRIES = 3;
/** Time for the first letter and for the choice, ms. */
const KEY_TIMEOUT_MS = 5000;
/** Most keys of a spelled name. */
const MAX_KEYS = 20;

/** How a match is said: recorded name, spelled name, or its extension. */
export function nameItems(voice: Voice, mailbox: Pick<Mailbox, 'name' | 'number' | 'greetings'>): CallPlayItem[] {
  if (mailbox.greetings.name !== undefined) return [{ file: mailbox.greetings.name }];
  return spelled(voice, mailbox.name) ?? [...(voice.has('the_person_at_extension') ? [voice.item('the_person_at_extension')] : []), ...saidDigits(voice, mailbox.number)];
}

/** "For <name>, press 1. For <name>, press 2 ..." */
export function offerItems(voice: Voice, matches: readonly Mailbox[]): CallPlayItem[] {
  return matches.flatMap((m, i) => [...said(voice, 'forName'), ...nameItems(voice, m), ...pressKey(voice, String(i + 1)), { silenceMs: 300 }]);
}

export async function dialByName(s: AttendantSession): Promise<Extension | undefined> {
  const { call, voice, log } = s;
  const { searchBy, maxMatches } = s.attendant.directory;
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    await call.play(said(voice, 'spellName'), { bargeIn: true });
    const got = await call.collectDigits({ max: MAX_KEYS, timeoutMs: KEY_TIMEOUT_MS, interDigitMs: s.attendant.interDigitMs, terminators: '#' });
    if (got.digits === '') {
      await call.play(said(voice, 'noInput'), { bargeIn: true });
      continue;
    }
    const directory = (await s.ctx.directory.mailboxes()).filter((m) => !m.hiddenFromDirectory);
    const matches = searchDirectory(directory, got.digits.replace(/[^2-9]/g, ''), searchBy);
    log.info({ keys: got.digits, matches: matches.map((m) => m.number) }, 'directory search');
    if (matches.length === 0) {
      await call.play(said(voice, 'noMatch'), { bargeIn: true });
      continue;
    }
    if (matches.length > maxMatches) {
      await call.play(said(voice, 'tooManyMatches'), { bargeIn: true });
      continue;
    }
    const chosen = await choose(s, matches);
    if (chosen) return { number: chosen.number, mailbox: chosen };
  }
  return undefined;
}

/** The match the caller picks; undefined to spell again. */
async function choose(s: AttendantSession, matches: readonly Mailbox[]): Promise<Mailbox | undefined> {
  const { call, voice, log } = s;
  for (let offers = 0; offers < 2; offers++) {
    await call.play(offerItems(voice, matches), { bargeIn: true });
    const got = await call.collectDigits({ max: 1, timeoutMs: KEY_TIMEOUT_MS, terminators: '' });
    if (got.digits === '*') return undefined;
    const picked = /^[1-9]$/.test(got.digits) ? matches[Number(got.digits) - 1] : undefined;
    if (picked) {
      log.info({ mailbox: picked.number }, 'directory choice');
      return picked;
    }
    if (got.digits !== '') await call.play(said(voice, 'invalidKey'), { bargeIn: true });
  }
  return undefined;
}
