/*
 * Dial-by-name's keypad spelling and directory search (src/apps/attendant/keypad.ts), and how a match is
 * offered (src/apps/attendant/dial-by-name.ts offerItems/nameItems).
 *
 * Covers: the E.161 letter groups (ABC=2 ... PQRS=7, WXYZ=9), accents and punctuation, first/last name from
 * "First Last" and "Last, First", search by last name, first name or both, prefix matching, sorting by last
 * then first name; a match said by its recorded name, else as the person at its extension (no letter prompts
 * exist yet), each followed by "press N".
 *
 * Does not cover: the spelled-name flow with a real caller (test/integration/attendant.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { keypadDigits, nameMatches, nameParts, searchDirectory } from '../../src/apps/attendant/keypad.js';
import { nameItems, offerItems } from '../../src/apps/attendant/dial-by-name.js';
import type { Voice } from '../../src/apps/attendant/voice.js';
import { createSay } from '../../src/prompts/say.js';
import type { Mailbox } from '../../src/store/types.js';

describe('keypadDigits (ITU-T E.161 letters)', () => {
  it('maps every letter group to its key', () => {
    expect(keypadDigits('abcdefghijklmnopqrstuvwxyz')).toBe('22233344455566677778889999');
  });

  it('ignores case, spaces and punctuation, and reads accented letters as their base letter', () => {
    expect(keypadDigits("O'Brien")).toBe('627436');
    expect(keypadDigits('Ångström-Öberg')).toBe('2647876662374');
    expect(keypadDigits('SMITH')).toBe(keypadDigits('smith'));
  });
});

describe('nameParts', () => {
  it('takes the last word as the last name', () => {
    expect(nameParts('Alice Example')).toEqual({ first: 'Alice', last: 'Example' });
    expect(nameParts('Mary Ann van Dyke')).toEqual({ first: 'Mary Ann van', last: 'Dyke' });
  });

  it('reads "Last, First"', () => {
    expect(nameParts('Example, Alice')).toEqual({ first: 'Alice', last: 'Example' });
  });

  it('uses a single word as both', () => {
    expect(nameParts('Reception')).toEqual({ first: 'Reception', last: 'Reception' });
  });
});

describe('searching the directory', () => {
  const directory = [
    { number: '27001', name: 'Bob Smith' },
    { number: '27004', name: 'Smitty Jones' },
    { number: '27002', name: 'Carol Smithers' },
    { number: '27000', name: 'Alice Example' },
    { number: '27005', name: 'Adam Smith' },
  ];

  it('matches the start of the last name', () => {
    expect(searchDirectory(directory, '76484', 'last').map((e) => e.number)).toEqual(['27005', '27001', '27002']);
  });

  it('sorts by last name, then first name', () => {
    expect(searchDirectory(directory, '7648', 'last').map((e) => e.name)).toEqual(['Adam Smith', 'Bob Smith', 'Carol Smithers']);
  });

  it('by first name, matches the first name (and may run on into the last)', () => {
    expect(searchDirectory(directory, '7648', 'first').map((e) => e.number)).toEqual(['27004']);
    expect(nameMatches('Alice Example', '254233', 'first')).toBe(true); // ALICEE
  });

  it('by both, matches either', () => {
    expect(searchDirectory(directory, '7648', 'both').map((e) => e.number)).toEqual(['27004', '27005', '27001', '27002']);
  });

  it('matches nothing for no keys or keys no name spells', () => {
    expect(searchDirectory(directory, '', 'both')).toEqual([]);
    expect(searchDirectory(directory, '99', 'both')).toEqual([]);
  });
});

describe('offering matches', () => {
  const ids = new Set(['press', 'the_person_at_extension', 'num_1', 'num_2', 'num_0', 'num_7', 'for_name']);
  const voice: Voice = { lang: 'en-US', say: createSay('en-US'), has: (id) => ids.has(id), item: (id) => id };
  const mailbox = (number: string, name: string, recorded?: string): Mailbox =>
    ({ number, name, greetings: recorded ? { name: recorded } : {} }) as Mailbox;

  it('says a recorded name as the recording', () => {
    expect(nameItems(voice, mailbox('27001', 'Bob Smith', '/data/greetings/27001/name.wav'))).toEqual([{ file: '/data/greetings/27001/name.wav' }]);
  });

  it('without a recorded name or letter prompts, says the extension', () => {
    expect(nameItems(voice, mailbox('27001', 'Bob Smith'))).toEqual(['the_person_at_extension', 'num_2', 'num_7', 'num_0', 'num_0', 'num_1']);
  });

  it('spells the name when the voice has every letter', () => {
    const letters: Voice = { ...voice, has: (id) => id.startsWith('letter_') || ids.has(id) };
    expect(nameItems(letters, mailbox('27001', 'Bo Ek'))).toEqual(['letter_b', 'letter_o', 'letter_e', 'letter_k']);
  });

  it('offers "For <name>, press 1. For <name>, press 2."', () => {
    const items = offerItems(voice, [mailbox('27001', 'Bob Smith', '/n1.wav'), mailbox('27002', 'Carol Smithers', '/n2.wav')]);
    expect(items.filter((i) => typeof i === 'string' || 'file' in i)).toEqual(['for_name', { file: '/n1.wav' }, 'press', 'num_1', 'for_name', { file: '/n2.wav' }, 'press', 'num_2']);
  });
});
