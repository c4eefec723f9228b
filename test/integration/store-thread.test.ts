/*
 * The message store in its own thread (src/store/thread/): the main thread's MessageStore proxy forwarding to
 * the SQLite store in a worker thread, on a real folder.
 *
 * Covers: every MessageStore method is forwarded (by the thread's own list); values come back intact; errors
 * keep their class and fields (NoSuchMailboxError.number, NumberInUseError.owner, NoSuchMessageError, SQLite's
 * code); 'counts' events reach main-thread listeners, including changes made by another process (change
 * feed); a write waiting on another connection's lock (SQLITE_BUSY until busy_timeout) does not hold the main
 * thread and completes once the lock is released, even when that is after busy_timeout (the write is tried
 * again); the thread dying rejects the call in flight with
 * StoreThreadExitError, is logged, and a new thread serves the next call and announces the changes other
 * processes made while it was down; close() is idempotent and later
 * calls reject; a store that cannot open rejects openThreadedStore with the store's error.
 *
 * Does not cover: SqliteStore semantics (store-sqlite.test.ts); timing figures (bench/store-thread.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NoSuchMessageError, NumberInUseError } from '../../src/store/errors.js';
import { SchemaTooNewError } from '../../src/store/schema.sql.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { asMessageStore, openThreadedStore, StoreThreadExitError, ThreadedStore } from '../../src/store/thread/threaded-store.js';
import { DEFAULT_PIN_BACKOFF } from '../../src/store/pin-backoff.js';
import { NoSuchMailboxError, type MessageCounts, type MessageStore } from '../../src/store/types.js';
import { newMessage } from '../helpers/store-fixture.js';
import { waitFor } from '../helpers/test-server.js';

const logLines: Record<string, unknown>[] = [];
const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });

let dir: string;
let store: MessageStore;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vmpilot-thread-'));
  logLines.length = 0;
  store = await openThreadedStore(dir, { logger, busyTimeoutMs: 2000, watchChangesMs: 20 });
  await store.createMailbox({ number: '27000', name: 'Alice Example', pin: '2580', aliases: ['+4687270000'] });
});

afterEach(async () => {
  await store.close();
});

describe('forwarding', () => {
  it('answers store methods with their values, aliases and all', async () => {
    const m = await store.deposit(newMessage(store.tmpDir));
    expect((await store.findMailbox('+4687270000'))?.number).toBe('27000');
    expect(await store.getMessage(m.id)).toEqual(m);
    expect(await store.counts('27000')).toEqual({ new: 1, saved: 0, urgentNew: 0, urgentSaved: 0 });
    expect(store.tmpDir.startsWith(join(dir, 'tmp'))).toBe(true);
  });

  it('is not a thenable (awaiting or returning the store makes no call)', async () => {
    expect((store as unknown as { then?: unknown }).then).toBeUndefined();
    const same = await Promise.resolve(store);
    expect(same).toBe(store);
  });
});

describe('errors', () => {
  it('keep their class and fields', async () => {
    const unknown = await store.deposit(newMessage(store.tmpDir, { mailbox: '99999' })).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(NoSuchMailboxError);
    expect((unknown as NoSuchMailboxError).number).toBe('99999');
    const taken = await store.createMailbox({ number: '+4687270000', name: 'X', pin: '1' }).catch((e: unknown) => e);
    expect(taken).toBeInstanceOf(NumberInUseError);
    expect((taken as NumberInUseError).owner).toBe('27000');
    await expect(store.markHeard('no-such-id')).rejects.toBeInstanceOf(NoSuchMessageError);
    await expect(store.setFolder('x', 'bogus' as 'new')).rejects.toBeInstanceOf(TypeError);
  });

  it('a store that cannot open rejects openThreadedStore with its own error', async () => {
    const db = new Database(join(dir, 'vmpilot.db'));
    db.pragma('user_version = 99');
    db.close();
    await expect(openThreadedStore(dir, { logger })).rejects.toBeInstanceOf(SchemaTooNewError);
  });
});

describe('events', () => {
  it("reach main-thread listeners, for this process's changes and another process's", async () => {
    const seen: [string, MessageCounts][] = [];
    store.events.on('counts', (mailbox, counts) => seen.push([mailbox, counts]));
    await store.deposit(newMessage(store.tmpDir));
    await waitFor(() => seen.length === 1, 'the local counts event', 2000);
    const other = await openSqliteStore(dir);
    await other.deposit(newMessage(other.tmpDir, { urgent: true }));
    await other.close();
    await waitFor(() => seen.length === 2, "the other process's counts event", 2000);
    expect(seen[1]).toEqual(['27000', { new: 2, saved: 0, urgentNew: 1, urgentSaved: 0 }]);
  });
});

describe('SQLITE_BUSY', () => {
  it("a deposit waiting on another connection's write lock holds neither the main thread nor loses the message", async () => {
    const db = new Database(join(dir, 'vmpilot.db'));
    db.exec('BEGIN IMMEDIATE');
    let longestGap = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 5);
    const deposit = store.deposit(newMessage(store.tmpDir));
    await new Promise((resolve) => setTimeout(resolve, 400));
    db.exec('COMMIT');
    db.close();
    const m = await deposit;
    clearInterval(ticker);
    expect(await store.getMessage(m.id)).toBeDefined();
    // In-thread, the statement would have blocked this thread for the whole 400 ms (and the lock holder with it).
    expect(longestGap).toBeLessThan(200);
  });
});

describe('SQLITE_BUSY beyond busy_timeout', () => {
  it('the write is tried again: a deposit outlasting one busy_timeout still commits', async () => {
    const impatient = await openThreadedStore(dir, { logger, busyTimeoutMs: 150 });
    const db = new Database(join(dir, 'vmpilot.db'));
    try {
      db.exec('BEGIN IMMEDIATE');
      const deposit = impatient.deposit(newMessage(impatient.tmpDir));
      await new Promise((resolve) => setTimeout(resolve, 250));
      db.exec('COMMIT');
      const m = await deposit;
      expect((await store.getMessage(m.id))?.folder).toBe('new');
      expect(logLines.some((l) => /database busy beyond busy_timeout/.test(String(l.msg)))).toBe(true);
    } finally {
      if (db.inTransaction) db.exec('ROLLBACK');
      db.close();
      await impatient.close();
    }
  });
});

describe('the thread dying', () => {
  it('rejects the call in flight, logs, and a new thread serves the next call', async () => {
    const engine = new ThreadedStore({ dir, logLevel: 'info' }, logger);
    await engine.start();
    const s = asMessageStore(engine);
    try {
      const inFlight = s.checkPin({ number: '27000', pin: '0000', source: 'test', policy: DEFAULT_PIN_BACKOFF });
      await (engine as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
      await expect(inFlight).rejects.toBeInstanceOf(StoreThreadExitError);
      expect(logLines.some((l) => /store thread exited/.test(String(l.msg)))).toBe(true);
      expect((await s.findMailbox('27000'))?.name).toBe('Alice Example');
    } finally {
      await s.close();
    }
  });
});

describe('a restarted thread', () => {
  it('hears the changes other processes made while the thread was down', async () => {
    const engine = new ThreadedStore({ dir, logLevel: 'info', watchChangesMs: 20 }, logger);
    await engine.start();
    const s = asMessageStore(engine);
    const seen: string[] = [];
    s.events.on('counts', (mailbox) => seen.push(mailbox));
    try {
      await new Promise((resolve) => setTimeout(resolve, 100)); // the watcher reports where it stands
      await (engine as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
      const other = await openSqliteStore(dir);
      await other.deposit(newMessage(other.tmpDir));
      await other.close();
      await waitFor(() => seen.length > 0, 'the counts event of the change made while down', 10_000);
      expect(seen).toEqual(['27000']);
    } finally {
      await s.close();
    }
  });
});

describe('a thread restarted right after a change', () => {
  it("does not announce its predecessor's change again (one MWI NOTIFY per change)", async () => {
    await store.createMailbox({ number: '27001', name: 'Bob Example', pin: '2580' });
    // The watcher polls every 2 s: the thread dies after its deposit and before its watcher passed that row.
    const engine = new ThreadedStore({ dir, logLevel: 'info', watchChangesMs: 2000 }, logger);
    await engine.start();
    const s = asMessageStore(engine);
    const seen: string[] = [];
    s.events.on('counts', (mailbox) => seen.push(mailbox));
    try {
      await s.deposit(newMessage(s.tmpDir));
      await waitFor(() => seen.length > 0, 'the counts event of the deposit', 5000);
      await (engine as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
      // Another process's later change to another mailbox: once it is heard, the new thread has polled past both.
      const other = await openSqliteStore(dir);
      await other.deposit(newMessage(other.tmpDir, { mailbox: '27001' }));
      await other.close();
      await waitFor(() => seen.includes('27001'), "the counts event of the other process's change", 10_000);
      expect(seen).toEqual(['27000', '27001']);
    } finally {
      await s.close();
    }
  });
});

describe('close()', () => {
  it('is idempotent, and later calls reject', async () => {
    await store.close();
    await store.close();
    await expect(store.counts('27000')).rejects.toThrow(/closed/);
  });
});
