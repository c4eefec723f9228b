/**
 * The new-message email queue in SQLite (table mail_queue, schema.sql.ts migration 6); pg/mail-queue.ts is its
 * PostgreSQL twin and shares the statements here. notify/email.ts enqueues and sends.
 *
 * Exactly one sender per mail: a claim is a lease (claimed_by, claimed_until) taken inside an IMMEDIATE write
 * transaction, which holds SQLite's one write lock, so two processes sharing the file (cluster workers, `vmpilot`
 * commands) cannot both take the same row. A lease that runs out (its sender died mid-send) frees the mail for
 * another claim: the mail may then go out twice, never zero times.
 */
import type Database from 'better-sqlite3';
import type { MailJob, NewMailJob } from './types.js';
import type { QueuedMail } from './replica/types.js';

export interface MailJobRow {
  id: number;
  mailbox: string;
  message_id: string;
  payload: string;
  attempts: number;
}

export const ENQUEUE_MAIL_SQL = 'INSERT INTO mail_queue (mailbox, message_id, payload, attempts, not_before, claimed_until, queued_at) VALUES (?, ?, ?, 0, ?, 0, ?)';
export const COUNT_MAIL_SQL = 'SELECT count(*) AS n FROM mail_queue';
/** The oldest mails nobody holds a lease on (args: now, how many). */
export const TRIM_MAIL_SQL = 'DELETE FROM mail_queue WHERE id IN (SELECT id FROM mail_queue WHERE claimed_until <= ? ORDER BY id LIMIT ?)';
/** The oldest mail due and not leased (args: now, now). Retries wait their turn by not_before. */
export const DUE_MAIL_SQL = 'SELECT id FROM mail_queue WHERE not_before <= ? AND claimed_until <= ? ORDER BY not_before, id LIMIT 1';
export const LEASE_MAIL_SQL =
  'UPDATE mail_queue SET claimed_by = ?, claimed_until = ?, attempts = attempts + 1 WHERE id = ? RETURNING id, mailbox, message_id, payload, attempts';
export const FINISH_MAIL_SQL = 'DELETE FROM mail_queue WHERE id = ?';
export const RETRY_MAIL_SQL = 'UPDATE mail_queue SET not_before = ?, claimed_by = NULL, claimed_until = 0, last_error = ? WHERE id = ?';

/**
 * The queue as a replica copies it (replica/: the mirror, store copy, restore): the pending mails with their
 * attempts and retry time, not their leases (a mail being sent when the copy was taken is pending in the copy:
 * a restore may send it twice, never lose it). Sent mails are not in the queue, so a restore resends none.
 */
export const LIST_QUEUED_SQL = 'SELECT mailbox, message_id, payload, attempts, not_before, queued_at, last_error FROM mail_queue ORDER BY id';
export const PUT_QUEUED_SQL =
  'INSERT INTO mail_queue (mailbox, message_id, payload, attempts, not_before, claimed_until, queued_at, last_error) VALUES (?, ?, ?, ?, ?, 0, ?, ?)';
export const DELETE_QUEUED_SQL = 'DELETE FROM mail_queue';
export const DELETE_QUEUED_OF_SQL = 'DELETE FROM mail_queue WHERE mailbox = ?';

export interface QueuedMailRow {
  mailbox: string;
  message_id: string;
  payload: string;
  attempts: number;
  not_before: number;
  queued_at: number;
  last_error: string | null;
}

export function toQueuedMail(row: QueuedMailRow): QueuedMail {
  return {
    mailbox: row.mailbox,
    messageId: row.message_id,
    payload: row.payload,
    attempts: Number(row.attempts),
    notBefore: Number(row.not_before),
    queuedAt: Number(row.queued_at),
    lastError: row.last_error,
  };
}

export function queuedValues(m: QueuedMail): (string | number | null)[] {
  return [m.mailbox, m.messageId, m.payload, m.attempts, m.notBefore, m.queuedAt, m.lastError];
}

export function toMailJob(row: MailJobRow): MailJob {
  return { id: Number(row.id), mailbox: row.mailbox, messageId: row.message_id, payload: row.payload, attempts: Number(row.attempts) };
}

export function enqueueValues(job: NewMailJob, now: number): (string | number)[] {
  return [job.mailbox, job.messageId, job.payload, now, now];
}

/** A message's queued emails (store.eraseCaller), `?` placeholder. */
export const DROP_MESSAGE_MAIL_SQL = 'DELETE FROM mail_queue WHERE message_id = ?';

export class MailQueueTable {
  constructor(
    private readonly sql: (text: string) => Database.Statement,
    /** A write transaction (sqlite.ts write(): IMMEDIATE). */
    private readonly write: <T>(fn: () => T) => T,
  ) {}

  enqueue(job: NewMailJob, maxQueued: number): number {
    const now = Date.now();
    return this.write(() => {
      this.sql(ENQUEUE_MAIL_SQL).run(...enqueueValues(job, now));
      const { n } = this.sql(COUNT_MAIL_SQL).get() as { n: number };
      return n > maxQueued ? this.sql(TRIM_MAIL_SQL).run(now, n - maxQueued).changes : 0;
    });
  }

  claim(claimant: string, now: number, leaseMs: number): MailJob | undefined {
    // The sender asks every second: while nothing is due, a plain read answers it without taking the write lock
    // that deposits from other processes need. What is due is read again under the lock.
    if (!this.sql(DUE_MAIL_SQL).get(now, now)) return undefined;
    return this.write(() => {
      const due = this.sql(DUE_MAIL_SQL).get(now, now) as { id: number } | undefined;
      if (!due) return undefined;
      return toMailJob(this.sql(LEASE_MAIL_SQL).get(claimant, now + leaseMs, due.id) as MailJobRow);
    });
  }

  finish(id: number): void {
    this.write(() => this.sql(FINISH_MAIL_SQL).run(id));
  }

  retry(id: number, notBefore: number, error: string): void {
    this.write(() => this.sql(RETRY_MAIL_SQL).run(notBefore, error, id));
  }

  /** Drops the queued emails of these messages (a mail being sent right now still goes). */
  dropForMessages(messageIds: readonly string[]): number {
    if (messageIds.length === 0) return 0;
    const drop = this.sql(DROP_MESSAGE_MAIL_SQL);
    return this.write(() => messageIds.reduce((n, id) => n + drop.run(id).changes, 0));
  }
}
