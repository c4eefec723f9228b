/**
 * A store's whole content, read and written without going through the call-facing API (types.ts), so that it
 * can be moved between stores: `vmpilot store copy` (SQLite to PostgreSQL and back), the mirror that keeps a
 * standby store identical to the primary, `mirror verify` and `mirror restore` (seed 000, Mutare Message
 * Mirror: messages, greetings, mailboxes with their PIN, name and recorded name).
 *
 * Unlike MessageStore, a replica keeps what the source said: message ids, receivedAt, folders and flags, the
 * PIN's hash, createdAt. Its writes are the primary's truth applied as they are: no quota, no number check, no
 * PIN policy. Each write keeps the store's own durability rule (audio durable before the row that points at it)
 * and is announced on the store's change feed, so a server running on that store hears of it.
 *
 * Not kept: PIN back-off state and counters (they describe attacks on this store, not its content: a restored
 * store starts them afresh; a locked mailbox stays locked, `locked` is a mailbox field); recordings in progress.
 * Kept besides mailboxes and messages: MWI subscriptions, the directory's ownership (a site moved to another store
 * keeps its directory's mailboxes), the email queue's pending mails (mail-queue-table.ts: a restored primary
 * sends what was still queued, and does not send again what was sent) and the pending IMAP appends
 * (leader-tables.ts: likewise; one appended already is found by its header and not appended twice).
 *
 * Not here: what to copy and in which order (reconcile.ts), comparing two stores (compare.ts).
 */
import type { DirectoryOwned, GreetingKind, Mailbox, MessageRecord, StoredSubscription } from '../types.js';

/** A mailbox's every field as stored (not its greetings' audio, nor the PIN back-off's failure count). */
export type MailboxContent = Omit<Mailbox, 'greetings' | 'failedLogins'> & {
  /** ms since epoch. */
  createdAt: number;
};

/** A message's every field; its audio is read apart (messageAudio). */
export type MessageContent = Omit<MessageRecord, 'audioPath'>;

/** The fields of a message that change after its deposit (the rest never do). */
export const MUTABLE_MESSAGE_FIELDS = ['folder', 'heard', 'urgent'] as const satisfies readonly (keyof MessageContent)[];
export type MessageState = Pick<MessageContent, 'id' | (typeof MUTABLE_MESSAGE_FIELDS)[number]>;

/** A recorded greeting or name, by its audio's digest (computing it is the replica's business: it may cache). */
export interface GreetingContent {
  mailbox: string;
  kind: GreetingKind;
  /** sha256 of the audio bytes, hex. */
  sha256: string;
  bytes: number;
}

/** A new-message mail waiting to be sent (mail_queue), as a replica copies it: without its lease. */
export interface QueuedMail {
  mailbox: string;
  messageId: string;
  payload: string;
  attempts: number;
  /** ms since epoch: not sent before (the retry back-off). */
  notBefore: number;
  queuedAt: number;
  lastError: string | null;
}

/** An IMAP append waiting to be done (imap_appends, store/leader-tables.ts), as a replica copies it: without its lease. */
export interface QueuedImapAppend {
  messageId: string;
  mailbox: string;
  attempts: number;
  /** ms since epoch: not tried before (the retry back-off). */
  notBefore: number;
  queuedAt: number;
  lastError: string | null;
}

export interface StoreReplica {
  /** A name for logs and reports: "sqlite:/var/lib/vmpilot", "postgres://host/db" (no password). */
  readonly description: string;

  /** Every mailbox, or those of these numbers. */
  mailboxes(numbers?: readonly string[]): Promise<MailboxContent[]>;
  /** One mailbox by its number (not an alias). */
  mailbox(number: string): Promise<MailboxContent | undefined>;
  /** Messages in every folder ('deleted' included), of these mailboxes or of all, ordered by id. */
  messages(mailboxes?: readonly string[]): Promise<MessageContent[]>;
  /** The audio of a message (a whole WAV); undefined when the message or its audio is missing. */
  messageAudio(message: Pick<MessageContent, 'id' | 'mailbox'>): Promise<Buffer | undefined>;
  /** Greetings and recorded names, of these mailboxes or of all. */
  greetings(mailboxes?: readonly string[]): Promise<GreetingContent[]>;
  greetingAudio(mailbox: string, kind: GreetingKind): Promise<Buffer | undefined>;
  subscriptions(): Promise<StoredSubscription[]>;
  /** Which mailboxes the directory sync owns (directory/ownership.ts), by entry id. */
  directoryOwned(): Promise<DirectoryOwned[]>;

  /** Creates or replaces a mailbox with these fields and aliases (an alias held by another mailbox moves). */
  putMailbox(mailbox: MailboxContent): Promise<void>;
  /** Removes a mailbox with its messages, greetings and their audio. No-op when absent. */
  removeMailbox(number: string): Promise<void>;
  /**
   * Adds messages with their ids, times and flags (their mailboxes exist), audio durable before the rows. A
   * message whose id is already stored is replaced.
   */
  putMessages(messages: readonly { message: MessageContent; audio: Buffer }[]): Promise<void>;
  /** Sets folder, heard and urgent of stored messages (unknown ids are skipped). */
  updateMessages(states: readonly MessageState[]): Promise<void>;
  /** Removes messages and their audio for good (unknown ids are skipped). */
  removeMessages(messages: readonly Pick<MessageContent, 'id' | 'mailbox'>[]): Promise<void>;
  /** Stores a greeting's audio (undefined: removes it). The mailbox exists. */
  putGreeting(mailbox: string, kind: GreetingKind, audio: Buffer | undefined): Promise<void>;
  /** Makes the stored MWI subscriptions exactly these. */
  replaceSubscriptions(subscriptions: readonly StoredSubscription[]): Promise<void>;
  /** Makes the directory's ownership exactly this (a site moved to another store keeps its directory's mailboxes). */
  replaceDirectoryOwned(owned: readonly DirectoryOwned[]): Promise<void>;
  /** The mails waiting to be sent, of these mailboxes or of all, in queue order. */
  mailQueue(mailboxes?: readonly string[]): Promise<QueuedMail[]>;
  /** Makes the queue (of these mailboxes, or the whole queue) exactly these mails. */
  replaceMailQueue(mails: readonly QueuedMail[], mailboxes?: readonly string[]): Promise<void>;
  /** The IMAP appends waiting, of these mailboxes or of all, in queue order. */
  imapAppends(mailboxes?: readonly string[]): Promise<QueuedImapAppend[]>;
  /** Makes the append queue (of these mailboxes, or the whole queue) exactly these. */
  replaceImapAppends(appends: readonly QueuedImapAppend[], mailboxes?: readonly string[]): Promise<void>;

  close(): Promise<void>;
}

/** The mails of these mailboxes (all when undefined). */
export function ofMailboxes<T extends { mailbox: string }>(mails: readonly T[], mailboxes: readonly string[] | undefined): T[] {
  if (mailboxes === undefined) return [...mails];
  const wanted = new Set(mailboxes);
  return mails.filter((m) => wanted.has(m.mailbox));
}
