/**
 * The new-message email queue in PostgreSQL (table mail_queue, schema.ts migration 2), the twin of
 * mail-queue-table.ts, whose statements and row mapping it shares.
 *
 * Several hosts claim from one table: the claim picks its row with FOR UPDATE SKIP LOCKED, so two hosts claiming
 * at once take different mails (or one takes it and the other none) instead of waiting on each other, and the
 * lease it writes keeps the mail from everyone else until it is finished, retried or the lease runs out.
 */
import type pg from 'pg';
import { COUNT_MAIL_SQL, enqueueValues, ENQUEUE_MAIL_SQL, FINISH_MAIL_SQL, RETRY_MAIL_SQL, toMailJob, TRIM_MAIL_SQL, type MailJobRow } from '../mail-queue-table.js';
import type { MailJob, NewMailJob } from '../types.js';
import { inTransaction, type Queryable } from './connection.js';
import { numbered } from './sql.js';

const CLAIM = `UPDATE mail_queue SET claimed_by = $1, claimed_until = $3, attempts = attempts + 1
  WHERE id = (SELECT id FROM mail_queue WHERE not_before <= $2 AND claimed_until <= $2
              ORDER BY not_before, id LIMIT 1 FOR UPDATE SKIP LOCKED)
  RETURNING id, mailbox, message_id, payload, attempts`;

export async function enqueueMail(pool: pg.Pool, job: NewMailJob, maxQueued: number): Promise<number> {
  return inTransaction(pool, (db) => enqueueMailIn(db, job, maxQueued));
}

/** Inside the caller's transaction (a deposit's commit, deposit-mail.ts): the mail, then the trim; how many were dropped. */
export async function enqueueMailIn(db: Queryable, job: NewMailJob, maxQueued: number): Promise<number> {
  const now = Date.now();
  await db.query(numbered(ENQUEUE_MAIL_SQL), enqueueValues(job, now));
  const n = Number((await db.query<{ n: string }>(COUNT_MAIL_SQL)).rows[0]!.n);
  return n > maxQueued ? ((await db.query(numbered(TRIM_MAIL_SQL), [now, n - maxQueued])).rowCount ?? 0) : 0;
}

export async function claimMail(pool: pg.Pool, claimant: string, now: number, leaseMs: number): Promise<MailJob | undefined> {
  const row = (await pool.query<MailJobRow>(CLAIM, [claimant, now, now + leaseMs])).rows[0];
  return row && toMailJob(row);
}

export async function finishMail(pool: pg.Pool, id: number): Promise<void> {
  await pool.query(numbered(FINISH_MAIL_SQL), [id]);
}

export async function retryMail(pool: pg.Pool, id: number, notBefore: number, error: string): Promise<void> {
  await pool.query(numbered(RETRY_MAIL_SQL), [notBefore, error, id]);
}

/** Drops the queued emails of these messages (a mail being sent right now still goes). */
export async function dropMailForMessages(pool: pg.Pool, messageIds: readonly string[]): Promise<number> {
  if (messageIds.length === 0) return 0;
  return (await pool.query('DELETE FROM mail_queue WHERE message_id = ANY($1::text[])', [messageIds])).rowCount ?? 0;
}
