/**
 * The new-message mail queued by the deposit itself (issue 10 follow-up: "impossible to lose a message" covers
 * its notification too). With `depositMail` set (open.ts: when the config has `smtp`), the transaction that
 * commits a message's row also inserts its mail_queue row, on both engines and on every path that commits a
 * deposit: the deposit straight from the call, a PostgreSQL deposit kept on this host while the database was
 * unreachable and committed later (pg/deposits.ts), a deposit a crash interrupted and repair committed, a
 * recording cut short by a crash. So the mail is queued exactly when the message is, exactly once (the commit
 * itself is idempotent), and never lost between the two (before this, the notifier queued it after the deposit
 * resolved: a database outage or a store thread restart in between cost the mail).
 *
 * The store records facts, not a rendered mail: the store knows neither the time zone nor the wording. The
 * sender (notify/email.ts) renders the mail from these facts and the mailbox as it is when the mail goes out
 * (its address, name and attachment option; no address by then: nothing is sent).
 *
 * Not here: the queue's statements (mail-queue-table.ts, pg/mail-queue.ts), sending (notify/email.ts).
 */
import type { MessageSidecar } from './message-sidecar.js';
import type { NewMailJob } from './types.js';

/** Queue the new-message mail in each deposit's commit (for mailboxes with an email address). */
export interface DepositMailOptions {
  /** Most mails queued; a new one beyond this drops the oldest not being sent. */
  maxQueued: number;
}

/** Most mails queued by default (the notifier's maxQueue). */
export const DEFAULT_MAIL_QUEUE_MAX = 1000;

/** What the mail says about the message, as committed. */
export type DepositFacts = Pick<MessageSidecar, 'from' | 'fromName' | 'receivedAt' | 'durationMs' | 'urgent'>;

/** The mail_queue row for a message being committed (the mailbox number in meta.mailbox). */
export function depositMailJob(meta: MessageSidecar): NewMailJob {
  const deposit: DepositFacts = { from: meta.from, fromName: meta.fromName, receivedAt: meta.receivedAt, durationMs: meta.durationMs, urgent: meta.urgent };
  return { mailbox: meta.mailbox, messageId: meta.id, payload: JSON.stringify({ deposit }) };
}

/** The facts of a payload depositMailJob wrote; undefined for any other payload (a mail rendered by its enqueuer). */
export function depositFacts(payload: unknown): DepositFacts | undefined {
  const d = (payload as { deposit?: Partial<DepositFacts> } | null)?.deposit;
  if (typeof d !== 'object' || d === null) return undefined;
  if (typeof d.from !== 'string' || typeof d.fromName !== 'string' || typeof d.receivedAt !== 'number' || typeof d.durationMs !== 'number') return undefined;
  return { from: d.from, fromName: d.fromName, receivedAt: d.receivedAt, durationMs: d.durationMs, urgent: d.urgent === true };
}
