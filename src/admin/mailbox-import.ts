/**
 * A bulk mailbox import, from CSV text to one store transaction; shared by `vmpilot mailbox import` and the
 * HTTP API. Three steps:
 *   1. plan: every row checked (values, a new mailbox's name and PIN, numbers and aliases against the store,
 *      the pilots and the other rows, fields the config file owns), compared with the store: create / update
 *      (with each changed field) / unchanged. Every problem is collected with its line; any problem: stop.
 *   2. hash the new mailboxes' PINs, a few at a time on libuv's pool (scrypt is slow on purpose: pin.ts).
 *   3. apply: store.importMailboxes, one transaction; a conflict appearing meanwhile rejects it whole.
 * A dry run stops after the plan.
 *
 * One hash per distinct PIN in an import: mailboxes given the same initial PIN share its salted hash. Sites
 * hand out a few default PINs to thousands of users, and scrypt at ~50 ms a hash would make an import of
 * 10,000 such rows take minutes. What sharing reveals (which new mailboxes still have the same initial PIN)
 * mustChangePin already says, and the owner's own PIN gets its own salt at the first login.
 */
import type { Config } from '../config/schema.js';
import { changedFields } from '../store/mailbox-diff.js';
import { hashPin } from '../store/pin.js';
import type { FieldChange, Mailbox, MailboxFields, MailboxImport, MessageStore } from '../store/types.js';
import { configEntry, ownedFields } from './config-mailboxes.js';
import { readMailboxCsv, rowValues, type Problem } from './mailbox-csv.js';

export interface PlannedRow {
  line: number;
  number: string;
  pin?: string;
  fields: MailboxFields;
  /** For an existing mailbox: what the row changes. */
  changes: FieldChange[];
}

export interface ImportPlan {
  create: PlannedRow[];
  /** Existing mailboxes the rows change (rows that change nothing are only counted). */
  update: PlannedRow[];
  unchanged: number;
  /** Rows giving a PIN for a mailbox that exists: ignored (an import sets initial PINs only). */
  pinsIgnored: number;
  /** Every problem found, by line; when any, nothing may be applied. */
  problems: Problem[];
}

/** What an import reads of the config: the pilots (numbers a mailbox may not take) and the config's mailboxes. */
export interface ImportConfig {
  services: Pick<Config['services'], 'voicemail' | 'attendant' | 'echo'>;
  mailboxes: Config['mailboxes'];
}

/**
 * Hashes in flight at once by default: libuv's default thread pool size (4). A server importing over HTTP
 * asks for fewer (hashesInFlight), so that the import leaves cores to the calls' media and logins' scrypt.
 */
const HASHES_IN_FLIGHT = 4;

/**
 * The largest CSV an import reads, bytes: about 150,000 mailboxes at their longest usual rows. The file (or the
 * API's body) is read whole and parsed in one go, and on a server that is the loop that paces calls' RTP.
 */
export const MAILBOX_CSV_MAX_BYTES = 16 * 1024 * 1024;

type Owner = { mailbox: string; line?: number };

/** Who holds each number after the import: the store's numbers and aliases, then the rows' (numbering plan). */
class Numbering {
  private readonly owners = new Map<string, Owner>();

  constructor(
    existing: readonly Mailbox[],
    private readonly pilots: Map<string, string>,
  ) {
    for (const m of existing) {
      this.owners.set(m.number, { mailbox: m.number });
      for (const a of m.aliases) this.owners.set(a, { mailbox: m.number });
    }
  }

  /** The aliases of a mailbox whose row sets its aliases are released before any row claims (as the store does). */
  release(aliases: readonly string[]): void {
    for (const a of aliases) this.owners.delete(a);
  }

  /** Why `number` cannot go to `mailbox` (as its number or an alias), or undefined after claiming it. */
  claim(number: string, mailbox: string, line: number, what: string): string | undefined {
    const pilot = this.pilots.get(number);
    if (pilot !== undefined) return `${what} ${number} is the ${pilot} pilot number`;
    const owner = this.owners.get(number);
    if (owner !== undefined && owner.mailbox !== mailbox) {
      const role = owner.mailbox === number ? 'mailbox' : `an alias of mailbox ${owner.mailbox}`;
      return `${what} ${number} is already ${role}${owner.line !== undefined ? ` (line ${owner.line})` : ' in the store'}`;
    }
    this.owners.set(number, { mailbox, line });
    return undefined;
  }
}

/** The pilot numbers (a mailbox may not take one), with their service. */
export function pilotsOf(config: Pick<ImportConfig, 'services'>): Map<string, string> {
  const pilots = new Map<string, string>();
  for (const service of ['voicemail', 'attendant', 'echo'] as const) for (const n of config.services[service]) pilots.set(n, service);
  return pilots;
}

/** Step 1 (see the module comment). */
export function planImport(text: string, existing: readonly Mailbox[], config: ImportConfig): ImportPlan {
  const csv = readMailboxCsv(text);
  const plan: ImportPlan = { create: [], update: [], unchanged: 0, pinsIgnored: 0, problems: [...csv.problems] };
  const byNumber = new Map(existing.map((m) => [m.number, m]));
  const checked = csv.rows.map((row) => ({ row, ...rowValues(row) }));
  const numbering = new Numbering(existing, pilotsOf(config));
  for (const { values } of checked) {
    const current = values && byNumber.get(values.number);
    if (current && values.fields.aliases !== undefined) numbering.release(current.aliases);
  }
  const lineOf = new Map<string, number>();
  for (const { row, values, problems } of checked) {
    const say = (message: string): void => void plan.problems.push({ line: row.line, message });
    problems.forEach(say);
    if (!values) continue;
    const first = lineOf.get(values.number);
    if (first !== undefined) {
      say(`mailbox ${values.number} is already on line ${first}`);
      continue;
    }
    lineOf.set(values.number, row.line);
    const current = byNumber.get(values.number);
    if (!current) {
      // Only when the cell is empty or absent: a bad one was reported as such.
      if (!row.cells.name?.trim()) say('name: a new mailbox needs a name');
      if (!row.cells.pin?.trim()) say('pin: a new mailbox needs a PIN');
      const taken = numbering.claim(values.number, values.number, row.line, 'number');
      if (taken !== undefined) say(taken);
    }
    for (const alias of values.fields.aliases ?? []) {
      const taken = alias === values.number ? `alias ${alias} is the mailbox's own number` : numbering.claim(alias, values.number, row.line, 'alias');
      if (taken !== undefined) say(taken);
    }
    if (problems.length > 0) continue;
    if (!current) {
      plan.create.push({ line: row.line, number: values.number, pin: values.pin, fields: values.fields, changes: [] });
      continue;
    }
    if (values.pin !== undefined) plan.pinsIgnored++;
    const changes = changedFields(current, values.fields);
    const inConfig = configEntry(config, current.number);
    if (inConfig) {
      const owned = ownedFields(inConfig.entry);
      for (const c of changes) {
        const key = owned.get(c.field);
        if (key !== undefined) say(`${c.field}: mailbox ${current.number}'s ${key} is set by the config file (mailboxes[${inConfig.index}].${key}): change it there`);
      }
    }
    if (changes.length === 0) plan.unchanged++;
    else plan.update.push({ line: row.line, number: current.number, fields: values.fields, changes });
  }
  plan.problems.sort((a, b) => a.line - b.line);
  return plan;
}

/** Step 2: one hash per distinct PIN, `inFlight` at a time; `onProgress(done, total)` after each. */
export async function hashPins(
  pins: Iterable<string>,
  onProgress?: (done: number, total: number) => void,
  inFlight = HASHES_IN_FLIGHT,
): Promise<Map<string, string>> {
  const todo = [...new Set(pins)];
  const hashes = new Map<string, string>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const pin = todo[next++]!;
      hashes.set(pin, await hashPin(pin));
      onProgress?.(hashes.size, todo.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, inFlight), todo.length) }, worker));
  return hashes;
}

/** Step 3: the plan as store rows (an update carries only the fields it changes), in one transaction. */
export async function applyImport(
  store: Pick<MessageStore, 'importMailboxes'>,
  plan: ImportPlan,
  hashes: ReadonlyMap<string, string>,
): Promise<{ created: number; updated: number }> {
  if (plan.problems.length > 0) throw new Error('an import with problems is not applied');
  const rows: MailboxImport[] = [
    ...plan.create.map((r) => ({ number: r.number, pinHash: hashes.get(r.pin!)!, fields: r.fields })),
    ...plan.update.map((r) => ({ number: r.number, fields: Object.fromEntries(r.changes.map((c) => [c.field, c.to])) as MailboxFields })),
  ];
  if (rows.length === 0) return { created: 0, updated: 0 };
  return store.importMailboxes(rows);
}

export interface ImportOutcome {
  plan: ImportPlan;
  /** Absent for a dry run or a plan with problems. */
  applied?: { created: number; updated: number };
}

/** The three steps (a dry run: the plan only). */
export async function importMailboxCsv(
  store: Pick<MessageStore, 'listMailboxes' | 'importMailboxes'>,
  config: ImportConfig,
  text: string,
  opts: { dryRun?: boolean; onHashProgress?: (done: number, total: number) => void; hashesInFlight?: number } = {},
): Promise<ImportOutcome> {
  const plan = planImport(text, await store.listMailboxes(), config);
  if (opts.dryRun || plan.problems.length > 0) return { plan };
  const hashes = await hashPins(
    plan.create.map((r) => r.pin!),
    opts.onHashProgress,
    opts.hashesInFlight,
  );
  return { plan, applied: await applyImport(store, plan, hashes) };
}
