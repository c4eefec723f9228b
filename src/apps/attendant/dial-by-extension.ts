/**
 * Dial by extension: which numbers a caller may dial, and the "enter the extension" step of a key whose action
 * is dial-by-extension. (A menu with dialExtensions takes the first digit as a key press; menu-runner.ts
 * collects the rest and asks findExtension the same question.)
 *
 * A number is an extension when it is a mailbox's number or alias (the transfer then goes to the mailbox's
 * number) or lies in one of the attendant's extension ranges. Whether the transfer is then allowed is the
 * transfer guard's question, asked later (connect.ts): a valid extension can still be outside the allowed
 * patterns.
 */
import type { AttendantConfig } from '../../config/attendant-schema.js';
import type { Mailbox, MessageStore } from '../../store/types.js';
import type { AttendantCall } from './context.js';
import { said } from './prompts.js';
import { numberRange } from './transfer-guard.js';
import type { Voice } from './voice.js';

export interface Extension {
  /** The number to transfer to. */
  number: string;
  /** Its mailbox, when it has one (a failed transfer offers a message there). */
  mailbox?: Mailbox;
}

/** Tries of the "enter the extension" step before going back to the menu. */
const MAX_TRIES = 3;
/** Time for the first digit after "enter the extension", ms. */
const FIRST_DIGIT_MS = 5000;

/** The extension `digits` name, or undefined. */
export async function findExtension(store: Pick<MessageStore, 'findMailbox'>, a: Pick<AttendantConfig, 'extensions'>, digits: string): Promise<Extension | undefined> {
  if (!/^[0-9]+$/.test(digits)) return undefined;
  const mailbox = await store.findMailbox(digits);
  if (mailbox) return { number: mailbox.number, mailbox };
  return a.extensions.some((r) => numberRange(r.from, r.to)(digits)) ? { number: digits } : undefined;
}

/** Most digits an extension can have: the longest mailbox number or alias, or range. */
export function longestExtension(a: Pick<AttendantConfig, 'extensions'>, mailboxes: readonly Pick<Mailbox, 'number' | 'aliases'>[]): number {
  const lengths = [...a.extensions.map((r) => r.from.length), ...mailboxes.flatMap((m) => [m.number, ...m.aliases].map((n) => n.length))];
  return lengths.length > 0 ? Math.max(...lengths) : 1;
}

export interface ExtensionIo {
  call: AttendantCall;
  voice: Voice;
  interDigitMs: number;
  maxDigits: number;
  find(digits: string): Promise<Extension | undefined>;
}

/** "Enter the extension": the extension dialled, or undefined after MAX_TRIES wrong or missing entries. */
export async function askExtension(io: ExtensionIo): Promise<Extension | undefined> {
  const { call, voice } = io;
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    await call.play(said(voice, 'enterExtension'), { bargeIn: true });
    const got = await call.collectDigits({ max: io.maxDigits, timeoutMs: FIRST_DIGIT_MS, interDigitMs: io.interDigitMs, terminators: '#' });
    if (got.digits === '') {
      await call.play(said(voice, 'noInput'), { bargeIn: true });
      continue;
    }
    const found = await io.find(got.digits);
    if (found) return found;
    await call.play(said(voice, 'invalidExtension'), { bargeIn: true });
  }
  return undefined;
}
