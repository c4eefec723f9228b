/**
 * The mailbox CSV (src/admin/mailbox-csv.ts), pure: reading a header and rows, checking a row's cells, and
 * writing the export.
 *
 * Covers: a spreadsheet's file (UTF-8 BOM, CRLF, header names in any case and order); quoted cells with commas,
 * quotes and line breaks (the row's line is where it ends); empty lines skipped; header problems (unknown or
 * repeated column, no number column) reported all at once; a row with the wrong number of cells; an unclosed
 * quote; a row's cells checked (empty cells meaning none/off/0, a PIN and a name only when given); the export
 * read back giving the same values (quoting of names with commas, quotes, edge spaces); names that would run as
 * spreadsheet formulas exported as text and read back unchanged.
 * Does not cover: planning against a store (cli-mailbox-import.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { mailboxesCsv, readMailboxCsv, rowValues } from '../../src/admin/mailbox-csv.js';
import { mailboxFixture } from '../helpers/mailbox-fixture.js';

describe('readMailboxCsv', () => {
  it("reads a spreadsheet's export: BOM, CRLF, header names in any case and order", () => {
    const { rows, problems } = readMailboxCsv('\uFEFFName,NUMBER,pin\r\nAlice,27000,4826\r\n\r\nBob,27001,\r\n');
    expect(problems).toEqual([]);
    expect(rows).toEqual([
      { line: 2, cells: { name: 'Alice', number: '27000', pin: '4826' } },
      { line: 4, cells: { name: 'Bob', number: '27001', pin: '' } },
    ]);
  });

  it('reads quoted cells with commas, quotes and line breaks; a row is numbered by the line it ends on', () => {
    const { rows } = readMailboxCsv('number,name\n27000,"Jones, ""CJ""\nCarol"\n27001,Bob\n');
    expect(rows).toEqual([
      { line: 3, cells: { number: '27000', name: 'Jones, "CJ"\nCarol' } },
      { line: 4, cells: { number: '27001', name: 'Bob' } },
    ]);
  });

  it('reports every header problem at once, and no rows', () => {
    expect(readMailboxCsv('name,colour,name\n27000,red,x\n')).toEqual({
      rows: [],
      problems: [
        { line: 1, message: 'unknown column "colour" (allowed: number, name, pin, email, aliases, attachAudio, maxMessages, maxMinutes, hidden)' },
        { line: 1, message: 'column "name" appears twice' },
        { line: 1, message: 'the header has no "number" column' },
      ],
    });
  });

  it('reports a row with the wrong number of cells, an unclosed quote, an empty file', () => {
    expect(readMailboxCsv('number,name\n27000\n27001,Bob\n').problems).toEqual([{ line: 2, message: '1 cells, the header has 2' }]);
    expect(readMailboxCsv('number,name\n27000,"Bob\n').problems[0]!.message).toMatch(/^not CSV: Quote Not Closed/);
    expect(readMailboxCsv('').problems).toEqual([{ line: 1, message: 'empty file: a header row (number,name,pin,...) is needed' }]);
  });
});

describe('rowValues', () => {
  it('empty cells mean none, off and 0; an empty PIN or name is not given', () => {
    const cells = { number: '27000', name: '', pin: '', email: '', aliases: '', attachAudio: '', maxMessages: '', maxMinutes: '', hidden: '' };
    expect(rowValues({ line: 2, cells })).toEqual({
      values: { number: '27000', fields: { email: undefined, aliases: [], emailAttachAudio: false, hiddenFromDirectory: false, maxMessages: 0, maxMinutes: 0 } },
      problems: [],
    });
  });

  it('a column left out sets nothing; on/off words; aliases split on ";"', () => {
    expect(rowValues({ line: 2, cells: { number: '+4687270000', aliases: ' 7000 ; 27000 ', hidden: 'YES' } }).values).toEqual({
      number: '+4687270000',
      fields: { aliases: ['7000', '27000'], hiddenFromDirectory: true },
    });
  });

  it('lists every bad cell; the values read are still given unless the number is bad', () => {
    const r = rowValues({ line: 2, cells: { number: '27000', pin: '1', email: 'x', attachAudio: 'maybe', maxMinutes: '-1' } });
    expect(r.problems).toEqual(['pin: "1" is not a PIN (4 to 16 digits)', 'email: is not an email address', 'attachAudio: "maybe" is not on or off', 'maxMinutes: must be 0 (the site default) or more']);
    expect(r.values?.number).toBe('27000');
    expect(rowValues({ line: 2, cells: { number: 'x' } }).values).toBeUndefined();
  });
});

describe('mailboxesCsv', () => {
  it('writes what readMailboxCsv and rowValues read back as the same values, with no PIN', () => {
    const mailboxes = [
      mailboxFixture({ number: '27000', name: 'Jones, "CJ" Carol', email: 'cj@example.com', aliases: ['+4687270000', '7000'], emailAttachAudio: true, maxMessages: 5 }),
      mailboxFixture({ number: '27001', name: ' Spaced ', email: undefined, aliases: [], hiddenFromDirectory: true, maxMinutes: 9 }),
    ];
    const { rows, problems } = readMailboxCsv(mailboxesCsv(mailboxes));
    expect(problems).toEqual([]);
    const back = rows.map((r) => rowValues(r).values);
    expect(back).toEqual([
      { number: '27000', fields: { name: 'Jones, "CJ" Carol', email: 'cj@example.com', aliases: ['+4687270000', '7000'], emailAttachAudio: true, hiddenFromDirectory: false, maxMessages: 5, maxMinutes: 0 } },
      { number: '27001', fields: { name: ' Spaced ', email: undefined, aliases: [], emailAttachAudio: false, hiddenFromDirectory: true, maxMessages: 0, maxMinutes: 9 } },
    ]);
    expect(rows.every((r) => r.cells.pin === '')).toBe(true);
  });

  it("writes a name a spreadsheet would run as a formula as text (a leading '), and reads it back as it was", () => {
    const names = ["=cmd|' /C calc'!A0", '+1+1', '-2+3', '@SUM(A1)', "O'Brien", "'quoted"];
    const mailboxes = names.map((name, i) => mailboxFixture({ number: String(27000 + i), name }));
    const csv = mailboxesCsv(mailboxes);
    const { rows } = readMailboxCsv(csv);
    expect(rows.map((r) => r.cells.name)).toEqual(["'=cmd|' /C calc'!A0", "'+1+1", "'-2+3", "'@SUM(A1)", "O'Brien", "'quoted"]);
    expect(rows.map((r) => rowValues(r).values?.fields.name)).toEqual(names);
  });
});
