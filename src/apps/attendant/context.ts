/**
 * What the attendant app is given, built once by the server (setup.ts) and shared by every call: the config's
 * attendants, the store (mailboxes, directory, PINs), the prompt voices, and the two ways out of the app that
 * other parts own: a supervised transfer (src/call/supervised-transfer.ts, another engineer's) and leaving a
 * message (the voicemail app's deposit). Both are injected, so the attendant does not depend on their insides
 * and tests can replace them.
 */
import type { Logger } from 'pino';
import type { PinBackoffPolicy } from '../../store/pin-backoff.js';
import type { Call } from '../../call/call.js';
import type { AttendantConfig } from '../../config/attendant-schema.js';
import type { DepositReason, Mailbox, MessageStore } from '../../store/types.js';
import type { Voices } from './voice.js';
import type { MailboxDirectory } from './directory.js';

/** The part of the Call API the attendant's menus use (flow tests can script a caller with it). */
export type AttendantCall = Pick<Call, 'callId' | 'play' | 'collectDigits' | 'record' | 'transfer' | 'hangup' | 'flushDigits'>;

/** How a PBX's calls are transferred (pbx[].transfer). */
export type TransferMethod = 'refer' | 'supervised';

/** How a supervised transfer ended (the contract of src/call/supervised-transfer.ts). */
export type SupervisedOutcome = 'answered' | 'busy' | 'no-answer' | 'failed' | 'invalid';

/**
 * What the attendant gives a supervised transfer: how long to ring, and its logger. Where the new call goes
 * (the PBX's URI) and its credentials are the server's business: it binds them when it wraps
 * supervisedTransfer() of src/call/supervised-transfer.ts into this function's shape.
 */
export interface SupervisedTransferOptions {
  /** Longest ring before 'no-answer', ms. */
  timeoutMs: number;
  logger: Logger;
}

/** A supervised transfer as the attendant calls it (the server's wrapper over src/call/supervised-transfer.ts). */
export type SupervisedTransfer = (call: Call, target: string, opts: SupervisedTransferOptions) => Promise<{ outcome: SupervisedOutcome; status: number }>;

/** Leaves the caller in a mailbox's deposit flow (greeting, beep, message); resolves when that flow ends. */
export type LeaveMessage = (call: Call, mailbox: Mailbox, reason: DepositReason) => Promise<void>;

export interface AttendantContext {
  /** config.attendants (attendantFor picks the one serving a pilot). */
  attendants: readonly AttendantConfig[];
  store: MessageStore;
  /** The mailboxes as menus see them, cached until a mailbox changes (directory.ts). */
  directory: MailboxDirectory;
  logger: Logger;
  /** Prompts per language (voice.ts). */
  voices: Voices;
  /** Folder of the greetings recorded by phone (greeting-slots.ts). */
  greetingsDir: string;
  /** The PIN back-off of mailbox log-ins (voicemail.lockAfter, voicemail.pinBackoff); the admin log-in shares it. */
  pinBackoff: PinBackoffPolicy;
  /** The transfer method of the PBX this call came from. */
  transferMethod: (call: Call) => TransferMethod;
  /** Absent: every transfer is by REFER. */
  supervisedTransfer?: SupervisedTransfer;
  /** Absent: a failed transfer returns to the menu instead of offering a message. */
  leaveMessage?: LeaveMessage;
  /** Clock (ms since epoch) for schedules; tests fix it. Default Date.now. */
  now?: () => number;
}
