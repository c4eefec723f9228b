/**
 * Errors across the store thread's message port. Structured clone keeps only name and message of an Error and
 * drops its class and fields, but callers test store errors by class (`err instanceof MailboxFullError`) and
 * read their fields (`err.number`, SQLite's `err.code`): errors travel as plain data (name, message, stack,
 * own fields) and are rebuilt as instances of the same class when the class is one of STORE_ERRORS, as an
 * Error with the same name and fields otherwise.
 */
import { MailboxGoneError, NoSuchMessageError, NumberInUseError } from '../errors.js';
import { SchemaTooNewError } from '../schema.sql.js';
import { MailboxFullError, NoSuchMailboxError } from '../types.js';

/** An error as it crosses the port. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  /** Own enumerable fields with cloneable values (code, number, id, owner...). */
  fields: Record<string, unknown>;
}

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Classes rebuilt by name. A store method that throws a new error class: add the class here and callers keep
 * `instanceof`; without it they still get its name, message and fields.
 */
const STORE_ERRORS: Record<string, ErrorClass> = {
  NoSuchMailboxError,
  MailboxFullError,
  NoSuchMessageError,
  NumberInUseError,
  MailboxGoneError,
  SchemaTooNewError,
  TypeError,
  RangeError,
};

export function toWire(err: unknown): WireError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), fields: {} };
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(err)) {
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) fields[key] = value;
  }
  return { name: err.name, message: err.message, stack: err.stack, fields };
}

export function fromWire(wire: WireError): Error {
  const cls = Object.hasOwn(STORE_ERRORS, wire.name) ? STORE_ERRORS[wire.name] : undefined;
  // Not through the constructor: its arguments differ per class, and the fields below are what it would set.
  const err = cls ? (Object.create(cls.prototype as object) as Error) : new Error(wire.message);
  Object.defineProperty(err, 'message', { value: wire.message, writable: true, configurable: true });
  Object.assign(err, wire.fields);
  if (err.name !== wire.name) Object.defineProperty(err, 'name', { value: wire.name, writable: true, configurable: true });
  // The worker's stack says where it failed in the store; the caller's own frames follow from the await.
  Object.defineProperty(err, 'stack', { value: wire.stack ?? `${wire.name}: ${wire.message}`, writable: true, configurable: true });
  return err;
}
