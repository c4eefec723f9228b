/**
 * The store thread: runs the SQLite store (sqlite.ts) inside a worker_threads Worker, so that its synchronous
 * statements, commits and fsyncs never hold the main thread, which paces RTP (issue 13: "a slow disk or
 * SQLITE_BUSY delays a deposit, never a packet"). It answers calls from threaded-store.ts by method name,
 * forwards store events the main thread listens to, and sends its log lines to the main thread's logger.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { openSqliteStore, SqliteStore } from '../sqlite.js';
import { toWire } from './error-wire.js';
import type { FromThread, StoreThreadData, ToThread } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('store-thread.ts runs as a worker thread (threaded-store.ts starts it)');
const data = workerData as StoreThreadData;
const post = (msg: FromThread): void => port.postMessage(msg);

const logger = pino({ level: data.logLevel }, { write: (line: string) => post({ kind: 'log', record: JSON.parse(line) as Record<string, unknown> }) });

/** The store's public methods, by name (whatever SqliteStore has, including methods added later). */
const METHODS = Object.getOwnPropertyNames(SqliteStore.prototype).filter(
  (name) => name !== 'constructor' && typeof (SqliteStore.prototype as unknown as Record<string, unknown>)[name] === 'function',
);

try {
  const store = await openSqliteStore(data.dir, { ...data, logger, onFeedPosition: (seq) => post({ kind: 'feed-position', seq }) });
  const target = store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const listening = new Set<string>();
  port.on('message', (msg: ToThread) => {
    if (msg.kind === 'listen') {
      if (listening.has(msg.event)) return;
      listening.add(msg.event);
      store.events.on(msg.event as 'counts', (...args: unknown[]) => post({ kind: 'event', event: msg.event, args }));
      return;
    }
    const { id, method, args } = msg;
    Promise.resolve()
      .then(() => {
        if (!METHODS.includes(method)) throw new TypeError(`the message store has no method ${method}`);
        return target[method]!(...args);
      })
      .then(
        (value) => post({ kind: 'result', id, value }),
        (err: unknown) => post({ kind: 'error', id, error: toWire(err) }),
      )
      .catch((err: unknown) => post({ kind: 'error', id, error: toWire(err) })); // a value that cannot be cloned
  });
  post({ kind: 'ready', tmpDir: store.tmpDir, methods: METHODS });
} catch (err) {
  post({ kind: 'open-failed', error: toWire(err) });
}
