/**
 * Rows (rows.ts: the same columns in SQLite and PostgreSQL) as replica content (replica/types.ts): the
 * records without what is local to one store (audio paths, the PIN back-off's failure count).
 */
import { storeLayout } from '../layout.js';
import { toMailbox, toMessage, type MailboxRow, type MessageRow } from '../rows.js';
import type { MailboxContent, MessageContent } from './types.js';

/** toMailbox and toMessage derive audio paths from a layout; content has none, so any layout will do. */
const NO_FILES = storeLayout('/');

export function mailboxContent(row: MailboxRow, aliases: string[]): MailboxContent {
  const { greetings: _g, failedLogins: _f, ...fields } = toMailbox(row, aliases, [], NO_FILES);
  return { ...fields, createdAt: row.created_at };
}

export function messageContent(row: MessageRow): MessageContent {
  const { audioPath: _path, ...message } = toMessage(row, NO_FILES);
  return message;
}

/** A mailbox's columns in INSERT order (MAILBOX_COLUMNS), from its content. */
export const MAILBOX_COLUMNS = [
  'number',
  'name',
  'email',
  'email_attach_audio',
  'pin_hash',
  'must_change_pin',
  'setup_done',
  'locked',
  'temporary_greeting_until',
  'max_messages',
  'max_minutes',
  'hidden_from_directory',
  'created_at',
] as const;

export function mailboxValues(m: MailboxContent): (string | number | null)[] {
  return [
    m.number,
    m.name,
    m.email ?? null,
    m.emailAttachAudio ? 1 : 0,
    m.pinHash,
    m.mustChangePin ? 1 : 0,
    m.setupDone ? 1 : 0,
    m.locked ? 1 : 0,
    m.temporaryGreetingUntil ?? null,
    m.maxMessages,
    m.maxMinutes,
    m.hiddenFromDirectory ? 1 : 0,
    m.createdAt,
  ];
}

/** A message's columns in INSERT order, and its values. */
export const MESSAGE_COLUMNS = ['id', 'mailbox', 'folder', 'caller', 'caller_name', 'received_at', 'duration_ms', 'urgent', 'heard', 'reason', 'forwarded_from'] as const;

export function messageValues(m: MessageContent): (string | number | null)[] {
  return [m.id, m.mailbox, m.folder, m.from, m.fromName, m.receivedAt, m.durationMs, m.urgent ? 1 : 0, m.heard ? 1 : 0, m.reason, m.forwardedFrom ?? null];
}

/** "col = excluded.col" for every column but the key: an upsert's SET list (SQLite and PostgreSQL alike). */
export const upsertSet = (columns: readonly string[]): string =>
  columns
    .slice(1)
    .map((c) => `${c} = excluded.${c}`)
    .join(', ');
