/**
 * The tables of the jobs only a site's leader runs, in PostgreSQL (schema.ts migration 3): the twin of
 * ../leader-tables.ts, whose statements and row mapping it shares. The append claim picks its row with
 * FOR UPDATE SKIP LOCKED, as mail_queue's (pg/mail-queue.ts), so that two hosts claiming at once never wait on
 * each other nor take the same append.
 */
import type pg from 'pg';
import {
  APPEND_QUEUE_STATS_SQL,
  COUNT_APPENDS_SQL,
  ENQUEUE_APPEND_SQL,
  FINISH_APPEND_SQL,
  LIST_OWNED_SQL,
  ownedValues,
  PUT_OWNED_SQL,
  RENEW_APPEND_SQL,
  RETRY_APPEND_SQL,
  toAppendJob,
  toAppendQueueStats,
  type AppendQueueStatsRow,
  toOwned,
  type DirectoryOwnedRow,
  type ImapAppendRow,
} from '../leader-tables.js';
import type { DirectoryOwned, ImapAppendJob, ImapAppendQueueStats } from '../types.js';
import { inTransaction, type Queryable } from './connection.js';
import { numbered } from './sql.js';

const CLAIM_APPEND = `UPDATE imap_appends SET claimed_by = $1, claimed_until = $3, attempts = attempts + 1
  WHERE message_id = (SELECT message_id FROM imap_appends WHERE not_before <= $2 AND claimed_until <= $2
                      ORDER BY not_before, queued_at LIMIT 1 FOR UPDATE SKIP LOCKED)
  RETURNING message_id, mailbox, attempts`;

export async function listOwned(pool: pg.Pool): Promise<DirectoryOwned[]> {
  return (await pool.query<DirectoryOwnedRow>(LIST_OWNED_SQL)).rows.map(toOwned);
}

export async function saveOwned(pool: pg.Pool, put: readonly DirectoryOwned[], remove: readonly string[]): Promise<void> {
  if (put.length === 0 && remove.length === 0) return;
  await inTransaction(pool, async (db) => {
    for (const o of put) await db.query(numbered(PUT_OWNED_SQL), ownedValues(o));
    if (remove.length > 0) await db.query('DELETE FROM directory_owned WHERE entry_id = ANY($1)', [remove]);
  });
}

/** On the pool, or inside a transaction (a deposit's commit, pg/deposits.ts). */
export async function enqueueAppend(db: Queryable, messageId: string, mailbox: string): Promise<void> {
  const now = Date.now();
  await db.query(numbered(ENQUEUE_APPEND_SQL), [messageId, mailbox, now, now]);
}

export async function claimAppend(pool: pg.Pool, claimant: string, now: number, leaseMs: number): Promise<ImapAppendJob | undefined> {
  const row = (await pool.query<ImapAppendRow>(CLAIM_APPEND, [claimant, now, now + leaseMs])).rows[0];
  return row && toAppendJob(row);
}

export async function finishAppend(pool: pg.Pool, messageId: string): Promise<void> {
  await pool.query(numbered(FINISH_APPEND_SQL), [messageId]);
}

export async function retryAppend(pool: pg.Pool, messageId: string, notBefore: number, error: string): Promise<void> {
  await pool.query(numbered(RETRY_APPEND_SQL), [notBefore, error, messageId]);
}

export async function countAppends(pool: pg.Pool): Promise<number> {
  return Number((await pool.query<{ n: string }>(COUNT_APPENDS_SQL)).rows[0]!.n);
}

export async function appendQueueStats(pool: pg.Pool): Promise<ImapAppendQueueStats> {
  return toAppendQueueStats((await pool.query<AppendQueueStatsRow>(APPEND_QUEUE_STATS_SQL)).rows[0]!);
}

export async function renewAppend(pool: pg.Pool, messageId: string, claimant: string, until: number): Promise<boolean> {
  return ((await pool.query(numbered(RENEW_APPEND_SQL), [until, messageId, claimant])).rowCount ?? 0) > 0;
}
