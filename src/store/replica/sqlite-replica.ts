/**
 * StoreReplica (replica/types.ts) for the embedded store: rows in its SQLite database, audio in its files
 * (layout.ts), on the store's own connection (SqliteStore.replica()), so writes take the store's write lock,
 * retries and change feed.
 *
 * Durability as in the store: a message's sidecar and audio, then their folder, are fsynced before the row
 * is committed; a greeting's audio before its row; rows are removed before their files.
 *
 * Greeting digests are cached by (path, size, mtime, inode): the mirror's sweep asks for every greeting's
 * digest every minute, and re-reading every greeting file each time would be the sweep's whole cost.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { fsyncDir, unlinkIfExists, writeFileDurably } from '../audio-files.js';
import type { ChangeKind } from '../change-feed.js';
import { greetingPath, messageAudioPath, messageSidecarPath, type StoreLayout } from '../layout.js';
import { removeMessages } from '../message-files.js';
import { writeMessageSidecar } from '../message-sidecar.js';
import type { MailboxRow, MessageRow } from '../rows.js';
import type { DirectoryOwned, GreetingKind, StoredSubscription } from '../types.js';
import {
  DELETE_QUEUED_APPENDS_OF_SQL,
  DELETE_QUEUED_APPENDS_SQL,
  LIST_OWNED_SQL,
  LIST_QUEUED_APPENDS_SQL,
  ownedValues,
  PUT_OWNED_SQL,
  PUT_QUEUED_APPEND_SQL,
  queuedAppendValues,
  toOwned,
  toQueuedAppend,
  type DirectoryOwnedRow,
  type QueuedAppendRow,
} from '../leader-tables.js';
import { DELETE_QUEUED_OF_SQL, DELETE_QUEUED_SQL, LIST_QUEUED_SQL, PUT_QUEUED_SQL, queuedValues, toQueuedMail, type QueuedMailRow } from '../mail-queue-table.js';
import { MAILBOX_COLUMNS, MESSAGE_COLUMNS, mailboxContent, mailboxValues, messageContent, messageValues, upsertSet } from './content.js';
import { ofMailboxes, type GreetingContent, type MailboxContent, type MessageContent, type MessageState, type QueuedImapAppend, type QueuedMail, type StoreReplica } from './types.js';

/** What the replica needs from SqliteStore (its connection's helpers, not the connection's ownership). */
export interface SqliteReplicaHost {
  layout: StoreLayout;
  sql(text: string): Database.Statement;
  /** A write transaction (write-transaction.ts). */
  write<T>(fn: () => T): T;
  /** Inside a transaction: appends to the change feed. */
  logChange(mailbox: string, kind: ChangeKind): void;
  /** Closes the store. */
  close(): Promise<void>;
}

interface CachedDigest {
  size: number;
  mtimeMs: number;
  ino: number;
  sha256: string;
}

/** `IN` a list given as one JSON array parameter (any length, one prepared statement). */
const IN_LIST = '(SELECT value FROM json_each(?))';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** The file's bytes; undefined when it does not exist. */
async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export class SqliteReplica implements StoreReplica {
  readonly description: string;
  private readonly digests = new Map<string, CachedDigest>();

  constructor(private readonly host: SqliteReplicaHost) {
    this.description = `sqlite:${host.layout.dir}`;
  }

  async mailboxes(numbers?: readonly string[]): Promise<MailboxContent[]> {
    const { sql } = this.host;
    const rows = (
      numbers === undefined ? sql('SELECT * FROM mailboxes ORDER BY number').all() : sql(`SELECT * FROM mailboxes WHERE number IN ${IN_LIST} ORDER BY number`).all(JSON.stringify(numbers))
    ) as MailboxRow[];
    const aliasRows = (
      numbers === undefined
        ? sql('SELECT alias, mailbox FROM aliases ORDER BY alias').all()
        : sql(`SELECT alias, mailbox FROM aliases WHERE mailbox IN ${IN_LIST} ORDER BY alias`).all(JSON.stringify(numbers))
    ) as { alias: string; mailbox: string }[];
    const aliases = new Map<string, string[]>();
    for (const { alias, mailbox } of aliasRows) aliases.set(mailbox, [...(aliases.get(mailbox) ?? []), alias]);
    return rows.map((r) => mailboxContent(r, aliases.get(r.number) ?? []));
  }

  async mailbox(number: string): Promise<MailboxContent | undefined> {
    return (await this.mailboxes([number]))[0];
  }

  async messages(mailboxes?: readonly string[]): Promise<MessageContent[]> {
    const rows = (
      mailboxes === undefined
        ? this.host.sql('SELECT * FROM messages ORDER BY id').all()
        : this.host.sql(`SELECT * FROM messages WHERE mailbox IN ${IN_LIST} ORDER BY id`).all(JSON.stringify(mailboxes))
    ) as MessageRow[];
    return rows.map(messageContent);
  }

  async messageAudio(message: Pick<MessageContent, 'id' | 'mailbox'>): Promise<Buffer | undefined> {
    return readIfExists(messageAudioPath(this.host.layout, message.mailbox, message.id));
  }

  async greetings(mailboxes?: readonly string[]): Promise<GreetingContent[]> {
    const rows = (
      mailboxes === undefined
        ? this.host.sql('SELECT mailbox, kind FROM greetings ORDER BY mailbox, kind').all()
        : this.host.sql(`SELECT mailbox, kind FROM greetings WHERE mailbox IN ${IN_LIST} ORDER BY mailbox, kind`).all(JSON.stringify(mailboxes))
    ) as { mailbox: string; kind: GreetingKind }[];
    const out: GreetingContent[] = [];
    for (const r of rows) {
      const digest = await this.greetingDigest(greetingPath(this.host.layout, r.mailbox, r.kind));
      // A row whose file is missing is reported with an empty digest: a difference verify shows.
      out.push({ mailbox: r.mailbox, kind: r.kind, sha256: digest?.sha256 ?? '', bytes: digest?.size ?? 0 });
    }
    return out;
  }

  async greetingAudio(mailbox: string, kind: GreetingKind): Promise<Buffer | undefined> {
    if (!this.host.sql('SELECT 1 FROM greetings WHERE mailbox = ? AND kind = ?').get(mailbox, kind)) return undefined;
    return readIfExists(greetingPath(this.host.layout, mailbox, kind));
  }

  async subscriptions(): Promise<StoredSubscription[]> {
    const rows = this.host.sql('SELECT id, mailbox, source, expires_at, data FROM mwi_subscriptions ORDER BY id').all() as {
      id: string;
      mailbox: string;
      source: string;
      expires_at: number;
      data: string;
    }[];
    return rows.map((r) => ({ id: r.id, mailbox: r.mailbox, source: r.source, expiresAt: r.expires_at, data: r.data }));
  }

  async directoryOwned(): Promise<DirectoryOwned[]> {
    return (this.host.sql(LIST_OWNED_SQL).all() as DirectoryOwnedRow[]).map(toOwned);
  }

  async putMailbox(m: MailboxContent): Promise<void> {
    const { sql } = this.host;
    this.host.write(() => {
      sql(
        `INSERT INTO mailboxes (${MAILBOX_COLUMNS.join(', ')}) VALUES (${MAILBOX_COLUMNS.map(() => '?').join(', ')})
         ON CONFLICT (number) DO UPDATE SET ${upsertSet(MAILBOX_COLUMNS)}`,
      ).run(...mailboxValues(m));
      sql('DELETE FROM aliases WHERE mailbox = ?').run(m.number);
      for (const alias of m.aliases) {
        // The primary moved this alias here: whoever holds it on this side loses it.
        sql('DELETE FROM aliases WHERE alias = ?').run(alias);
        sql('INSERT INTO aliases (alias, mailbox) VALUES (?, ?)').run(alias, m.number);
      }
      this.host.logChange(m.number, 'mailbox');
    });
  }

  async removeMailbox(number: string): Promise<void> {
    const messages = this.host.sql('SELECT id, mailbox FROM messages WHERE mailbox = ?').all(number) as { id: string; mailbox: string }[];
    await this.removeMessages(messages);
    const kinds = this.host.sql('SELECT kind FROM greetings WHERE mailbox = ?').pluck().all(number) as GreetingKind[];
    this.host.write(() => {
      // Aliases and greeting rows go with it (ON DELETE CASCADE).
      this.host.sql('DELETE FROM mailboxes WHERE number = ?').run(number);
      this.host.logChange(number, 'mailbox');
    });
    for (const kind of kinds) await unlinkIfExists(greetingPath(this.host.layout, number, kind));
  }

  async putMessages(items: readonly { message: MessageContent; audio: Buffer }[]): Promise<void> {
    if (items.length === 0) return;
    const { layout, sql } = this.host;
    // The files of a batch are written side by side: their fsyncs overlap (the file system commits them
    // together) instead of queueing one behind the other.
    await Promise.all(
      items.map(async ({ message: m, audio }) => {
        const { folder: _f, heard: _h, ...meta } = m;
        await writeMessageSidecar(messageSidecarPath(layout, m.mailbox, m.id), meta);
        await writeFileDurably(messageAudioPath(layout, m.mailbox, m.id), audio);
      }),
    );
    // One fsync per folder for the whole batch, before any row points at the files.
    for (const folder of new Set(items.map(({ message }) => dirname(messageAudioPath(layout, message.mailbox, message.id))))) await fsyncDir(folder);
    const insert = sql(`INSERT OR REPLACE INTO messages (${MESSAGE_COLUMNS.join(', ')}) VALUES (${MESSAGE_COLUMNS.map(() => '?').join(', ')})`);
    const previous = sql('SELECT mailbox FROM messages WHERE id = ?').pluck();
    // Rows that move to another mailbox (renumbered on the source) leave files behind in the old folder.
    const leftBehind = items
      .map(({ message: m }) => ({ id: m.id, mailbox: previous.get(m.id) as string | undefined, now: m.mailbox }))
      .filter((r): r is { id: string; mailbox: string; now: string } => r.mailbox !== undefined && r.mailbox !== r.now);
    this.host.write(() => {
      for (const { message } of items) insert.run(...messageValues(message));
      for (const mailbox of new Set([...items.map(({ message }) => message.mailbox), ...leftBehind.map((r) => r.mailbox)])) this.host.logChange(mailbox, 'counts');
    });
    for (const r of leftBehind) {
      await unlinkIfExists(messageSidecarPath(layout, r.mailbox, r.id));
      await unlinkIfExists(messageAudioPath(layout, r.mailbox, r.id));
    }
  }

  async updateMessages(states: readonly MessageState[]): Promise<void> {
    if (states.length === 0) return;
    const { sql } = this.host;
    this.host.write(() => {
      const changed = new Set<string>();
      for (const s of states) {
        const mailbox = sql('SELECT mailbox FROM messages WHERE id = ?').pluck().get(s.id) as string | undefined;
        if (mailbox === undefined) continue;
        sql('UPDATE messages SET folder = ?, heard = ?, urgent = ? WHERE id = ?').run(s.folder, s.heard ? 1 : 0, s.urgent ? 1 : 0, s.id);
        changed.add(mailbox);
      }
      for (const mailbox of changed) this.host.logChange(mailbox, 'counts');
    });
  }

  async removeMessages(messages: readonly Pick<MessageContent, 'id' | 'mailbox'>[]): Promise<void> {
    if (messages.length === 0) return;
    const del = this.host.sql('DELETE FROM messages WHERE id = ?');
    await removeMessages(this.host.layout, messages, () =>
      this.host.write(() => {
        for (const m of messages) del.run(m.id);
        for (const mailbox of new Set(messages.map((m) => m.mailbox))) this.host.logChange(mailbox, 'counts');
      }),
    );
  }

  async putGreeting(mailbox: string, kind: GreetingKind, audio: Buffer | undefined): Promise<void> {
    const path = greetingPath(this.host.layout, mailbox, kind);
    if (audio !== undefined) {
      await writeFileDurably(path, audio);
      await fsyncDir(dirname(path));
    }
    this.host.write(() => {
      if (audio !== undefined) this.host.sql('INSERT OR IGNORE INTO greetings (mailbox, kind) VALUES (?, ?)').run(mailbox, kind);
      else this.host.sql('DELETE FROM greetings WHERE mailbox = ? AND kind = ?').run(mailbox, kind);
      this.host.logChange(mailbox, 'mailbox');
    });
    if (audio === undefined && (await unlinkIfExists(path))) await fsyncDir(dirname(path));
  }

  async replaceSubscriptions(subscriptions: readonly StoredSubscription[]): Promise<void> {
    const { sql } = this.host;
    this.host.write(() => {
      sql('DELETE FROM mwi_subscriptions').run();
      const insert = sql('INSERT INTO mwi_subscriptions (id, mailbox, source, expires_at, data) VALUES (?, ?, ?, ?, ?)');
      for (const s of subscriptions) insert.run(s.id, s.mailbox, s.source, s.expiresAt, s.data);
    });
  }

  async replaceDirectoryOwned(owned: readonly DirectoryOwned[]): Promise<void> {
    const { sql } = this.host;
    this.host.write(() => {
      sql('DELETE FROM directory_owned').run();
      for (const o of owned) sql(PUT_OWNED_SQL).run(...ownedValues(o));
    });
  }

  async mailQueue(mailboxes?: readonly string[]): Promise<QueuedMail[]> {
    return ofMailboxes((this.host.sql(LIST_QUEUED_SQL).all() as QueuedMailRow[]).map(toQueuedMail), mailboxes);
  }

  async imapAppends(mailboxes?: readonly string[]): Promise<QueuedImapAppend[]> {
    return ofMailboxes((this.host.sql(LIST_QUEUED_APPENDS_SQL).all() as QueuedAppendRow[]).map(toQueuedAppend), mailboxes);
  }

  async replaceImapAppends(appends: readonly QueuedImapAppend[], mailboxes?: readonly string[]): Promise<void> {
    this.replaceQueue(ofMailboxes(appends, mailboxes), mailboxes, { all: DELETE_QUEUED_APPENDS_SQL, of: DELETE_QUEUED_APPENDS_OF_SQL, put: PUT_QUEUED_APPEND_SQL }, queuedAppendValues);
  }

  async replaceMailQueue(mails: readonly QueuedMail[], mailboxes?: readonly string[]): Promise<void> {
    this.replaceQueue(ofMailboxes(mails, mailboxes), mailboxes, { all: DELETE_QUEUED_SQL, of: DELETE_QUEUED_OF_SQL, put: PUT_QUEUED_SQL }, queuedValues);
  }

  /** A queue table's rows of these mailboxes (all: every row) replaced by `rows`, in one transaction. */
  private replaceQueue<T>(rows: readonly T[], mailboxes: readonly string[] | undefined, statements: { all: string; of: string; put: string }, values: (row: T) => unknown[]): void {
    const { sql } = this.host;
    this.host.write(() => {
      if (mailboxes === undefined) sql(statements.all).run();
      else for (const m of mailboxes) sql(statements.of).run(m);
      for (const row of rows) sql(statements.put).run(...values(row));
    });
  }

  close(): Promise<void> {
    return this.host.close();
  }


  /** The digest of a greeting file, from the cache while the file is unchanged; undefined when it is missing. */
  private async greetingDigest(path: string): Promise<CachedDigest | undefined> {
    let info;
    try {
      info = await stat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const cached = this.digests.get(path);
    if (cached && cached.size === info.size && cached.mtimeMs === info.mtimeMs && cached.ino === info.ino) return cached;
    const data = await readIfExists(path);
    if (data === undefined) return undefined;
    const digest = { size: info.size, mtimeMs: info.mtimeMs, ino: info.ino, sha256: sha256(data) };
    this.digests.set(path, digest);
    return digest;
  }
}
