/**
 * The toll-fraud guard: the attendant transfers only to numbers that match the allowed patterns; anything
 * else is refused (and logged by the caller of allows()). A caller who can make an attendant dial out can
 * make the site pay for calls abroad: a PBX's trunk would take a REFER to "00..." as from the site.
 *
 * Patterns (attendants[].allowedTransfers): digits, * and # stand for themselves, X any digit, N 2-9, Z 1-9,
 * a trailing "." one or more further characters; or a range "27000-27999" (numbers of that many digits
 * from..to). With no patterns configured, the allowed numbers are the internal ones: the mailboxes' numbers,
 * the attendant's extension ranges and its operator.
 *
 * Pure.
 */
import type { AttendantConfig } from '../../config/attendant-schema.js';

export type NumberTest = (number: string) => boolean;

const LETTERS: Record<string, string> = { x: '[0-9]', n: '[2-9]', z: '[1-9]' };
const escape = (c: string): string => (/[0-9]/.test(c) ? c : `\\${c}`);

/** One pattern as a test; a malformed one (the schema rejects those) matches nothing. */
export function compilePattern(pattern: string): NumberTest {
  const range = /^(\d+)-(\d+)$/.exec(pattern);
  if (range) return numberRange(range[1]!, range[2]!);
  if (!/^\+?[0-9*#XNZxnz]+\.?$/.test(pattern)) return () => false;
  const trailing = pattern.endsWith('.');
  const body = [...(trailing ? pattern.slice(0, -1) : pattern)].map((c) => LETTERS[c.toLowerCase()] ?? escape(c)).join('');
  const re = new RegExp(`^${body}${trailing ? '.+' : ''}$`);
  return (n) => re.test(n);
}

/** Numbers of the ends' length from `from` to `to` (equal-length digit strings compare as numbers). */
export function numberRange(from: string, to: string): NumberTest {
  return (n) => /^\d+$/.test(n) && n.length === from.length && n >= from && n <= to;
}

/** The guard of one attendant; `mailboxNumbers` are the store's (for the default patterns). */
export function transferGuard(a: Pick<AttendantConfig, 'allowedTransfers' | 'extensions' | 'operator'>, mailboxNumbers: readonly string[]): NumberTest {
  if (a.allowedTransfers.length > 0) {
    const tests = a.allowedTransfers.map(compilePattern);
    return (n) => tests.some((t) => t(n));
  }
  const exact = new Set(mailboxNumbers);
  if (a.operator !== undefined) exact.add(a.operator);
  const ranges = a.extensions.map((r) => numberRange(r.from, r.to));
  return (n) => exact.has(n) || ranges.some((t) => t(n));
}
