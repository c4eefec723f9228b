/**
 * The mailbox quota on PostgreSQL (store-rules.ts: quotaOf, roomLeft), checked where it holds across hosts: in
 * the deposit's own commit (pg/deposits.ts), after taking the mailbox's row lock (SELECT ... FOR UPDATE). Two hosts
 * committing into one mailbox then take turns, and the second counts the first's message: the last place goes
 * to one caller, not to both (a check before the transaction let both in).
 *
 * Not here: the early look before the caller records (postgres.ts hasRoom, no lock: a hint, not the rule).
 */
import { IN_BOX, roomLeft } from '../store-rules.js';
import type { Queryable } from './connection.js';

export interface QuotaLimits {
  maxMessages: number;
  maxMs: number;
}

/** Whether one more message fits in the mailbox now (the messages in 'new' and 'saved' counted). */
export async function roomIn(db: Queryable, mailbox: string, limits: QuotaLimits): Promise<boolean> {
  if (limits.maxMessages === 0 && limits.maxMs === 0) return true;
  const used = await db.query<{ n: number; ms: number }>(
    `SELECT COUNT(*) AS n, COALESCE(SUM(duration_ms), 0)::bigint AS ms FROM messages WHERE mailbox = $1 AND ${IN_BOX}`,
    [mailbox],
  );
  return roomLeft(limits, { n: Number(used.rows[0]!.n), ms: Number(used.rows[0]!.ms) });
}

/** Inside a deposit's transaction: the mailbox's row locked until the commit, then the room checked. */
export async function lockedRoomIn(db: Queryable, mailbox: string, limits: QuotaLimits): Promise<boolean> {
  if (limits.maxMessages === 0 && limits.maxMs === 0) return true;
  await db.query('SELECT 1 FROM mailboxes WHERE number = $1 FOR UPDATE', [mailbox]);
  return roomIn(db, mailbox, limits);
}
