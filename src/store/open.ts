/**
 * Opens the store a config names: PostgreSQL when storage.url is set (postgres.ts), else SQLite under
 * storage.dir, in its own thread for the server (thread/threaded-store.ts) or on the calling thread for the
 * CLI. Every process (single server, front door, cluster workers, `vmpilot` commands) opens through here.
 *
 * Why PostgreSQL is not put behind the store thread: `pg` does no blocking work on the calling thread
 * (sockets are asynchronous, as is the audio cache's file I/O), so the thread that protects the media loop from
 * SQLite's synchronous statements and fsyncs would only add a copy of every argument and result; and the
 * change listener's connection (LISTEN) is session state this process must own.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { DEFAULT_MAIL_QUEUE_MAX } from './deposit-mail.js';
import type { StoreCallObserver } from './thread/threaded-store.js';
import type { MessageStore } from './types.js';

/** The store with every method call timed and told to `onCall` (as the store thread's proxy does for SQLite). */
function observed<S extends MessageStore>(store: S, onCall: StoreCallObserver): S {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string' || prop === 'constructor') return value;
      return (...args: unknown[]) => {
        const started = performance.now();
        const settle = (ok: boolean): void => onCall(prop, (performance.now() - started) / 1000, ok);
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (result instanceof Promise) result.then(() => settle(true), () => settle(false));
        return result;
      };
    },
  });
}

/** How often the SQLite store polls for other processes' changes, ms (a PBX lamp follows within ~1/4 s). */
const SQLITE_WATCH_MS = 200;

export interface OpenStoreOptions {
  logger?: Logger;
  /** Announce changes made by other processes and hosts (the server: MWI, the attendant's directory). */
  watchChanges?: boolean;
  /** SQLite in its own thread (the server, whose main thread paces RTP). Needs logger. */
  thread?: boolean;
  /** Told each store call's method, duration and outcome (the server's /metrics). */
  onCall?: StoreCallObserver;
}

export async function openConfiguredStore(config: Pick<Config, 'storage' | 'voicemail' | 'smtp' | 'unifiedMessaging'>, opts: OpenStoreOptions = {}): Promise<MessageStore> {
  // With smtp, every process's deposits queue their new-message mail in their own commit (deposit-mail.ts); the
  // process that maintains the store sends it (notify/email.ts).
  const depositMail = config.smtp ? { maxQueued: DEFAULT_MAIL_QUEUE_MAX } : undefined;
  // With unified messaging, likewise each deposit's IMAP append (the leader's sync works the queue: unified/).
  const depositImapAppend = config.unifiedMessaging?.imap !== undefined;
  const settings = { maxMessages: config.voicemail.maxMessages, maxMinutes: config.voicemail.maxMinutes, depositMail, depositImapAppend };
  // Loaded on demand: `check` and `--help` need neither pg nor the native SQLite module.
  if (config.storage.url !== undefined) {
    const { openPostgresStore } = await import('./postgres.js');
    const store = await openPostgresStore(config.storage.url, config.storage.dir, { ...settings, logger: opts.logger, watchChanges: opts.watchChanges });
    return opts.onCall ? observed(store, opts.onCall) : store;
  }
  const watchChangesMs = opts.watchChanges ? SQLITE_WATCH_MS : 0;
  if (opts.thread && opts.logger) {
    const { openThreadedStore } = await import('./thread/threaded-store.js');
    return openThreadedStore(config.storage.dir, { ...settings, watchChangesMs, logger: opts.logger, onCall: opts.onCall });
  }
  const { openSqliteStore } = await import('./sqlite.js');
  return openSqliteStore(config.storage.dir, { ...settings, watchChangesMs, logger: opts.logger });
}
