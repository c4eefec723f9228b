/**
 * Deleting a mailbox for good (store.deleteMailbox, `vmpilot mailbox delete`, DELETE /api/mailboxes/:n): its
 * row, aliases, greetings, messages, MWI subscriptions and PIN back-off, in one transaction, and the files
 * around it in the order of message-files.ts (sidecars before the rows, audio after), so that a crash halfway
 * leaves at worst audio without metadata that repair() quarantines, never a deleted message brought back.
 *
 * Not here: the transaction and the events (sqlite.ts, which runs the SQL below through its own helpers).
 */
import { readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { fsyncDir } from './audio-files.js';
import { greetingPath, messageAudioPath, type StoreLayout } from './layout.js';
import { quarantine } from './repair.js';

/**
 * The statements that remove a mailbox's rows, children first (messages and pin_failures have no ON DELETE
 * CASCADE; aliases and greetings do, deleted here anyway so the order is explicit). mwi_subscriptions is not
 * a foreign key (a number without a mailbox may be subscribed to): its rows go too, so a restarted server does
 * not keep a dialog for a mailbox that is gone. A running server's live subscriptions to the number stay
 * (mwi/subscriptions.ts answers a number with no mailbox "no messages"): they get the final zero NOTIFY.
 */
export const REMOVE_MAILBOX_SQL: readonly string[] = [
  'DELETE FROM messages WHERE mailbox = ?',
  'DELETE FROM greetings WHERE mailbox = ?',
  'DELETE FROM aliases WHERE mailbox = ?',
  'DELETE FROM mwi_subscriptions WHERE mailbox = ?',
  'DELETE FROM mailboxes WHERE number = ?',
];

/**
 * After the rows are committed: the mailbox's message and greeting folders, then their parents fsynced so the
 * removal survives a power cut. In the message folder, what is not a removed message's is kept for an
 * administrator, not deleted: a deposit another process (or, on PostgreSQL, an outage) had placed there without
 * a row yet goes to orphans/<number>/ (mailbox-gone.ts: the deposit then reports the mailbox gone). With
 * `cachedCopies` (PostgreSQL) a WAV without a sidecar beside it is a cached copy of a removed message and is
 * deleted; without it (SQLite, whose removed messages' files are gone already) every WAV left is kept.
 */
export async function removeMailboxFiles(layout: StoreLayout, number: string, opts: { cachedCopies: boolean; logger?: Logger }): Promise<void> {
  const messages = dirname(messageAudioPath(layout, number, 'x'));
  const names = new Set(await readdir(messages).catch(() => [] as string[]));
  const kept: string[] = [];
  for (const name of names) {
    const sidecar = name.replace(/\.wav$/, '.json');
    if (!name.endsWith('.wav') || (opts.cachedCopies && !names.has(sidecar))) continue;
    kept.push(await quarantine({ layout }, number, join(messages, name), name));
    if (names.has(sidecar)) await quarantine({ layout }, number, join(messages, sidecar), sidecar);
  }
  if (kept.length > 0) opts.logger?.error({ mailbox: number, files: kept }, 'deleted mailbox held messages not yet stored: kept in orphans/ for an administrator');
  for (const folder of [messages, dirname(greetingPath(layout, number, 'name'))]) {
    await rm(folder, { recursive: true, force: true });
    await fsyncDir(dirname(folder)).catch(() => undefined);
  }
}
