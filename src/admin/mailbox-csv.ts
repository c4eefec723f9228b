/**
 * The mailbox CSV of `vmpilot mailbox import` / `export` (README, "Bulk provisioning"): a header row, then one
 * mailbox per row. Columns (any order; only `number` is required; a column left out leaves that field as it
 * is, or its default for a new mailbox):
 *
 *   number       the mailbox number (digits, * and #, optionally after +)
 *   name         owner's name; required for a new mailbox; empty: unchanged
 *   pin          initial PIN of a NEW mailbox (4-16 digits; the owner must change it); ignored for an existing one
 *   email        notification address; empty: none
 *   aliases      further numbers, separated by ";"; empty: none
 *   attachAudio  on/off (yes/no, true/false, 1/0): attach the WAV to notification emails; empty: off
 *   maxMessages  the mailbox's message quota; empty or 0: the site default
 *   maxMinutes   the mailbox's minutes quota; empty or 0: the site default
 *   hidden       on/off: left out of the attendant's dial-by-name directory; empty: off
 *
 * Values are checked with the config's schemas (mailbox-values.ts). Export writes every column but `pin`
 * (empty: hashes are never exported), so importing an export changes nothing.
 *
 * A name is free text, and may come from a directory any employee's profile feeds: one starting with = + - @
 * (or a tab or CR) would run as a formula when the export is opened in a spreadsheet ("CSV injection", OWASP).
 * The export writes such a name after a "'" (the spreadsheet's own mark for "text, not a formula"), and the import
 * takes that mark off again, so a round trip keeps the name.
 */
import { parse } from 'csv-parse/sync';
import type { Mailbox, MailboxFields } from '../store/types.js';
import { checkAliases, checkEmail, checkName, checkNumberText, checkOnOff, checkPin, checkQuota, type Checked } from './mailbox-values.js';

export const CSV_COLUMNS = ['number', 'name', 'pin', 'email', 'aliases', 'attachAudio', 'maxMessages', 'maxMinutes', 'hidden'] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];

/** One data row: its line in the file (where it ends, for a cell spanning lines) and its cells by column. */
export interface CsvRow {
  line: number;
  cells: Partial<Record<CsvColumn, string>>;
}

export interface Problem {
  line: number;
  message: string;
}

/** The rows of a mailbox CSV, or the problems of its header and shape (every one found). */
export function readMailboxCsv(text: string): { rows: CsvRow[]; problems: Problem[] } {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { bom: true, info: true, relax_column_count: true, skip_empty_lines: true }) as unknown as typeof records;
  } catch (err) {
    const e = err as Error & { lines?: number };
    return { rows: [], problems: [{ line: e.lines ?? 1, message: `not CSV: ${e.message}` }] };
  }
  const [header, ...data] = records;
  if (!header) return { rows: [], problems: [{ line: 1, message: 'empty file: a header row (number,name,pin,...) is needed' }] };
  const problems: Problem[] = [];
  const columns: (CsvColumn | undefined)[] = [];
  for (const raw of header.record) {
    const name = raw.trim();
    const column = CSV_COLUMNS.find((c) => c.toLowerCase() === name.toLowerCase());
    if (!column) problems.push({ line: header.info.lines, message: `unknown column "${name}" (allowed: ${CSV_COLUMNS.join(', ')})` });
    else if (columns.includes(column)) problems.push({ line: header.info.lines, message: `column "${column}" appears twice` });
    columns.push(column);
  }
  if (!columns.includes('number')) problems.push({ line: header.info.lines, message: 'the header has no "number" column' });
  if (problems.length > 0) return { rows: [], problems };
  const rows: CsvRow[] = [];
  for (const { record, info } of data) {
    if (record.length !== columns.length) {
      problems.push({ line: info.lines, message: `${record.length} cells, the header has ${columns.length}` });
      continue;
    }
    const cells: CsvRow['cells'] = {};
    record.forEach((cell, i) => (cells[columns[i]!] = cell));
    rows.push({ line: info.lines, cells });
  }
  return { rows, problems };
}

/** A row's values, checked: the number, the PIN if given, the fields its columns set; or its problems. */
export interface RowValues {
  number: string;
  pin?: string;
  fields: MailboxFields;
}

/** A row's checked values and problems; `values` is absent only when the number is missing or bad. */
export function rowValues(row: CsvRow): { values?: RowValues; problems: string[] } {
  const problems: string[] = [];
  const fields: MailboxFields = {};
  const take = <T>(column: CsvColumn, r: Checked<T>, set: (v: T) => void): void => {
    if (r.ok) set(r.value);
    else problems.push(`${column}: ${r.message}`);
  };
  const c = row.cells;
  let number = '';
  take('number', checkNumberText(c.number ?? ''), (v) => (number = v));
  let pin: string | undefined;
  if (c.pin !== undefined && c.pin.trim() !== '') take('pin', checkPin(c.pin), (v) => (pin = v));
  if (c.name !== undefined && c.name.trim() !== '') take('name', checkName(fromText(c.name)), (v) => (fields.name = v));
  if (c.email !== undefined) {
    if (c.email.trim() === '') fields.email = undefined;
    else take('email', checkEmail(c.email), (v) => (fields.email = v));
  }
  if (c.aliases !== undefined) take('aliases', checkAliases(c.aliases, ';'), (v) => (fields.aliases = v));
  if (c.attachAudio !== undefined) take('attachAudio', c.attachAudio.trim() === '' ? { ok: true, value: false } : checkOnOff(c.attachAudio), (v) => (fields.emailAttachAudio = v));
  if (c.hidden !== undefined) take('hidden', c.hidden.trim() === '' ? { ok: true, value: false } : checkOnOff(c.hidden), (v) => (fields.hiddenFromDirectory = v));
  if (c.maxMessages !== undefined) take('maxMessages', checkQuota(c.maxMessages.trim() || '0', 'maxMessages'), (v) => (fields.maxMessages = v));
  if (c.maxMinutes !== undefined) take('maxMinutes', checkQuota(c.maxMinutes.trim() || '0', 'maxMinutes'), (v) => (fields.maxMinutes = v));
  // With problems, the values read are still given (the plan checks what it can of the row) unless the number itself is bad.
  return { values: number === '' ? undefined : { number, ...(pin !== undefined ? { pin } : {}), fields }, problems };
}

/** Where a spreadsheet starts a formula (OWASP "CSV Injection"). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** A free-text value as exported: one a spreadsheet would run as a formula gets a leading "'". */
function asText(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/** asText undone on import. */
function fromText(value: string): string {
  return value.startsWith("'") && FORMULA_START.test(value.slice(1)) ? value.slice(1) : value;
}

/** A cell as CSV writes it (RFC 4180): quoted when it holds a comma, a quote, a line break or edge spaces. */
function cell(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The export: the header and one row per mailbox, no PIN (see the module comment). */
export function mailboxesCsv(mailboxes: readonly Mailbox[]): string {
  const onOff = (b: boolean): string => (b ? 'on' : 'off');
  const lines = [CSV_COLUMNS.join(',')];
  for (const m of mailboxes) {
    const values: Record<CsvColumn, string> = {
      number: m.number,
      name: asText(m.name),
      pin: '',
      email: m.email ?? '',
      aliases: m.aliases.join(';'),
      attachAudio: onOff(m.emailAttachAudio),
      maxMessages: String(m.maxMessages),
      maxMinutes: String(m.maxMinutes),
      hidden: onOff(m.hiddenFromDirectory),
    };
    lines.push(CSV_COLUMNS.map((c) => cell(values[c])).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
