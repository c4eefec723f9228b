/**
 * The tables of the jobs only a site's leader runs (schema.sql.ts migration 7), in SQLite; pg/leader-tables.ts
 * is the PostgreSQL twin and shares the statements here.
 *
 *  - directory_owned: which mailboxes the directory sync owns (directory/ownership.ts).
 *  - imap_appends: the IMAP append queue (unified/imap-sync.ts). A claim is a lease taken inside an IMMEDIATE
 *    write transaction, as mail_queue's (mail-queue-table.ts says why that makes it exclusive): a lease that
 *    runs out (its holder died mid-append: it renews a short lease while it works, append-drain.ts) frees the
 *    job for another claim. A second APPEND is harmless: the
 *    sync searches the folder for the message's header before appending.
 */
import type Database from 'better-sqlite3';
import type { QueuedImapAppend } from './replica/types.js';
import type { DirectoryOwned, ImapAppendJob, ImapAppendQueueStats } from './types.js';

export interface DirectoryOwnedRow {
  entry_id: string;
  number: string;
  dn: string;
  disabled: number;
}

export interface ImapAppendRow {
  message_id: string;
  mailbox: string;
  attempts: number;
}

export const LIST_OWNED_SQL = 'SELECT entry_id, number, dn, disabled FROM directory_owned ORDER BY entry_id';
export const PUT_OWNED_SQL =
  'INSERT INTO directory_owned (entry_id, number, dn, disabled) VALUES (?, ?, ?, ?) ON CONFLICT (entry_id) DO UPDATE SET number = excluded.number, dn = excluded.dn, disabled = excluded.disabled';
export const DELETE_OWNED_SQL = 'DELETE FROM directory_owned WHERE entry_id = ?';

/** A message already queued keeps its place and its attempts (args: message id, mailbox, now, now). */
export const ENQUEUE_APPEND_SQL =
  'INSERT INTO imap_appends (message_id, mailbox, attempts, not_before, claimed_until, queued_at) VALUES (?, ?, 0, ?, 0, ?) ON CONFLICT (message_id) DO NOTHING';
/** The oldest append due and not leased (args: now, now). */
export const DUE_APPEND_SQL = 'SELECT message_id FROM imap_appends WHERE not_before <= ? AND claimed_until <= ? ORDER BY not_before, queued_at LIMIT 1';
export const LEASE_APPEND_SQL =
  'UPDATE imap_appends SET claimed_by = ?, claimed_until = ?, attempts = attempts + 1 WHERE message_id = ? RETURNING message_id, mailbox, attempts';
export const FINISH_APPEND_SQL = 'DELETE FROM imap_appends WHERE message_id = ?';
/** Extends a lease its holder still has (args: until, message id, claimant). */
export const RENEW_APPEND_SQL = 'UPDATE imap_appends SET claimed_until = ? WHERE message_id = ? AND claimed_by = ?';
export const RETRY_APPEND_SQL = 'UPDATE imap_appends SET not_before = ?, claimed_by = NULL, claimed_until = 0, last_error = ? WHERE message_id = ?';
export const COUNT_APPENDS_SQL = 'SELECT count(*) AS n FROM imap_appends';
export const APPEND_QUEUE_STATS_SQL =
  'SELECT count(*) AS pending, count(last_error) AS failing, min(queued_at) AS oldest FROM imap_appends';

export interface AppendQueueStatsRow {
  pending: number | string;
  failing: number | string;
  oldest: number | string | null;
}

/** Either engine's row (PostgreSQL's count() and bigint come as strings). */
export const toAppendQueueStats = (r: AppendQueueStatsRow): ImapAppendQueueStats => ({
  pending: Number(r.pending),
  failing: Number(r.failing),
  oldestQueuedAt: r.oldest === null ? undefined : Number(r.oldest),
});

/**
 * The append queue as a replica copies it (replica/: the mirror, store copy, restore): pending appends with their
 * attempts and retry time, not their leases (one being appended when the copy was taken is pending in the copy;
 * appending it again after a restore makes no duplicate: the header search).
 */
export const LIST_QUEUED_APPENDS_SQL = 'SELECT message_id, mailbox, attempts, not_before, queued_at, last_error FROM imap_appends ORDER BY queued_at, message_id';
export const PUT_QUEUED_APPEND_SQL =
  'INSERT INTO imap_appends (message_id, mailbox, attempts, not_before, claimed_until, queued_at, last_error) VALUES (?, ?, ?, ?, 0, ?, ?)';
export const DELETE_QUEUED_APPENDS_SQL = 'DELETE FROM imap_appends';
export const DELETE_QUEUED_APPENDS_OF_SQL = 'DELETE FROM imap_appends WHERE mailbox = ?';

export interface QueuedAppendRow {
  message_id: string;
  mailbox: string;
  attempts: number;
  not_before: number;
  queued_at: number;
  last_error: string | null;
}

export const toQueuedAppend = (r: QueuedAppendRow): QueuedImapAppend => ({
  messageId: r.message_id,
  mailbox: r.mailbox,
  attempts: Number(r.attempts),
  notBefore: Number(r.not_before),
  queuedAt: Number(r.queued_at),
  lastError: r.last_error,
});
export const queuedAppendValues = (a: QueuedImapAppend): (string | number | null)[] => [a.messageId, a.mailbox, a.attempts, a.notBefore, a.queuedAt, a.lastError];

export const toOwned = (r: DirectoryOwnedRow): DirectoryOwned => ({ entryId: r.entry_id, number: r.number, dn: r.dn, disabled: Number(r.disabled) === 1 });
export const ownedValues = (o: DirectoryOwned): (string | number)[] => [o.entryId, o.number, o.dn, o.disabled ? 1 : 0];
export const toAppendJob = (r: ImapAppendRow): ImapAppendJob => ({ messageId: r.message_id, mailbox: r.mailbox, attempts: Number(r.attempts) });

export class LeaderTables {
  constructor(
    private readonly sql: (text: string) => Database.Statement,
    /** A write transaction (sqlite.ts write(): IMMEDIATE). */
    private readonly write: <T>(fn: () => T) => T,
  ) {}

  listOwned(): DirectoryOwned[] {
    return (this.sql(LIST_OWNED_SQL).all() as DirectoryOwnedRow[]).map(toOwned);
  }

  saveOwned(put: readonly DirectoryOwned[], remove: readonly string[]): void {
    if (put.length === 0 && remove.length === 0) return;
    this.write(() => {
      for (const o of put) this.sql(PUT_OWNED_SQL).run(...ownedValues(o));
      for (const id of remove) this.sql(DELETE_OWNED_SQL).run(id);
    });
  }

  enqueueAppend(messageId: string, mailbox: string): void {
    const now = Date.now();
    this.write(() => this.sql(ENQUEUE_APPEND_SQL).run(messageId, mailbox, now, now));
  }

  claimAppend(claimant: string, now: number, leaseMs: number): ImapAppendJob | undefined {
    // Asked every second by the leader: while nothing is due, a read answers without taking the write lock.
    if (!this.sql(DUE_APPEND_SQL).get(now, now)) return undefined;
    return this.write(() => {
      const due = this.sql(DUE_APPEND_SQL).get(now, now) as { message_id: string } | undefined;
      if (!due) return undefined;
      return toAppendJob(this.sql(LEASE_APPEND_SQL).get(claimant, now + leaseMs, due.message_id) as ImapAppendRow);
    });
  }

  renewAppend(messageId: string, claimant: string, until: number): boolean {
    return this.write(() => this.sql(RENEW_APPEND_SQL).run(until, messageId, claimant).changes > 0);
  }

  finishAppend(messageId: string): void {
    this.write(() => this.sql(FINISH_APPEND_SQL).run(messageId));
  }

  retryAppend(messageId: string, notBefore: number, error: string): void {
    this.write(() => this.sql(RETRY_APPEND_SQL).run(notBefore, error, messageId));
  }

  countAppends(): number {
    return Number((this.sql(COUNT_APPENDS_SQL).get() as { n: number }).n);
  }

  appendQueueStats(): ImapAppendQueueStats {
    return toAppendQueueStats(this.sql(APPEND_QUEUE_STATS_SQL).get() as AppendQueueStatsRow);
  }
}
