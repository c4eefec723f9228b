/**
 * Giving a mailbox a new number (store.renumberMailbox, `vmpilot mailbox set N --number NEW`): its messages,
 * greetings, aliases and PIN back-off follow. Audio paths derive from the number (layout.ts), so the
 * mailbox's two folders are renamed (one rename each on one file system, however many messages), the database
 * rows are moved in one transaction, and each message sidecar is rewritten to name the new number (repair reads
 * sidecars: a message whose sidecar names another mailbox would be quarantined, not re-attached).
 *
 * Order. SQLite (the audio is the message): the folders are renamed inside the commit's transaction (under the
 * write lock, see RenumberCommit); a failed commit renames them back.
 * PostgreSQL (the folders are this host's cache, plus deposits kept during an outage): the commit first, then the
 * folders. Either way the files and the database disagree for a moment, so the renumber is journaled: a file
 * `renumbering/<old>.json` ({from, to}) is written and fsynced before anything moves and removed once all is done.
 * A crash in between leaves the journal; start-up repair (finishRenumbers, before its other passes) asks the
 * database how far it got: `to` is a mailbox → committed, the folders are moved (merged) to `to` and the sidecars
 * rewritten; otherwise whatever was renamed goes back to `from`. Either way every message ends in the folder its
 * row names, never in orphans/.
 *
 * Not here: the transactions and events (sqlite.ts, postgres.ts).
 */
import { closeSync, constants, fsyncSync, openSync, renameSync } from 'node:fs';
import { mkdir, readdir, rename, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { fsyncDir, readJsonFile, unlinkIfExists, writeFileDurably } from './audio-files.js';
import { greetingPath, messageAudioPath, messageSidecarPath, type StoreLayout } from './layout.js';
import { readMessageSidecar, writeMessageSidecar } from './message-sidecar.js';
import { testCrashPoint } from './test-crash-point.js';

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

/**
 * Inside the renumber's transaction (old, new, now): remembered, so that a deposit for the old number from a call
 * that began before (or kept through an outage, or recovered by repair) lands in the renumbered mailbox
 * (followRenumbers). Trimmed once older than RENUMBER_MEMORY_MS (trimRenumbers, at retention.ts's hourly pass).
 */
export const RECORD_RENUMBER_SQL =
  'INSERT INTO renumbered_mailboxes (old, new, at) VALUES (?, ?, ?) ON CONFLICT (old) DO UPDATE SET new = excluded.new, at = excluded.at';
export const RENUMBERED_TO_SQL = 'SELECT new FROM renumbered_mailboxes WHERE old = ?';
/** Forgets renumbers made before (ms since epoch). */
export const TRIM_RENUMBERS_SQL = 'DELETE FROM renumbered_mailboxes WHERE at < ?';

/**
 * How long a renumber is remembered: far beyond the longest call that can still deposit for the old number
 * (voicemail.maxMessageSeconds is at most an hour) and beyond a start-up repair after a crash or a PostgreSQL
 * outage of days. A deposit for the old number later than that finds no mailbox and is kept in orphans/
 * (mailbox-gone.ts), never lost.
 */
export const RENUMBER_MEMORY_MS = 7 * 86_400_000;

/** Renumbers followed at most (old -> new -> newer ...): a loop in the records ends here. */
const MAX_RENUMBER_HOPS = 8;

/** What followRenumbers asks the store. */
export interface RenumberLookup {
  mailboxNumber(numberOrAlias: string): string | undefined | Promise<string | undefined>;
  renumberedTo(old: string): string | undefined | Promise<string | undefined>;
}

/**
 * For a deposit whose number is no mailbox now (the call began before another process or host renumbered it; in
 * one process renumbers wait for the mailbox's deposits): the mailbox it went to, logged. Undefined: deleted.
 */
export async function renumberedDuringCall(number: string, lookup: RenumberLookup, logger: Logger | undefined): Promise<string | undefined> {
  const now = await followRenumbers(number, lookup);
  if (now !== undefined) logger?.warn({ mailbox: number, renumbered: now }, 'mailbox renumbered during the call: message deposited under its new number');
  return now;
}

/**
 * The mailbox number a deposit for `number` goes to: the mailbox (or alias owner) `number` names, else the
 * mailbox it was renumbered to, following later renumbers. Undefined: no such mailbox (never was, or deleted).
 */
export async function followRenumbers(number: string, lookup: RenumberLookup): Promise<string | undefined> {
  let n: string | undefined = number;
  for (let hop = 0; n !== undefined && hop <= MAX_RENUMBER_HOPS; hop++) {
    const mailbox = await lookup.mailboxNumber(n);
    if (mailbox !== undefined) return mailbox;
    n = await lookup.renumberedTo(n);
  }
  return undefined;
}

interface Journal {
  from: string;
  to: string;
}

const journalDir = (layout: StoreLayout): string => join(layout.dir, 'renumbering');

const folders = (layout: StoreLayout, number: string): string[] => [
  dirname(messageAudioPath(layout, number, 'x')),
  dirname(greetingPath(layout, number, 'name')),
];

const folderPairs = (layout: StoreLayout, from: string, to: string): (readonly [string, string])[] =>
  folders(layout, from).map((f, i) => [f, folders(layout, to)[i]!] as const);

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

/** How the store commits a renumber: its transaction, and whether it runs before the folders move (PostgreSQL). */
export interface RenumberCommit {
  /**
   * The store's transaction. SQLite (commitFirst false) calls `moveFiles` inside it, holding the database's write
   * lock: a deposit in another process then inserts its row either before the renumber (its files are already
   * placed, and the rename takes them along) or after it (its insert fails on the foreign key and it follows the
   * renumber, sqlite.ts store()), never between the rename and the commit. PostgreSQL ignores it.
   */
  commit: (moveFiles: () => void) => unknown;
  /** true: commit, then move the folders (a failure to move is logged: they are a cache). false: inside. */
  commitFirst: boolean;
  logger?: Logger;
}

/** Renumbers the mailbox's files around `commit`, journaled (see the module comment). */
export async function renumberFiles(layout: StoreLayout, from: string, to: string, how: RenumberCommit): Promise<void> {
  const journal = join(journalDir(layout), `${from}.json`);
  await writeFileDurably(journal, JSON.stringify({ from, to } satisfies Journal));
  await fsyncDir(journalDir(layout));
  const moved: (readonly [string, string])[] = [];
  const moveFiles = (): void => {
    for (const pair of folderPairs(layout, from, to)) if (renameSyncIfExists(pair[0], pair[1])) moved.push(pair);
    testCrashPoint('renumber-files-moved');
  };
  try {
    await how.commit(how.commitFirst ? () => undefined : moveFiles);
  } catch (err) {
    for (const [a, b] of moved.reverse()) await renameIfExists(b, a).catch(() => undefined);
    await unlinkIfExists(journal);
    throw err;
  }
  testCrashPoint('renumber-committed');
  if (how.commitFirst) {
    try {
      for (const [a, b] of folderPairs(layout, from, to)) await renameIfExists(a, b);
      testCrashPoint('renumber-files-moved');
    } catch (err) {
      how.logger?.warn({ err, from, to }, 'cached audio not moved to the new number');
    }
  }
  await relabelSidecars(layout, from, to);
  await unlinkIfExists(journal);
}

/** renameIfExists inside a transaction (synchronous: better-sqlite3's transactions are), the folder fsynced. */
function renameSyncIfExists(from: string, to: string): boolean {
  try {
    renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  const fd = openSync(dirname(to), constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Each message sidecar in the new number's folder that names the old number names the new one. */
async function relabelSidecars(layout: StoreLayout, from: string, to: string): Promise<void> {
  const dir = dirname(messageSidecarPath(layout, to, 'x'));
  for (const name of await namesIn(dir)) {
    if (!name.endsWith('.json')) continue;
    const meta = await readMessageSidecar(join(dir, name));
    if (meta?.mailbox === from) await writeMessageSidecar(join(dir, name), { ...meta, mailbox: to });
  }
}

async function namesIn(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Moves folder `a` into `b`: renamed when `b` is absent, else file by file (a file `b` has already stays in `a`). */
async function mergeFolder(a: string, b: string): Promise<void> {
  const names = await namesIn(a);
  if (names.length === 0) {
    await rmdir(a).catch(() => undefined);
    return;
  }
  await mkdir(b, { recursive: true });
  const there = new Set(await namesIn(b));
  for (const name of names) if (!there.has(name)) await rename(join(a, name), join(b, name));
  await fsyncDir(b);
  await rmdir(a).catch(() => undefined);
}

/**
 * Start-up repair's first step: finishes or rolls back each renumber a crash interrupted (the module comment
 * says how). `mailboxOf` is the store's: the mailbox number for a number, if it exists.
 */
export async function finishRenumbers(host: {
  layout: StoreLayout;
  logger: Logger | undefined;
  mailboxOf(number: string): string | undefined | Promise<string | undefined>;
}): Promise<void> {
  const dir = journalDir(host.layout);
  for (const name of await namesIn(dir)) {
    const path = join(dir, name);
    const journal = name.endsWith('.json') ? ((await readJsonFile(path)) as Partial<Journal> | undefined) : undefined;
    if (typeof journal?.from === 'string' && typeof journal.to === 'string') {
      const { from, to } = journal;
      const committed = (await host.mailboxOf(to)) === to;
      for (const [a, b] of committed ? folderPairs(host.layout, from, to) : folderPairs(host.layout, to, from)) await mergeFolder(a, b);
      if (committed) await relabelSidecars(host.layout, from, to);
      host.logger?.warn({ from, to }, committed ? 'renumber interrupted by a crash: finished' : 'renumber interrupted by a crash: rolled back');
    }
    // A journal not written whole (.part, unreadable) is from a renumber that had not moved anything yet.
    await unlinkIfExists(path);
  }
  await fsyncDir(dir).catch(() => undefined);
}
