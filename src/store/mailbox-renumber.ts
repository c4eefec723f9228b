/**
 * Giving a mailbox a new number (store.renumberMailbox, `vmpilot mailbox set N --number NEW`): its messages,
 * greetings, aliases and PIN back-off follow. Audio paths derive from the number (layout.ts), so the
 * mailbox's two folders are renamed (one rename each on one file system, however many messages), and the
 * database rows are moved in one transaction with the foreign keys checked at its commit.
 *
 * Order: folders first, then the commit; a failed commit renames them back. FIXME: a crash between the
 * rename and the commit leaves rows naming the old folder and the audio in the new one; repair() then marks
 * those rows deleted and quarantines the audio (their sidecars name the old number): recoverable by hand
 * from orphans/, not automatically. A journal of the rename would close that window.
 *
 * Not here: the transaction and events (sqlite.ts).
 */
import { rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir } from './audio-files.js';
import { greetingPath, messageAudioPath, messageSidecarPath, type StoreLayout } from './layout.js';
import { writeMessageSidecar, type MessageSidecar } from './message-sidecar.js';

/**
 * Statements run with (new, old) inside one transaction whose foreign keys are deferred (PRAGMA
 * defer_foreign_keys): the parent's number and the children's references change together.
 */
export const RENUMBER_MAILBOX_SQL: readonly string[] = [
  'UPDATE mailboxes SET number = ? WHERE number = ?',
  'UPDATE messages SET mailbox = ? WHERE mailbox = ?',
  'UPDATE greetings SET mailbox = ? WHERE mailbox = ?',
  'UPDATE aliases SET mailbox = ? WHERE mailbox = ?',
];

const folders = (layout: StoreLayout, number: string): string[] => [
  dirname(messageAudioPath(layout, number, 'x')),
  dirname(greetingPath(layout, number, 'name')),
];

async function renameIfExists(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  await fsyncDir(dirname(to));
  return true;
}

/**
 * Moves the mailbox's message and greeting folders from the old number to the new, runs `commit`, and moves
 * them back if it throws. The new number's folders must not exist (a deleted mailbox's are removed with it).
 */
export async function moveMailboxFolders(layout: StoreLayout, from: string, to: string, commit: () => void): Promise<void> {
  const pairs = folders(layout, from).map((f, i) => [f, folders(layout, to)[i]!] as const);
  const moved: (readonly [string, string])[] = [];
  try {
    for (const pair of pairs) if (await renameIfExists(pair[0], pair[1])) moved.push(pair);
    commit();
  } catch (err) {
    for (const [a, b] of moved.reverse()) await renameIfExists(b, a).catch(() => undefined);
    throw err;
  }
}

/** After the commit: each message's sidecar names the new number (repair() reads it if a row is ever lost). */
export async function rewriteSidecars(layout: StoreLayout, messages: readonly MessageSidecar[]): Promise<void> {
  for (const meta of messages) await writeMessageSidecar(messageSidecarPath(layout, meta.mailbox, meta.id), meta);
}
