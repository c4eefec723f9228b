/**
 * Dial-by-name's keypad spelling (ITU-T E.161 letters: ABC=2, DEF=3, GHI=4, JKL=5, MNO=6, PQRS=7, TUV=8,
 * WXYZ=9) and the directory search over mailbox names.
 *
 * A name is split into first and last name: "Alice Example" (last word is the last name) or
 * "Example, Alice" (before the comma). Letters with accents count as their base letter (É = E); anything
 * else (spaces, hyphens, apostrophes) is skipped, so "O'Brien" is spelled 627436.
 *
 * Pure: the caller's keys and the directory in, the matches out.
 */
const LETTER_KEYS: Record<string, string> = {};
for (const [digit, letters] of Object.entries({ 2: 'abc', 3: 'def', 4: 'ghi', 5: 'jkl', 6: 'mno', 7: 'pqrs', 8: 'tuv', 9: 'wxyz' })) {
  for (const l of letters) LETTER_KEYS[l] = digit;
}

/** The keys that spell `text` ("Smith" → "76484"). */
export function keypadDigits(text: string): string {
  let out = '';
  for (const c of text.normalize('NFD').toLowerCase()) out += LETTER_KEYS[c] ?? '';
  return out;
}

export function nameParts(name: string): { first: string; last: string } {
  const comma = name.indexOf(',');
  if (comma >= 0) return { last: name.slice(0, comma).trim(), first: name.slice(comma + 1).trim() };
  const words = name.trim().split(/\s+/);
  return { first: words.slice(0, -1).join(' ') || words[0] || '', last: words[words.length - 1] ?? '' };
}

export type SearchBy = 'last' | 'first' | 'both';

export interface DirectoryEntry {
  number: string;
  name: string;
}

/** Whether the keys spell the start of the entry's last name, first name (or first and last), or either. */
export function nameMatches(name: string, keys: string, by: SearchBy): boolean {
  if (keys === '') return false;
  const { first, last } = nameParts(name);
  const byLast = keypadDigits(last).startsWith(keys);
  const byFirst = keypadDigits(`${first}${last}`).startsWith(keys);
  return by === 'last' ? byLast : by === 'first' ? byFirst : byLast || byFirst;
}

/** The entries the keys spell, by last name then first name. */
export function searchDirectory<T extends DirectoryEntry>(entries: readonly T[], keys: string, by: SearchBy): T[] {
  const sortKey = (e: T): string => {
    const { first, last } = nameParts(e.name);
    return `${last.toLowerCase()}\u0000${first.toLowerCase()}\u0000${e.number}`;
  };
  return entries.filter((e) => nameMatches(e.name, keys, by)).sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
}
