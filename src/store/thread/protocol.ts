/**
 * The messages between the main thread's store proxy (threaded-store.ts) and the store thread
 * (store-thread.ts). Calls are generic, a method name and its arguments, so store methods added later need
 * no change here.
 */
import type { DepositMailOptions } from '../deposit-mail.js';
import type { WireError } from './error-wire.js';

/** What the thread is started with (workerData). */
export interface StoreThreadData {
  dir: string;
  maxMessages?: number;
  maxMinutes?: number;
  busyTimeoutMs?: number;
  watchChangesMs?: number;
  /** Where the previous thread's change watcher had read up to (a restarted thread hears what it missed). */
  watchFromSeq?: number;
  /** Queue each deposit's new-message mail in its commit (deposit-mail.ts). */
  depositMail?: DepositMailOptions;
  /** Queue each deposit's IMAP append in its commit (sqlite.ts). */
  depositImapAppend?: boolean;
  /** The change-feed origin of every thread of one proxy (sqlite.ts `origin`): a restarted thread's rows are its own. */
  origin?: string;
  /** pino level name for the thread's own log lines (forwarded to the main thread's logger). */
  logLevel: string;
}

export type ToThread =
  | { kind: 'call'; id: number; method: string; args: unknown[] }
  /** Start forwarding this store event (the main thread got its first listener for it). */
  | { kind: 'listen'; event: string };

export type FromThread =
  | { kind: 'ready'; tmpDir: string; methods: string[] }
  | { kind: 'open-failed'; error: WireError }
  | { kind: 'result'; id: number; value: unknown }
  | { kind: 'error'; id: number; error: WireError }
  | { kind: 'event'; event: string; args: unknown[] }
  /** The change feed position the thread's watcher has read up to. */
  | { kind: 'feed-position'; seq: number }
  /** One pino record written in the thread. */
  | { kind: 'log'; record: Record<string, unknown> };
