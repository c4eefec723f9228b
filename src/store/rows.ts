/**
 * SQLite rows (schema.sql.ts) and the contract's records (types.ts), one way and the other. SQLite has no
 * booleans (0/1) and NULL for absent values; records have booleans and absent keys. Audio paths are derived
 * from the layout, never stored.
 */
import { greetingPath, messageAudioPath, type StoreLayout } from './layout.js';
import type { MessageSidecar } from './message-sidecar.js';
import type { DepositReason, Folder, GreetingKind, Mailbox, MessageRecord } from './types.js';

export interface MailboxRow {
  number: string;
  name: string;
  email: string | null;
  email_attach_audio: number;
  pin_hash: string;
  must_change_pin: number;
  setup_done: number;
  failed_logins: number;
  locked: number;
  temporary_greeting_until: number | null;
  max_messages: number;
  max_minutes: number;
  hidden_from_directory: number;
  created_at: number;
}

export interface MessageRow {
  id: string;
  mailbox: string;
  folder: Folder;
  caller: string;
  caller_name: string;
  received_at: number;
  duration_ms: number;
  urgent: number;
  heard: number;
  reason: DepositReason;
  forwarded_from: string | null;
}

export function toMailbox(row: MailboxRow, aliases: string[], greetingKinds: GreetingKind[], layout: StoreLayout): Mailbox {
  const greetings: Mailbox['greetings'] = {};
  for (const kind of greetingKinds) greetings[kind] = greetingPath(layout, row.number, kind);
  const mailbox: Mailbox = {
    number: row.number,
    name: row.name,
    emailAttachAudio: row.email_attach_audio !== 0,
    aliases,
    pinHash: row.pin_hash,
    mustChangePin: row.must_change_pin !== 0,
    setupDone: row.setup_done !== 0,
    failedLogins: row.failed_logins,
    locked: row.locked !== 0,
    greetings,
    maxMessages: row.max_messages,
    maxMinutes: row.max_minutes,
    hiddenFromDirectory: row.hidden_from_directory !== 0,
  };
  if (row.email !== null) mailbox.email = row.email;
  if (row.temporary_greeting_until !== null) mailbox.temporaryGreetingUntil = row.temporary_greeting_until;
  return mailbox;
}

export function toMessage(row: MessageRow, layout: StoreLayout): MessageRecord {
  const message: MessageRecord = {
    id: row.id,
    mailbox: row.mailbox,
    folder: row.folder,
    from: row.caller,
    fromName: row.caller_name,
    receivedAt: row.received_at,
    durationMs: row.duration_ms,
    urgent: row.urgent !== 0,
    heard: row.heard !== 0,
    reason: row.reason,
    audioPath: messageAudioPath(layout, row.mailbox, row.id),
  };
  if (row.forwarded_from !== null) message.forwardedFrom = row.forwarded_from;
  return message;
}

/** The mailbox columns updateMailbox may set, by record key, with the conversion to a column value. */
export const MAILBOX_PATCH_COLUMNS = {
  name: ['name', (v: unknown) => String(v)],
  email: ['email', (v: unknown) => (v === undefined || v === null || v === '' ? null : String(v))],
  emailAttachAudio: ['email_attach_audio', (v: unknown) => (v ? 1 : 0)],
  mustChangePin: ['must_change_pin', (v: unknown) => (v ? 1 : 0)],
  setupDone: ['setup_done', (v: unknown) => (v ? 1 : 0)],
  locked: ['locked', (v: unknown) => (v ? 1 : 0)],
  temporaryGreetingUntil: ['temporary_greeting_until', (v: unknown) => (v === undefined || v === null ? null : nonNegativeInt(v, 'temporaryGreetingUntil'))],
  maxMessages: ['max_messages', (v: unknown) => nonNegativeInt(v, 'maxMessages')],
  maxMinutes: ['max_minutes', (v: unknown) => nonNegativeInt(v, 'maxMinutes')],
  hiddenFromDirectory: ['hidden_from_directory', (v: unknown) => (v ? 1 : 0)],
} as const satisfies Partial<Record<keyof Mailbox, readonly [string, (v: unknown) => string | number | null]>>;

function nonNegativeInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new TypeError(`${what} must be a non-negative integer`);
  return v;
}

/** The row a message's deposit metadata makes (folder 'new', not heard). */
export function sidecarRow(meta: MessageSidecar): MessageRow {
  return {
    id: meta.id,
    mailbox: meta.mailbox,
    folder: 'new',
    caller: meta.from,
    caller_name: meta.fromName,
    received_at: meta.receivedAt,
    duration_ms: meta.durationMs,
    urgent: meta.urgent ? 1 : 0,
    heard: 0,
    reason: meta.reason,
    forwarded_from: meta.forwardedFrom ?? null,
  };
}
