/**
 * Store errors beyond the two in the contract (types.ts: NoSuchMailboxError, MailboxFullError). Both belong
 * in types.ts with the others; they live here because the contract file is not this module's to change.
 */

import { NoSuchMailboxError } from './types.js';

/** Thrown for a message id that does not exist. */
export class NoSuchMessageError extends Error {
  constructor(readonly id: string) {
    super(`no message ${id}`);
    this.name = 'NoSuchMessageError';
  }
}

/** Thrown when a mailbox number or alias is already a mailbox's number or alias (one numbering plan). */
export class NumberInUseError extends Error {
  constructor(
    readonly number: string,
    /** The mailbox that has it. */
    readonly owner: string,
  ) {
    super(number === owner ? `mailbox ${number} already exists` : `${number} is already an alias of mailbox ${owner}`);
    this.name = 'NumberInUseError';
  }
}

/** The store's database cannot be reached (PostgreSQL down, a wrong host or port, refused credentials). */
export class StoreUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * A deposit for a mailbox that no longer exists (deleted while the caller was recording): the recording was not
 * stored as a message but kept for an administrator at `keptAt` (orphans/, mailbox-gone.ts).
 */
export class MailboxGoneError extends NoSuchMailboxError {
  constructor(
    number: string,
    readonly keptAt: string,
  ) {
    super(number);
    this.message = `mailbox ${number} no longer exists; the message was kept in ${keptAt}`;
    this.name = 'MailboxGoneError';
  }
}
