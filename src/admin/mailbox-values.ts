/**
 * A mailbox field's value as an administrator types it (a `mailbox set` option, a CSV cell) checked with the
 * config file's own schemas (config/schema.ts mailboxFields), so that a value is accepted or refused with the
 * same words in YAML, on the command line, in a CSV import and in the HTTP API.
 */
import type { z } from 'zod';
import { mailboxFields } from '../config/schema.js';

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

function check<T>(schema: z.ZodType<T>, value: unknown): Checked<T> {
  const r = schema.safeParse(value);
  return r.success ? { ok: true, value: r.data } : { ok: false, message: r.error.issues.map((i) => i.message).join('; ') };
}

/** A name is kept as written (an export read back changes nothing); one of only spaces is empty. */
export const checkName = (text: string): Checked<string> => check(mailboxFields.name, text.trim() === '' ? '' : text);
export const checkEmail = (text: string): Checked<string> => check(mailboxFields.email, text.trim());
export const checkNumberText = (text: string): Checked<string> => check(mailboxFields.number, text.trim());
export const checkPin = (text: string): Checked<string> => check(mailboxFields.pin, text.trim());

/** A list of numbers written with a separator ("," on the command line, ";" in a CSV cell); empty: none. */
export function checkAliases(text: string, separator: string): Checked<string[]> {
  const items = text.split(separator).map((a) => a.trim()).filter((a) => a !== '');
  return check(mailboxFields.aliases, items);
}

const ON = new Set(['on', 'yes', 'true', '1']);
const OFF = new Set(['off', 'no', 'false', '0']);

/** on/off (also yes/no, true/false, 1/0), checked by the schema's boolean. */
export function checkOnOff(text: string): Checked<boolean> {
  const word = text.trim().toLowerCase();
  if (ON.has(word)) return check(mailboxFields.attachAudio, true);
  if (OFF.has(word)) return check(mailboxFields.attachAudio, false);
  return { ok: false, message: `"${text}" is not on or off` };
}

/** A mailbox quota (messages or minutes; 0 = the site default). */
export function checkQuota(text: string, field: 'maxMessages' | 'maxMinutes'): Checked<number> {
  const t = text.trim();
  if (!/^-?[0-9]+$/.test(t)) return { ok: false, message: `"${text}" is not a whole number` };
  return check(mailboxFields[field], Number(t));
}
