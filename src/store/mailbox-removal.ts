/**
 * Deleting a mailbox for good (store.deleteMailbox, `vmpilot mailbox delete`, DELETE /api/mailboxes/:n): its
 * row, aliases, greetings, messages, MWI subscriptions and PIN back-off, in one transaction, and the files
 * around it in the order of message-files.ts (sidecars before the rows, audio after), so that a crash halfway
 * leaves at worst audio without metadata that repair() quarantines, never a deleted message brought back.
 *
 * Not here: the transaction and the events (sqlite.ts, which runs the SQL below through its own helpers).
 */
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir } from './audio-files.js';
import { greetingPath, messageAudioPath, type StoreLayout } from './layout.js';

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
 * After the rows are committed: the mailbox's message and greeting folders, whole (audio, sidecars, anything
 * a crash left there), then their parents fsynced so the removal survives a power cut.
 */
export async function removeMailboxFiles(layout: StoreLayout, number: string): Promise<void> {
  const folders = [dirname(messageAudioPath(layout, number, 'x')), dirname(greetingPath(layout, number, 'name'))];
  for (const folder of folders) {
    await rm(folder, { recursive: true, force: true });
    await fsyncDir(dirname(folder)).catch(() => undefined);
  }
}
