/**
 * Drift between the config file's mailboxes and the store (README "Mailboxes: config file and store"): what
 * `vmpilot check` warns about when it can reach the store, and what `vmpilot mailbox prune` deletes.
 *   - mailboxes only in the store (created by the CLI, the API, an import, or removed from the config since):
 *     kept; listed so that nothing stays there unnoticed;
 *   - config mailboxes whose config-owned fields differ in the store: the next start (or store command) sets
 *     the config's values, and logs them; listed with both values so that it is no surprise;
 *   - config mailboxes not in the store yet: created at the next start.
 */
import { access } from 'node:fs/promises';
import type { Config } from '../config/schema.js';
import { storeLayout } from '../store/layout.js';
import { changedFields, describeChanges, specValues } from '../store/mailbox-diff.js';
import type { FieldChange, Mailbox } from '../store/types.js';
import { specsFromConfig } from './config-mailboxes.js';

export interface MailboxDrift {
  onlyInStore: string[];
  differing: { index: number; number: string; changes: FieldChange[] }[];
  notInStore: string[];
}

export function mailboxDrift(config: Pick<Config, 'mailboxes'>, stored: readonly Mailbox[]): MailboxDrift {
  const byNumber = new Map(stored.map((m) => [m.number, m]));
  const configured = new Set(config.mailboxes.map((m) => m.number));
  const drift: MailboxDrift = { onlyInStore: stored.filter((m) => !configured.has(m.number)).map((m) => m.number), differing: [], notInStore: [] };
  specsFromConfig(config).forEach((spec, index) => {
    const current = byNumber.get(spec.number);
    if (!current) return void drift.notInStore.push(spec.number);
    const changes = changedFields(current, specValues(spec));
    if (changes.length > 0) drift.differing.push({ index, number: spec.number, changes });
  });
  return drift;
}

/** Numbers listed in full up to this many; then "and N more". */
const LISTED = 20;

function numbers(list: readonly string[]): string {
  return list.length <= LISTED ? list.join(', ') : `${list.slice(0, LISTED).join(', ')} and ${list.length - LISTED} more`;
}

/** The drift as `check` warning lines (without the "warning: " prefix). */
export function driftWarnings(drift: MailboxDrift, mode: Config['mailboxesFromConfig']): string[] {
  const lines: string[] = [];
  if (drift.onlyInStore.length > 0) {
    const fate = mode === 'authoritative' ? '`vmpilot mailbox prune --yes` deletes them (mailboxesFromConfig: authoritative)' : 'kept (mailboxesFromConfig: seed)';
    lines.push(`mailboxes: ${drift.onlyInStore.length} mailbox(es) in the store are not in the config file, ${fate}: ${numbers(drift.onlyInStore)}`);
  }
  for (const d of drift.differing) {
    lines.push(`mailboxes[${d.index}]: mailbox ${d.number} differs in the store; the next start sets the config's values: ${describeChanges(d.changes)}`);
  }
  if (drift.notInStore.length > 0) lines.push(`mailboxes: not in the store yet, created at the next start: ${numbers(drift.notInStore)}`);
  return lines;
}

/**
 * The store's mailboxes, when the config's store can be read without changing it: a SQLite store that exists
 * at this version's schema (opening an older one would migrate it). Otherwise why not, in a line.
 */
export async function readStoreMailboxes(config: Config): Promise<Mailbox[] | string> {
  if (config.storage.url !== undefined) return 'storage.url: drift against a PostgreSQL store is not checked yet';
  const layout = storeLayout(config.storage.dir);
  try {
    await access(layout.dbFile);
  } catch {
    return `no store at ${config.storage.dir} yet`;
  }
  try {
    const [{ default: Database }, { SCHEMA_VERSION }, { openSqliteStore }] = await Promise.all([
      import('better-sqlite3'),
      import('../store/schema.sql.js'),
      import('../store/sqlite.js'),
    ]);
    const db = new Database(layout.dbFile, { readonly: true, fileMustExist: true });
    const version = db.pragma('user_version', { simple: true }) as number;
    db.close();
    if (version !== SCHEMA_VERSION) return `the store is at schema version ${version}, this vmpilot's is ${SCHEMA_VERSION} (the next start migrates it)`;
    const store = await openSqliteStore(config.storage.dir);
    try {
      return await store.listMailboxes();
    } finally {
      await store.close();
    }
  } catch (err) {
    return `cannot read the store in ${config.storage.dir}: ${err instanceof Error ? err.message : String(err)}`;
  }
}
