/**
 * The message store as the server's main thread uses it: a MessageStore whose every method is forwarded to the
 * store thread (store-thread.ts), where the SQLite store runs. The main thread then only posts messages: no
 * statement, commit or fsync runs on the loop that paces RTP.
 *
 * Forwarding is generic: a method is "method name + arguments" over the port, answered by a value or an error
 * rebuilt with its class and fields (error-wire.ts); the thread tells which methods exist, so methods added to
 * the store later work without edits here. Store events are forwarded once the main thread listens to them.
 *
 * The thread dying (a native crash, out of memory) rejects every call in flight with StoreThreadExitError,
 * logs, and starts a new thread; calls made meanwhile wait for it. A thread that cannot open the store again
 * (the restart fails) makes every later call reject with that error: the process does not exit for it, the
 * operator sees it in the log and the calls that need the store fail one by one.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { MessageStore, StoreEvents } from '../types.js';
import { emitSafely } from '../safe-emit.js';
import { startThreadModule } from '../../thread-module.js';
import { fromWire } from './error-wire.js';
import type { FromThread, StoreThreadData, ToThread } from './protocol.js';

export type ThreadedStoreOptions = Omit<StoreThreadData, 'dir' | 'logLevel'> & {
  /** Receives the thread's log lines and this proxy's own. */
  logger: Logger;
  /** Told how long each store call took, from the post to the answer (queueing in the thread included). */
  onCall?: StoreCallObserver;
};

/** A store call's method, duration (seconds) and whether it succeeded (/metrics: store operation latency). */
export type StoreCallObserver = (method: string, seconds: number, ok: boolean) => void;

/** A call was in flight, or made, while the store thread was not running. */
export class StoreThreadExitError extends Error {
  constructor(readonly detail: string) {
    super(`the message store thread stopped (${detail}); the store call did not complete`);
    this.name = 'StoreThreadExitError';
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/** Restarts within this window count as a crash loop. */
const CRASH_WINDOW_MS = 60_000;
const MAX_RESTARTS_IN_WINDOW = 5;

/** A new Worker for the thread's module (store-thread.ts beside this file). */
function startThread(data: StoreThreadData): Worker {
  return startThreadModule(import.meta.url, './store-thread', data);
}

/** The proxy's engine (openThreadedStore wraps it as a MessageStore). */
export class ThreadedStore {
  readonly events = new EventEmitter<StoreEvents>();
  tmpDir = '';
  methods: ReadonlySet<string> = new Set();
  private worker!: Worker;
  private ready!: Promise<void>;
  private readonly pending = new Map<number, Pending>();
  private readonly listening = new Set<string>();
  private nextId = 1;
  private closing = false;
  private failed: Error | undefined;
  private readonly restarts: number[] = [];
  private readonly log: Logger;

  constructor(
    private readonly data: StoreThreadData,
    logger: Logger,
    private readonly onCall?: StoreCallObserver,
  ) {
    this.log = logger;
    // One origin for every thread this proxy starts: a thread restarted after a crash must not hear its
    // predecessor's changes as another process's (they were announced already; announcing them again sent the
    // PBX a duplicate NOTIFY).
    this.data.origin ??= randomUUID();
    (this.events as EventEmitter).on('newListener', (event: string | symbol) => {
      if (typeof event !== 'string' || event === 'newListener' || event === 'removeListener' || this.listening.has(event)) return;
      this.listening.add(event);
      this.send({ kind: 'listen', event });
    });
  }

  /** Starts the thread; resolves once the store is open, rejects with the store's error if it cannot open. */
  start(): Promise<void> {
    const worker = startThread(this.data);
    this.worker = worker;
    this.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: FromThread) => {
        if (msg.kind === 'ready') {
          this.tmpDir = msg.tmpDir;
          this.methods = new Set(msg.methods);
          for (const event of this.listening) worker.postMessage({ kind: 'listen', event } satisfies ToThread);
          resolve();
        } else if (msg.kind === 'open-failed') {
          reject(fromWire(msg.error));
        } else {
          this.receive(msg);
        }
      });
      worker.on('error', (err) => {
        this.log.error({ err }, 'message store thread failed');
        reject(err);
      });
      worker.on('exit', (code) => {
        reject(new StoreThreadExitError(`exit code ${code}`));
        this.exited(worker, code);
      });
    });
    // Nobody may be waiting on `ready` when the thread dies; the calls waiting on it get the error.
    this.ready.catch(() => undefined);
    return this.ready;
  }

  /** Forwards one call; resolves or rejects with what the store method did. */
  async call(method: string, args: unknown[]): Promise<unknown> {
    if (this.closing && method !== 'close') throw new Error('the store is closed');
    if (this.failed) throw this.failed;
    await this.ready;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, this.timed(method, { resolve, reject }));
      this.send({ kind: 'call', id, method, args });
    });
  }

  /** With an onCall observer: the same settlement, timed from now. */
  private timed(method: string, p: Pending): Pending {
    const observe = this.onCall;
    if (!observe) return p;
    const started = performance.now();
    const done = (ok: boolean): void => observe(method, (performance.now() - started) / 1000, ok);
    return {
      resolve: (value) => {
        done(true);
        p.resolve(value);
      },
      reject: (err) => {
        done(false);
        p.reject(err);
      },
    };
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    try {
      await this.ready;
      const id = this.nextId++;
      await new Promise((resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        this.send({ kind: 'call', id, method: 'close', args: [] });
      });
    } catch (err) {
      this.log.warn({ err }, 'message store thread did not close cleanly');
    } finally {
      await this.worker.terminate();
    }
  }

  private send(msg: ToThread): void {
    try {
      this.worker?.postMessage(msg);
    } catch (err) {
      // Arguments that cannot be cloned (a function, a socket): the caller's mistake, its call fails.
      if (msg.kind !== 'call') throw err;
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      p?.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private receive(msg: FromThread): void {
    if (msg.kind === 'result' || msg.kind === 'error') {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.kind === 'result') p.resolve(msg.value);
      else p.reject(fromWire(msg.error));
    } else if (msg.kind === 'event') {
      emitSafely(this.events, msg.event, msg.args, (err) => this.log.error({ err, event: msg.event }, 'a store event listener threw'));
    } else if (msg.kind === 'feed-position') {
      // A thread started after this one dies goes on from here, so changes made meanwhile are still heard.
      this.data.watchFromSeq = msg.seq;
    } else if (msg.kind === 'log') {
      this.relayLog(msg.record);
    }
  }

  private relayLog(record: Record<string, unknown>): void {
    const { level, msg, time: _time, pid: _pid, hostname: _hostname, ...fields } = record;
    const name = typeof level === 'number' ? (this.log.levels.labels[level] ?? 'info') : 'info';
    (this.log[name as 'info'] as (obj: object, msg?: string) => void).call(this.log, { ...fields, thread: 'store' }, typeof msg === 'string' ? msg : '');
  }

  private exited(worker: Worker, code: number): void {
    if (worker !== this.worker) return;
    const err = new StoreThreadExitError(`exit code ${code}`);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    if (this.closing) return;
    this.log.error({ code }, 'message store thread exited; calls in flight failed; restarting it');
    const now = Date.now();
    this.restarts.push(now);
    while (this.restarts.length > 0 && this.restarts[0]! < now - CRASH_WINDOW_MS) this.restarts.shift();
    if (this.restarts.length > MAX_RESTARTS_IN_WINDOW) {
      this.failed = err;
      this.log.fatal({ restarts: this.restarts.length, windowMs: CRASH_WINDOW_MS }, 'message store thread keeps dying; store calls now fail');
      return;
    }
    this.start().catch((startErr: unknown) => {
      this.failed = startErr instanceof Error ? startErr : new Error(String(startErr));
      this.log.fatal({ err: startErr }, 'message store thread could not reopen the store; store calls now fail');
    });
  }
}

/**
 * Opens the store under `dir` in a store thread (see the module comment) and returns it as a MessageStore.
 * Rejects with the store's own error (e.g. SchemaTooNewError) when it cannot be opened.
 */
export async function openThreadedStore(dir: string, opts: ThreadedStoreOptions): Promise<MessageStore> {
  const { logger, onCall, ...rest } = opts;
  const store = new ThreadedStore({ ...rest, dir, logLevel: logger.level }, logger, onCall);
  try {
    await store.start();
  } catch (err) {
    await store.close();
    throw err;
  }
  return asMessageStore(store);
}

/** The thread's store as a MessageStore: every method the thread reported is forwarded by name. */
export function asMessageStore(store: ThreadedStore): MessageStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'events' || prop === 'tmpDir') return Reflect.get(target, prop, receiver);
      if (prop === 'close') return () => target.close();
      // Only the store's methods: anything else (`then`, inspection) stays undefined, so awaiting the store
      // or logging it does not turn into calls.
      if (typeof prop !== 'string' || !target.methods.has(prop)) return undefined;
      return (...args: unknown[]) => target.call(prop, args);
    },
  }) as unknown as MessageStore;
}
