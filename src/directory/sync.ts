/**
 * One directory sync (issue 12): read the directory (ldap-source.ts), plan against the store and the
 * ownership file (sync-plan.ts), then apply:
 *   1. renumbers, one store call each (renumberMailbox moves messages, greetings and PIN with the number); one
 *      that fails is reported and the rest of that user's changes wait for the next sync;
 *   2. the ownership (kept in the store), with the mailboxes about to be created (ownership.ts says why first);
 *   3. creates, updates and disables in ONE store transaction (importMailboxes, shared with `mailbox import`);
 *      should it fail, the ownership is put back and the sync reports the error;
 *   4. random PINs mailed (new-pins.ts).
 * A dry run stops after the plan. Used by `vmpilot directory sync` and the serving process's schedule.
 */
import pino, { type Logger } from 'pino';
import { pilotsOf } from '../admin/mailbox-import.js';
import type { Config } from '../config/schema.js';
import type { FieldChange, MailboxImport, MessageStore } from '../store/types.js';
import type { EntryProblem } from './directory-user.js';
import { readDirectory } from './ldap-source.js';
import { mailPins, newPins } from './new-pins.js';
import { adoptOwnershipFile, loadOwnership, saveOwnership, type OwnershipStore } from './ownership.js';
import { planSync, type SyncPlan } from './sync-plan.js';
import { withSyncLock } from './sync-lock.js';

export interface SyncReport {
  dryRun: boolean;
  /** Entries the search returned, in how many pages. */
  entries: number;
  pages: number;
  created: { number: string; name: string; dn: string }[];
  updated: { number: string; dn: string; changes: FieldChange[] }[];
  renumbered: { from: string; to: string; dn: string }[];
  disabled: { number: string; dn: string; reason: string }[];
  skipped: EntryProblem[];
  unchanged: number;
  inactive: number;
  /** Random PINs that could not be mailed: for the administrator to hand out (never logged). */
  pinsToHandOut: { number: string; pin: string; why: string }[];
  seconds: number;
}

export type SyncStore = Pick<MessageStore, 'listMailboxes' | 'importMailboxes' | 'renumberMailbox'> & OwnershipStore;

function reportOf(plan: SyncPlan, read: { entries: number; pages: number }, dryRun: boolean): SyncReport {
  return {
    dryRun,
    entries: read.entries,
    pages: read.pages,
    created: plan.create.map((u) => ({ number: u.number, name: u.name, dn: u.dn })),
    updated: plan.update.map((p) => ({ number: p.user.number, dn: p.user.dn, changes: p.changes })),
    renumbered: plan.renumber.map((r) => ({ from: r.from, to: r.user.number, dn: r.user.dn })),
    disabled: plan.disable.map((d) => ({ number: d.number, dn: d.dn, reason: d.reason })),
    skipped: plan.skipped,
    unchanged: plan.unchanged,
    inactive: plan.inactive,
    pinsToHandOut: [],
    seconds: 0,
  };
}

/** Step 1: renumbers; a failed one drops that user's other changes from the plan and keeps its old number. */
async function renumber(store: SyncStore, plan: SyncPlan, report: SyncReport): Promise<void> {
  for (const r of plan.renumber) {
    try {
      await store.renumberMailbox(r.from, r.user.number);
    } catch (err) {
      report.renumbered = report.renumbered.filter((x) => x.dn !== r.user.dn);
      report.updated = report.updated.filter((x) => x.dn !== r.user.dn);
      report.skipped.push({ dn: r.user.dn, id: r.user.id, reason: `renumber ${r.from} → ${r.user.number} failed: ${(err as Error).message}` });
      plan.update = plan.update.filter((u) => u.user.id !== r.user.id);
      plan.owned.set(r.user.id, { number: r.from, dn: r.user.dn });
    }
  }
}

/** A sync (a dry run: the plan only). Rejects with DirectoryError, SyncBusyError, or the store's error (nothing applied). */
export interface SyncOptions {
  dryRun?: boolean;
  /** PIN hashes at once (new-pins.ts); default 4. */
  hashesInFlight?: number;
  /** Where the import of an old ownership file is logged. Default: not logged. */
  logger?: Logger;
}

const silent = pino({ level: 'silent' });

export async function syncDirectory(store: SyncStore, config: Config, opts: SyncOptions = {}): Promise<SyncReport> {
  // A dry run writes nothing: it needs no lock.
  if (opts.dryRun === true) return syncLocked(store, config, true, opts);
  return withSyncLock(config.storage, () => syncLocked(store, config, false, opts));
}

async function syncLocked(store: SyncStore, config: Config, dryRun: boolean, opts: SyncOptions): Promise<SyncReport> {
  const ldap = config.directory?.ldap;
  if (!ldap) throw new TypeError('the config has no directory.ldap section');
  const started = performance.now();
  const read = await readDirectory(ldap);
  // A site upgraded from a version that kept the ownership in a file, synced by hand before the server started.
  if (!dryRun) await adoptOwnershipFile(store, config.storage.dir, opts.logger ?? silent);
  const owned = await loadOwnership(store);
  const plan = planSync(read.users, read.problems, owned, await store.listMailboxes(), pilotsOf(config));
  const report = reportOf(plan, read, dryRun);
  if (!dryRun) {
    await renumber(store, plan, report);
    const pins = await newPins(plan.create, ldap, opts.hashesInFlight);
    const rows: MailboxImport[] = [
      ...plan.create.map((u) => ({ number: u.number, pinHash: pins.hashes.get(u.number)!, fields: { name: u.name, email: u.email, aliases: u.aliases } })),
      ...plan.update.map((p) => ({ number: p.user.number, fields: p.fields })),
      ...plan.disable.map((d) => ({ number: d.number, fields: { locked: true, hiddenFromDirectory: true } })),
    ];
    const before = plan.renumber.length > 0 ? new Map([...owned, ...[...plan.owned].filter(([id]) => plan.renumber.some((r) => r.user.id === id))]) : owned;
    // Only what changed is written (nothing, most syncs).
    await saveOwnership(store, owned, plan.owned);
    if (rows.length > 0) {
      try {
        await store.importMailboxes(rows);
      } catch (err) {
        // Renumbers are done: the ownership keeps them; the rest is as before.
        await saveOwnership(store, plan.owned, before);
        throw err;
      }
    }
    const undelivered = await mailPins(plan.create, pins.clear, config.smtp);
    report.pinsToHandOut = [...undelivered].map(([number, why]) => ({ number, pin: pins.clear.get(number)!, why }));
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}
