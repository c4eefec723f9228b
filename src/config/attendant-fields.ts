/**
 * Parsers for the `attendants` section's compact values (attendant-schema.ts turns a message into an issue at
 * the value's path): key actions, greeting items, days, times of day, dates, number ranges, transfer patterns.
 * Pure functions in the manner of fields.ts: each returns the value or a message an operator can act on.
 */
import { DIAL_STRING, type Parsed } from './fields.js';
import type { DateRule, GreetingItem, MenuAction } from './attendant-schema.js';

export const SIMPLE_ACTIONS = ['dial-by-extension', 'dial-by-name', 'operator', 'repeat', 'hangup', 'admin'] as const;

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(message: string): Parsed<T> => ({ ok: false, message });

/** Numbers as dialled; YAML's plain integers are taken as their digits (load.ts keeps leading 0 and +). */
export function dialText(v: unknown): string | undefined {
  const text = typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? String(v) : v;
  return typeof text === 'string' && DIAL_STRING.test(text) ? text : undefined;
}

export const MENU_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const PROMPT_ID = /^[a-z0-9]+(?:_[a-z0-9]+)*$/;

export const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** "operator", { menu: sales }, { transfer: "27000" }, { message: "27000" }. */
export function parseAction(v: unknown): Parsed<MenuAction> {
  const words = `${SIMPLE_ACTIONS.join(', ')}, { menu: NAME }, { transfer: NUMBER } or { message: MAILBOX }`;
  if (typeof v === 'string') {
    return (SIMPLE_ACTIONS as readonly string[]).includes(v) ? ok({ kind: v as (typeof SIMPLE_ACTIONS)[number] }) : fail(`"${v}" is not an action (expected ${words})`);
  }
  if (!isMapping(v) || Object.keys(v).length !== 1) return fail(`expected an action: ${words}`);
  const [key, value] = Object.entries(v)[0]!;
  if (key === 'menu') {
    return typeof value === 'string' && MENU_NAME.test(value) ? ok({ kind: 'menu', menu: value }) : fail('menu: expected a menu name');
  }
  if (key === 'transfer' || key === 'message') {
    const number = dialText(value);
    if (number === undefined) return fail(`${key}: "${String(value)}" is not a number`);
    return ok(key === 'transfer' ? { kind: 'transfer', number } : { kind: 'message', mailbox: number });
  }
  return fail(`unknown action "${key}" (expected ${words})`);
}

function parseSimpleItem(v: unknown): Parsed<{ prompt: string } | { file: string }> {
  if (typeof v === 'string') return PROMPT_ID.test(v) ? ok({ prompt: v }) : fail(`"${v}" is not a prompt id (snake_case, e.g. attendant_welcome)`);
  if (isMapping(v) && Object.keys(v).length === 1 && typeof v.file === 'string' && v.file !== '') return ok({ file: v.file });
  return fail('expected a prompt id, { file: PATH } or { slot: N }');
}

/** attendant_welcome, { file: greeting.wav }, { slot: 1, otherwise: [attendant_welcome] }. */
export function parseGreetingItem(v: unknown): Parsed<GreetingItem> {
  if (!isMapping(v) || !('slot' in v)) return parseSimpleItem(v);
  const { slot, otherwise, ...rest } = v;
  if (Object.keys(rest).length > 0) return fail(`unknown key "${Object.keys(rest)[0]}" (allowed here: slot, otherwise)`);
  if (typeof slot !== 'number' || !Number.isInteger(slot) || slot < 1 || slot > 99) return fail('slot: expected a greeting number from 1 to 99');
  const items: ({ prompt: string } | { file: string })[] = [];
  for (const item of otherwise === undefined ? [] : Array.isArray(otherwise) ? otherwise : [otherwise]) {
    const r = parseSimpleItem(item);
    if (!r.ok) return fail(`otherwise: ${r.message}`);
    items.push(r.value);
  }
  return ok({ slot, otherwise: items });
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** "mon", "mon-fri" (a range may wrap: "fri-mon"). */
export function parseDays(text: string): Parsed<number[]> {
  const [a, b, extra] = text.toLowerCase().split('-');
  const from = DAYS.indexOf(a ?? '');
  const to = b === undefined ? from : DAYS.indexOf(b);
  if (from < 0 || to < 0 || extra !== undefined) return fail(`"${text}" is not a day or a range of days (mon, tue, ... sun; e.g. mon-fri)`);
  const days: number[] = [];
  for (let d = from; ; d = (d + 1) % 7) {
    days.push(d);
    if (d === to) return ok(days);
  }
}

/** "08:00" → 480; "24:00" is the end of the day. */
export function parseClock(text: string): Parsed<number> {
  const m = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(text);
  const minutes = m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  return m && minutes <= 24 * 60 ? ok(minutes) : fail(`"${text}" is not a time of day (HH:MM, 00:00 to 24:00)`);
}

/** "2025-12-25" (that day) or "12-25" (every year). */
export function parseDate(text: string): Parsed<DateRule> {
  const m = /^(?:(\d{4})-)?(\d{2})-(\d{2})$/.exec(text);
  if (!m) return fail(`"${text}" is not a date (YYYY-MM-DD, or MM-DD for every year)`);
  const year = m[1] === undefined ? undefined : Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  // Day 0 of the next month is the last day of this one; 2000 is a leap year, so "02-29" is allowed yearly.
  const last = new Date(Date.UTC(year ?? 2000, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > last) return fail(`"${text}" is not a calendar date`);
  return ok(year === undefined ? { month, day } : { year, month, day });
}

/** "27000-27999" (same number of digits) or one number. */
export function parseNumberRange(text: string): Parsed<{ from: string; to: string }> {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) return fail(`"${text}" is not a number or a range of numbers like "27000-27999"`);
  const from = m[1]!;
  const to = m[2] ?? from;
  if (from.length !== to.length) return fail(`"${text}": both ends of a range need the same number of digits`);
  if (from > to) return fail(`"${text}": the range runs backwards`);
  return ok({ from, to });
}

/**
 * A transfer pattern: digits, * and # as themselves, X any digit, N 2-9, Z 1-9, a trailing "." one or more
 * further characters (Asterisk's dial-plan letters), or a range "27000-27999".
 */
export const NUMBER_PATTERN = /^(\+?[0-9*#XNZxnz]+\.?|\d+-\d+)$/;
