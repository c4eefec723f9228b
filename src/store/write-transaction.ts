/**
 * How the SQLite store writes: one transaction, BEGIN IMMEDIATE, tried again while the database stays locked.
 *
 * IMMEDIATE takes the write lock before the first read, so another process's commit cannot invalidate what the
 * transaction read (in WAL mode SQLite answers that with SQLITE_BUSY at once, without waiting for busy_timeout).
 * A lock not had within busy_timeout is asked for again, WRITE_ATTEMPTS times in all: in the store thread the
 * wait holds no call's media, and a deposit whose audio is already in place should commit rather than fail.
 */
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';

/** Times a write transaction is tried when the database stays locked beyond busy_timeout. */
export const WRITE_ATTEMPTS = 3;

/** SQLITE_BUSY and its extended codes (SQLITE_BUSY_SNAPSHOT, SQLITE_BUSY_RECOVERY, ...). */
export function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/** Runs `fn` as a write transaction (nested inside another: a savepoint, never retried on its own). */
export function writeTransaction<T>(db: Database.Database, fn: () => T, logger: Logger | undefined): T {
  for (let attempt = 1; ; attempt++) {
    try {
      return db.transaction(fn).immediate();
    } catch (err) {
      if (attempt >= WRITE_ATTEMPTS || !isBusy(err) || db.inTransaction) throw err;
      logger?.warn({ err, attempt }, 'database busy beyond busy_timeout; trying the write again');
    }
  }
}
