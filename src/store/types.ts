/**
 * The message store's model and contract: mailboxes, their greetings and messages. Apps and the CLI code
 * against MessageStore; sqlite.ts implements it (SQLite + audio files under storage.dir); a PostgreSQL
 * implementation can follow behind the same interface (hence every method is async).
 *
 * Durability rule (issue 4): a message's audio is written and fsynced in its final place BEFORE the row that
 * points to it is committed. A crash can leave audio without a row (an orphan, which repair() re-attaches or
 * reports at start-up), never a row without audio.
 *
 * Changes that matter to MWI (new/saved counts) are announced on `events` ('counts', number, counts), so the
 * notifier does not poll; changes to mailboxes themselves on 'mailbox' (the attendant's directory cache). A
 * store that watches for changes (sqlite.ts watchChangesMs) announces those made by other processes too.
 */
import type { EventEmitter } from 'node:events';
import type { BackoffKind, PinBackoffPolicy } from './pin-backoff.js';

export type Folder = 'new' | 'saved' | 'deleted';

/** Why a caller reached the mailbox (from Diversion/History-Info); 'direct' when dialled. */
export type DepositReason = 'busy' | 'no-answer' | 'unavailable' | 'unconditional' | 'direct' | 'forwarded' | 'other';

export type GreetingKind = 'unavailable' | 'busy' | 'name' | 'temporary';

export interface Mailbox {
  number: string;
  /** Owner's name as provisioned ("Alice Example"). */
  name: string;
  email?: string;
  /** Attach the audio to notification emails. */
  emailAttachAudio: boolean;
  /** Other numbers (DIDs, public forms) that reach this mailbox. */
  aliases: string[];
  /** scrypt hash of the PIN (pin.ts format); never the PIN itself. */
  pinHash: string;
  /** The PIN is the provisioned default: the owner must change it at first login. */
  mustChangePin: boolean;
  /** The first-login tutorial (name, greeting, PIN) has been completed. */
  setupDone: boolean;
  /** Consecutive failed PIN entries across calls; reset by a good login. */
  failedLogins: number;
  /**
   * Locked by an administrator: no PIN opens it (a try is answered like a wrong PIN). Never set by failures
   * any more: they slow further tries instead (pin-backoff.ts); schema 3 lifted the automatic locks.
   */
  locked: boolean;
  /** Absolute paths of recorded greetings, when recorded. */
  greetings: Partial<Record<GreetingKind, string>>;
  /** When the temporary greeting stops being played (ms since epoch); absent: until deleted. */
  temporaryGreetingUntil?: number;
  /** Most messages kept (new + saved); 0 = no limit. */
  maxMessages: number;
  /** Most minutes of audio kept; 0 = no limit. */
  maxMinutes: number;
  /** Hidden from the attendant's dial-by-name directory. */
  hiddenFromDirectory: boolean;
}

export interface MessageRecord {
  id: string;
  mailbox: string;
  folder: Folder;
  /** Caller's number as presented ('' when anonymous). */
  from: string;
  /** Caller's display name ('' when none). */
  fromName: string;
  /** ms since epoch. */
  receivedAt: number;
  durationMs: number;
  urgent: boolean;
  heard: boolean;
  reason: DepositReason;
  /** Absolute path of the WAV (16-bit PCM, 8 kHz, mono). */
  audioPath: string;
  /** For a forwarded message: the mailbox it came from. */
  forwardedFrom?: string;
}

/** A message about to be stored: its audio is still a temporary file the store takes over. */
export interface NewMessage {
  mailbox: string;
  from: string;
  fromName: string;
  durationMs: number;
  urgent: boolean;
  reason: DepositReason;
  /** A WAV written by the recorder; the store moves (or copies) it into place, fsyncs, then commits the row. */
  audioFile: string;
  /** Keep the temporary file (copy instead of move): forwarding one recording to several mailboxes. */
  keepAudioFile?: boolean;
  forwardedFrom?: string;
  /** Default now. */
  receivedAt?: number;
}

/** MWI counts (RFC 3842 Voice-Message: new/old (urgent-new/urgent-old)). */
export interface MessageCounts {
  new: number;
  saved: number;
  urgentNew: number;
  urgentSaved: number;
}

/** A page of the mailbox list (searchMailboxes). */
export interface MailboxQuery {
  search?: string;
  offset: number;
  limit: number;
}

/** Provisioning input (config file, `vmpilot mailbox add`). */
export interface MailboxSpec {
  number: string;
  name: string;
  /** The PIN in clear; hashed by the store. */
  pin: string;
  email?: string;
  aliases?: string[];
  /** The fields below: absent leaves the store's value (a new mailbox: off, off, 0, 0). */
  emailAttachAudio?: boolean;
  hiddenFromDirectory?: boolean;
  maxMessages?: number;
  maxMinutes?: number;
}

/** One field provisioning changed on an existing mailbox, with its values before and after. */
export interface FieldChange {
  field: keyof Mailbox;
  from: unknown;
  to: unknown;
}

/** What provision() did: mailboxes created, and the fields it changed on existing ones (nothing unchanged). */
export interface ProvisionReport {
  created: string[];
  updated: { number: string; changes: FieldChange[] }[];
}

/** What deleteMailbox removed. */
export interface DeletedMailbox {
  /** The mailbox's number (the argument may have been an alias). */
  number: string;
  /** Messages removed (every folder), with their audio. */
  messages: number;
  /** Greetings and recorded name removed. */
  greetings: number;
}

/** The fields an import, `mailbox set` or provisioning sets on a mailbox. */
export type MailboxFields = Partial<Pick<Mailbox, 'name' | 'email' | 'aliases' | 'emailAttachAudio' | 'hiddenFromDirectory' | 'maxMessages' | 'maxMinutes'>>;

/** One mailbox of a bulk import (store.importMailboxes). */
export interface MailboxImport {
  number: string;
  /**
   * Present: the mailbox is created, with this PIN hash (pin.ts format; the owner must change the PIN) and
   * `fields` (name required). Absent: the mailbox must exist; `fields` are set on it.
   */
  pinHash?: string;
  /**
   * The fields to set; a field absent stays as it is (a new mailbox: off, none, 0). `email` present and undefined: none.
   * `locked`: the directory sync disables the mailbox of a user who left (src/directory/), in the same transaction.
   */
  fields: MailboxFields & Partial<Pick<Mailbox, 'locked'>>;
}

export interface RepairReport {
  /** Audio files with no row, re-attached as new messages (their metadata sidecar was intact). */
  reattached: string[];
  /** Audio files with no row and no usable metadata, moved to <storage>/orphans for an administrator. */
  quarantined: string[];
  /** Rows whose audio file is missing (should never happen), marked deleted. */
  missingAudio: string[];
  /** Temporary recordings left by a crash, deleted. */
  tempFilesRemoved: number;
}

/** One PIN entry (store.checkPin). */
export interface PinAttempt {
  /** The mailbox number or alias as the caller entered it (it need not exist). */
  number: string;
  pin: string;
  /**
   * Where the try comes from, as the one trying cannot change it: the network source (a browser's address; a
   * call's source address; IPv6 per prefix, sip/source-key.ts). Never a From number (pin-backoff.ts).
   */
  source: string;
  /**
   * The source carries many people's tries (the PBX every call comes through): its failures count per mailbox,
   * so that one caller guessing at a mailbox cannot slow everyone behind the same PBX, and at all mailboxes
   * together under a higher threshold that forgets faster (pin-backoff.ts sharedSourceAfter), so that nobody
   * sweeps the site a PIN or two per mailbox. Default false.
   */
  sharedSource?: boolean;
  policy: PinBackoffPolicy;
}

/** A key that reached its back-off threshold (rate-limited: once per forgetAfterMs per key). */
export interface PinAlert {
  kind: BackoffKind;
  failures: number;
  /** The delay now imposed on the next try, ms. */
  delayMs: number;
}

/**
 * The outcome of a PIN entry. 'wait': a back-off delay is running for this mailbox or source; the PIN was not
 * looked at; try again after waitMs. An absent mailbox is always 'wrong' (or 'wait'), after the same work.
 */
export type PinCheck =
  | { verdict: 'ok'; mailbox: Mailbox }
  | { verdict: 'wrong'; alerts: PinAlert[] }
  | { verdict: 'wait'; waitMs: number };

/**
 * An MWI subscription as the store keeps it across restarts (mwi/subscriptions.ts owns the meaning): one row
 * per subscription, so changing one writes one row.
 */
export interface StoredSubscription {
  /** The dialog id (Call-ID and tags). */
  id: string;
  /** The mailbox number (or the number subscribed to, when it has no mailbox). */
  mailbox: string;
  /** The subscriber's source address (per-source limits). */
  source: string;
  /** ms since epoch. */
  expiresAt: number;
  /** The rest, as JSON (mwi/subscription.ts SubscriptionRecord). */
  data: string;
}

/** How a call ended for the caller (a call record's outcome; call/call-record.ts decides it). */
export type CallOutcome = 'message' | 'login' | 'transfer' | 'abandoned' | 'rejected';

/**
 * One call's record (issue 11, "call records"): kept callRecords.retentionDays, then purged. Times are ms
 * since epoch. `detail` says more about the outcome: the mailbox a message was left in or logged in to, the
 * number transferred to, the menu or step the caller hung up in, the SIP status of a rejection.
 */
export interface CallRecord {
  /** The INVITE's Call-ID. */
  callId: string;
  offeredAt: number;
  /** Absent when the call was never answered (rejected, or cancelled while ringing). */
  answeredAt?: number;
  endedAt: number;
  /** The caller's number ('' when anonymous). */
  from: string;
  /** Who the call was for: the redirecting number (Diversion/History-Info) when there is one, else the number dialled. */
  to: string;
  /** The number dialled (the Request-URI's): a pilot, or a mailbox number dialled directly. */
  pilot: string;
  /** The service that took the call ('voicemail', 'attendant', 'echo'); '' when none did (rejected). */
  app: string;
  outcome: CallOutcome;
  detail: string;
  /** With outcome 'message': the message's id. */
  messageId?: string;
  /** The cluster worker that carried the call; absent in a single server. */
  worker?: number;
}

/** One caller's data (store.callerData): messages oldest first, call records newest first. */
export interface CallerData {
  messages: MessageRecord[];
  callRecords: CallRecord[];
}

/** What store.eraseCaller removed. */
export interface CallerErasure {
  messages: number;
  queuedEmails: number;
  callRecords: number;
}

/** Which call records to list (store.listCallRecords): newest first. */
export interface CallRecordQuery {
  /** Offered at or after (ms since epoch). */
  since?: number;
  /** Offered before (ms since epoch). */
  until?: number;
  /** Caller's number, exactly. */
  from?: string;
  /** `to` or `pilot`, exactly. */
  to?: string;
  /** At most this many (the newest). Default 1000. */
  limit?: number;
}

/**
 * A new-message email waiting to be sent (issue 10: the email queue lives in the store, so a mail queued when the
 * process stops is sent after the restart, by whichever host claims it first). The payload is the notifier's
 * (notify/email.ts: the rendered mail); the store only keeps it.
 */
export interface NewMailJob {
  /** The mailbox the message is in (for logs). */
  mailbox: string;
  messageId: string;
  /** The notifier's rendered mail (JSON); opaque to the store. */
  payload: string;
}

/** A queued mail as claimMail hands it out. */
export interface MailJob extends NewMailJob {
  id: number;
  /** Attempts so far, this one included (claimMail counts it, so a sender that dies mid-send used one). */
  attempts: number;
}

/**
 * One directory entry's mailbox (directory/ownership.ts): the entry's id (entryUUID, objectGUID), the mailbox
 * number, the entry's DN, and whether the sync disabled it. Kept in the store so that every host of a site sees
 * one ownership and it survives a restart.
 */
export interface DirectoryOwned {
  entryId: string;
  number: string;
  dn: string;
  disabled: boolean;
}

/** A stored message waiting to be appended to its owner's IMAP folder (unified/imap-sync.ts), as claimed. */
export interface ImapAppendJob {
  messageId: string;
  mailbox: string;
  /** Attempts so far, this one included (the claim counts it). */
  attempts: number;
}

/**
 * What one PBX last acknowledged for one mailbox (mwi/ack-ledger.ts): the counts its last 2xx to an unsolicited
 * NOTIFY confirmed, or null while a NOTIFY is out and not acknowledged (the PBX may or may not have it).
 */
export interface MwiAckRow {
  /** The PBX's name (config pbx[].name). */
  pbx: string;
  mailbox: string;
  counts: MessageCounts | null;
}

/** The IMAP append queue at a glance (/metrics, metrics/imap-queue-metrics.ts). */
export interface ImapAppendQueueStats {
  /** Appends queued (leased or not). */
  pending: number;
  /** Queued appends whose last try failed (waiting for their retry). */
  failing: number;
  /** When the oldest queued append was queued (ms since epoch); undefined when none is. */
  oldestQueuedAt: number | undefined;
}

export interface StoreEvents {
  /** A mailbox's counts changed (deposit, heard, saved, deleted, purged). */
  counts: [mailbox: string, counts: MessageCounts];
  /** A mailbox was created, changed (name, aliases, directory listing, greetings) or removed. */
  mailbox: [number: string];
  /**
   * A deposit's commit in this process queued its new-message mail (deposit-mail.ts), now committed: the sender
   * (notify/email.ts) looks at once instead of at its next poll. Not heard from other processes (they poll).
   */
  mailQueued: [mailbox: string];
}

/** Thrown for a mailbox number that does not exist. */
export class NoSuchMailboxError extends Error {
  constructor(readonly number: string) {
    super(`no mailbox ${number}`);
    this.name = 'NoSuchMailboxError';
  }
}

/** Thrown when a deposit would exceed the mailbox's message or minutes quota. */
export class MailboxFullError extends Error {
  constructor(readonly number: string) {
    super(`mailbox ${number} is full`);
    this.name = 'MailboxFullError';
  }
}

export interface MessageStore {
  readonly events: EventEmitter<StoreEvents>;
  /** Folder for temporary recordings (same file system as the message folders, so a move is atomic). */
  readonly tmpDir: string;

  /** The mailbox with this number or alias. */
  findMailbox(numberOrAlias: string): Promise<Mailbox | undefined>;
  listMailboxes(): Promise<Mailbox[]>;
  /**
   * One page of mailboxes in number order, and how many match (the admin API's list: 10,000 mailboxes must
   * stay fast, so the store filters and pages, not its caller). `search` matches a case-insensitive substring
   * of the number, an alias, the name or the email; absent or empty: every mailbox.
   */
  searchMailboxes(query: MailboxQuery): Promise<{ total: number; mailboxes: Mailbox[] }>;
  /** Creates a mailbox (mustChangePin true, setupDone false). Rejects if the number or an alias is taken. */
  createMailbox(spec: MailboxSpec): Promise<Mailbox>;
  /**
   * Config provisioning at start-up: creates missing mailboxes; for existing ones sets name, email, aliases
   * and the optional fields the spec gives, but never the PIN (the owner may have changed it). One
   * transaction. Reports what it changed (the caller logs it: nothing is overwritten silently).
   */
  provision(specs: readonly MailboxSpec[]): Promise<ProvisionReport>;
  /** Changes the fields given. failedLogins: 0 also clears the mailbox's PIN back-off (`vmpilot mailbox unlock`). */
  updateMailbox(number: string, patch: Partial<Omit<Mailbox, 'number' | 'pinHash'>>): Promise<Mailbox>;
  /**
   * Removes a mailbox for good: its row, aliases, greetings, messages (rows and audio), stored MWI
   * subscriptions and PIN back-off. Announces 'counts' (all zero: the lamp goes off) and then 'mailbox', here
   * and, through the change feed, in other processes. Rejects with NoSuchMailboxError.
   */
  deleteMailbox(numberOrAlias: string): Promise<DeletedMailbox>;
  /**
   * Gives a mailbox a new number; its messages (audio too), greetings, aliases, PIN and back-off follow. The
   * new number may be one of its own aliases (the two swap roles: the alias is dropped); any other number or
   * alias in use rejects with NumberInUseError. Announces zero counts for the old number (its lamp goes off),
   * the counts of the new one, and 'mailbox' for both.
   */
  renumberMailbox(numberOrAlias: string, newNumber: string): Promise<Mailbox>;
  /**
   * A bulk import (`vmpilot mailbox import`, POST /api/mailboxes/import): creates and updates the mailboxes
   * given, all in ONE transaction: any failure (a number or alias taken, a mailbox to update that is gone)
   * rejects with nothing applied. Aliases are moved before they are checked, so one import can move an alias
   * from one of its mailboxes to another. Announces 'mailbox' for each after the commit.
   */
  importMailboxes(rows: readonly MailboxImport[]): Promise<{ created: number; updated: number }>;
  /** Hashes and stores a new PIN (policy is checked by the caller, pin.ts). Clears mustChangePin. */
  setPin(number: string, pin: string): Promise<void>;
  /**
   * A PIN entry, under the back-off of pin-backoff.ts. Present and absent mailboxes take the same path (an
   * absent one is hashed against a dummy hash) so neither the answer nor its time says which it is. A wrong
   * PIN counts a failure under the mailbox and the source; a right one clears the mailbox's failures.
   */
  checkPin(attempt: PinAttempt): Promise<PinCheck>;
  /** The MWI subscriptions kept (expired ones too: the caller drops them). */
  listSubscriptions(): Promise<StoredSubscription[]>;
  /** Writes these subscriptions (insert or replace) and deletes these ids, in one transaction. */
  saveSubscriptions(put: readonly StoredSubscription[], remove: readonly string[]): Promise<void>;
  /** Store-wide counters (pinFailures, pinBackoffAlerts), for an administrator or /metrics. */
  counters(): Promise<Record<string, number>>;
  /** Stores a recorded greeting or name (takes over the temporary file); undefined deletes it. */
  setGreeting(number: string, kind: GreetingKind, audioFile: string | undefined, until?: number): Promise<void>;

  /** Whether one more message fits (count and minutes quotas). */
  hasRoom(number: string): Promise<boolean>;
  /** Stores a message durably (see the module comment). Rejects with MailboxFullError or NoSuchMailboxError. */
  deposit(message: NewMessage): Promise<MessageRecord>;
  /** Messages in play order: urgent first, then oldest first; one folder or all. */
  listMessages(number: string, folder?: Folder): Promise<MessageRecord[]>;
  getMessage(id: string): Promise<MessageRecord | undefined>;
  /** Moves a message to a folder ('deleted' is undoable until purge). */
  setFolder(id: string, folder: Folder): Promise<void>;
  markHeard(id: string): Promise<void>;
  setUrgent(id: string, urgent: boolean): Promise<void>;
  /** Removes deleted messages of a mailbox for good (rows and audio). Returns how many. */
  purgeDeleted(number: string): Promise<number>;
  /** Removes new/saved messages older than the retention periods (ms; 0 = keep). Returns how many. */
  expire(newMaxAgeMs: number, savedMaxAgeMs: number): Promise<number>;
  counts(number: string): Promise<MessageCounts>;

  /** Appends finished calls' records (call-records/writer.ts batches them), in one transaction. */
  addCallRecords(records: readonly CallRecord[]): Promise<void>;
  /** Call records matching the query, newest first. */
  listCallRecords(query: CallRecordQuery): Promise<CallRecord[]>;
  /** Deletes call records offered before `before` (ms since epoch). Returns how many. */
  purgeCallRecords(before: number): Promise<number>;
  /** Forgets mailbox renumbers made before `before` (ms since epoch; mailbox-renumber.ts). Returns how many. */
  trimRenumbers(before: number): Promise<number>;

  /**
   * What the store holds about one caller (a data-subject access request; seed 002's "erase by caller
   * number"): the messages they left, in every mailbox and folder, and the records of their calls. `caller`
   * matches exactly as the PBX sent it (the From user part that deposits and call records keep).
   */
  callerData(caller: string): Promise<CallerData>;
  /**
   * Erases for good what callerData lists: messages (rows and audio; lamps follow), their queued emails,
   * and the call records. Messages already mailed or copied to an IMAP mailbox are outside the store.
   */
  eraseCaller(caller: string): Promise<CallerErasure>;

  /**
   * Queues a mail. Beyond `maxQueued` mails the oldest unclaimed ones are deleted to make room; returns how many
   * (the caller logs them).
   */
  enqueueMail(job: NewMailJob, maxQueued: number): Promise<number>;
  /**
   * Leases the oldest mail due at `now` (not before its retry time, not leased by anyone until after `now`) to
   * `claimant` for `leaseMs`, counting an attempt. Exclusive across processes and hosts: a mail is handed to one
   * claimant at a time; only a lease that ran out (its sender died) lets another have it.
   */
  claimMail(claimant: string, now: number, leaseMs: number): Promise<MailJob | undefined>;
  /** Deletes a mail: sent, or given up (the caller logs why). */
  finishMail(id: number): Promise<void>;
  /** Releases a claimed mail to be tried again at `notBefore` (ms since epoch), noting the error. */
  retryMail(id: number, notBefore: number, error: string): Promise<void>;

  /** Every entry the directory sync owns (directory/ownership.ts). */
  listDirectoryOwned(): Promise<DirectoryOwned[]>;
  /** Writes these owned entries (insert or replace, by entryId) and deletes these entry ids, in one transaction. */
  saveDirectoryOwned(put: readonly DirectoryOwned[], remove: readonly string[]): Promise<void>;

  /**
   * Queues the IMAP append of a stored message (unified/imap-sync.ts), due at once; a message already queued is
   * left as it is. Any process may queue; the site's leader claims.
   */
  enqueueImapAppend(messageId: string, mailbox: string): Promise<void>;
  /**
   * Leases the oldest append due at `now` to `claimant` for `leaseMs`, counting an attempt; exclusive across
   * processes and hosts, as claimMail.
   */
  claimImapAppend(claimant: string, now: number, leaseMs: number): Promise<ImapAppendJob | undefined>;
  /**
   * Extends `claimant`'s lease on an append to `until` (ms since epoch), while it works on it; false when the
   * lease is no longer its own (it ran out and another claimant took the append).
   */
  renewImapAppend(messageId: string, claimant: string, until: number): Promise<boolean>;
  /** Deletes an append: done, or given up (the caller logs why). */
  finishImapAppend(messageId: string): Promise<void>;
  /** Releases a claimed append to be tried again at `notBefore` (ms since epoch), noting the error. */
  retryImapAppend(messageId: string, notBefore: number, error: string): Promise<void>;
  /** Appends queued (leased or not). */
  countImapAppends(): Promise<number>;
  /** How many appends are queued, how many of them failed last time, and the oldest's age. */
  imapAppendQueueStats(): Promise<ImapAppendQueueStats>;

  /** Every PBX's acknowledged MWI state, by mailbox (mwi/ack-ledger.ts). */
  listMwiAcked(): Promise<MwiAckRow[]>;
  /** Writes these rows (insert or replace by PBX and mailbox) in one transaction. */
  saveMwiAcked(rows: readonly MwiAckRow[]): Promise<void>;

  /** Start-up check: orphaned audio, rows without audio, temporary files (see RepairReport). */
  repair(): Promise<RepairReport>;
  /**
   * The recordings in progress of processes that stopped (a cluster worker killed), delivered as repair()
   * would; safe at any time, while other processes record (repair.ts). Reports only those recordings.
   */
  recoverRecordings(): Promise<RepairReport>;
  close(): Promise<void>;
}
