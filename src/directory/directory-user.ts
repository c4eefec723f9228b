/**
 * One directory entry read as a mailbox owner: its stable id, number, aliases, name and email, and whether it
 * should have a mailbox at all (an AD account disabled, a "no voicemail" flag). Or, for an entry that cannot
 * be one (no id, no number, a value that is not a number), the reason, with its DN. Pure.
 */
import type { DirectoryAttributeMap } from '../config/directory-schema.js';
import { DIAL_STRING } from '../config/fields.js';

/** An entry as ldapts returns it: the DN, and each attribute's value (one or several, text or binary). */
export type LdapEntry = { dn: string } & Record<string, string | string[] | Buffer | Buffer[]>;

export interface DirectoryUser {
  id: string;
  dn: string;
  number: string;
  name: string;
  email?: string;
  aliases: string[];
  /** Why this user gets no mailbox (an existing one is disabled); absent: the user has one. */
  inactive?: 'account disabled' | 'no voicemail';
}

export interface EntryProblem {
  dn: string;
  /** Absent when the entry has no id. */
  id?: string;
  reason: string;
}

/** MS-ADTS 2.2.16 userAccountControl: ADS_UF_ACCOUNTDISABLE. */
const ACCOUNTDISABLE = 0x2;
const TRUE_VALUES = new Set(['true', 'yes', '1', 'on']);

/** The entry's values of one attribute (names compare case-insensitively, RFC 4512 §2.5). */
function valuesOf(entry: LdapEntry, lowerKeys: Map<string, string>, name: string | undefined): (string | Buffer)[] {
  if (name === undefined) return [];
  const key = lowerKeys.get(name.toLowerCase());
  if (key === undefined) return [];
  const v = entry[key]!;
  return Array.isArray(v) ? v : [v];
}

function text(v: string | Buffer | undefined): string | undefined {
  if (v === undefined) return undefined;
  const s = (Buffer.isBuffer(v) ? v.toString('hex') : v).trim();
  return s === '' ? undefined : s;
}

/** A telephone number as directories write it ("+46 8-123 45 67", "(555) 010.2000") → dialled digits. */
export function dialledNumber(value: string): string {
  return value.replace(/[\s\-.()/]/g, '');
}

/** How a number attribute becomes the mailbox number: whole, or its last `extensionDigits` digits. */
export interface NumberRule {
  extensionDigits: number;
}

export function readEntry(entry: LdapEntry, map: DirectoryAttributeMap, rule: NumberRule = { extensionDigits: 0 }): DirectoryUser | EntryProblem {
  const lowerKeys = new Map(Object.keys(entry).map((k) => [k.toLowerCase(), k]));
  const first = (name: string | undefined): string | undefined => text(valuesOf(entry, lowerKeys, name)[0]);
  const dn = entry.dn;
  const id = first(map.id);
  if (id === undefined) return { dn, reason: `no ${map.id} (the entry's stable id)` };
  const raw = first(map.number);
  if (raw === undefined) return { dn, id, reason: `no ${map.number} (the mailbox number)` };
  const full = dialledNumber(raw);
  if (!DIAL_STRING.test(full)) return { dn, id, reason: `${map.number} "${raw}" is not a number (digits, * and #, optionally after +)` };
  const digits = full.replace(/^\+/, '');
  if (rule.extensionDigits > 0 && digits.length < rule.extensionDigits) return { dn, id, reason: `${map.number} "${raw}" has fewer than ${rule.extensionDigits} digits (extensionDigits)` };
  const number = rule.extensionDigits > 0 ? digits.slice(-rule.extensionDigits) : full;
  // With extensionDigits, the whole number (the DID) reaches the mailbox too.
  const aliases: string[] = number !== full ? [full] : [];
  for (const attr of map.aliases) {
    for (const v of valuesOf(entry, lowerKeys, attr)) {
      const t = text(v);
      if (t === undefined) continue;
      const alias = dialledNumber(t);
      if (!DIAL_STRING.test(alias)) return { dn, id, reason: `${attr} "${t}" is not a number (digits, * and #, optionally after +)` };
      if (alias !== number && !aliases.includes(alias)) aliases.push(alias);
    }
  }
  const firstName = first(map.firstName);
  const lastName = first(map.lastName);
  const name = map.displayName.map(first).find((n) => n !== undefined) ?? [firstName, lastName].filter(Boolean).join(' ');
  if (name === '') return { dn, id, reason: `no name (${[...map.displayName, map.firstName, map.lastName].join(', ')})` };
  const email = first(map.email);
  if (email !== undefined && !/^[^\s@]+@[^\s@]+$/.test(email)) return { dn, id, reason: `${map.email} "${email}" is not an email address` };
  const user: DirectoryUser = { id, dn, number, name, aliases: aliases.sort(), ...(email !== undefined ? { email } : {}) };
  const control = Number(first(map.accountControl));
  if (Number.isInteger(control) && (control & ACCOUNTDISABLE) !== 0) user.inactive = 'account disabled';
  else if (TRUE_VALUES.has(first(map.noVoicemail)?.toLowerCase() ?? '')) user.inactive = 'no voicemail';
  return user;
}

export function isProblem(v: DirectoryUser | EntryProblem): v is EntryProblem {
  return 'reason' in v;
}
