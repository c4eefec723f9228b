/*
 * The store's cross-process change feed (src/store/change-feed.ts through sqlite.ts): two store instances on one
 * folder stand for two processes (a worker and the CLI, or two workers); one watches.
 *
 * Covers: a deposit, a message heard, a purge made by the other instance reach the watcher as one 'counts'
 * event each with the counts as committed; the watcher's own changes are announced once (not again by the
 * feed); a mailbox created or renamed elsewhere arrives as a 'mailbox' event; changes made before the
 * watcher opened are not replayed; old rows are trimmed; a poll that fails is reported, not thrown.
 *
 * Does not cover: the MWI NOTIFY a change leads to (test/integration/store-mwi-cross-process.test.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChangeWatcher } from '../../src/store/change-feed.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import type { MessageCounts } from '../../src/store/types.js';
import { newMessage } from '../helpers/store-fixture.js';
import { waitFor } from '../helpers/test-server.js';

let dir: string;
let watching: SqliteStore;
let other: SqliteStore;
let counts: [string, MessageCounts][];
let mailboxes: string[];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vmpilot-feed-'));
  other = await openSqliteStore(dir);
  await other.createMailbox({ number: '27000', name: 'Alice Example', pin: '2580' });
  watching = await openSqliteStore(dir, { watchChangesMs: 20 });
  counts = [];
  mailboxes = [];
  watching.events.on('counts', (m, c) => counts.push([m, c]));
  watching.events.on('mailbox', (m) => mailboxes.push(m));
});

afterEach(async () => {
  await watching.close();
  await other.close();
});

/** Waits several poll intervals, so that a second event would have arrived. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 150));

describe('changes made by another store instance', () => {
  it('a deposit arrives as one counts event with the committed counts', async () => {
    await other.deposit(newMessage(other.tmpDir));
    await waitFor(() => counts.length > 0, 'the counts event', 2000);
    await settle();
    expect(counts).toEqual([['27000', { new: 1, saved: 0, urgentNew: 0, urgentSaved: 0 }]]);
  });

  it('a message heard and a purge arrive, one event per change', async () => {
    const m = await other.deposit(newMessage(other.tmpDir));
    await waitFor(() => counts.length === 1, 'the deposit', 2000);
    await other.markHeard(m.id);
    await waitFor(() => counts.length === 2, 'the heard change', 2000);
    expect(counts[1]).toEqual(['27000', { new: 0, saved: 1, urgentNew: 0, urgentSaved: 0 }]);
    await other.setFolder(m.id, 'deleted');
    await other.purgeDeleted('27000');
    await waitFor(() => counts.at(-1)?.[1].saved === 0, 'the purge', 2000);
    await settle();
    expect(counts.length).toBeLessThanOrEqual(4);
  });

  it('a mailbox created or renamed elsewhere arrives as a mailbox event', async () => {
    await other.createMailbox({ number: '27001', name: 'Bob Example', pin: '2580' });
    await other.updateMailbox('27000', { name: 'Alice Renamed' });
    await waitFor(() => mailboxes.length >= 2, 'the mailbox events', 2000);
    expect(mailboxes).toEqual(['27001', '27000']);
  });
});

describe("the watcher's own changes", () => {
  it('are announced once, when made, and not again by the feed', async () => {
    await watching.deposit(newMessage(watching.tmpDir));
    expect(counts).toHaveLength(1);
    await settle();
    expect(counts).toHaveLength(1);
  });
});

describe('history', () => {
  it('changes committed before the watcher opened are not replayed', async () => {
    await other.deposit(newMessage(other.tmpDir));
    const late = await openSqliteStore(dir, { watchChangesMs: 20 });
    const seen: string[] = [];
    late.events.on('counts', (m) => seen.push(m));
    await settle();
    await late.close();
    expect(seen).toEqual([]);
  });
});

describe('ChangeWatcher', () => {
  it('trims rows older than keepMs', async () => {
    await other.deposit(newMessage(other.tmpDir));
    const db = new Database(join(dir, 'vmpilot.db'));
    const watcher = new ChangeWatcher(db, 'me', { keepMs: -1, onChanges: () => undefined, onError: (err) => { throw err; } });
    for (let i = 0; i < 300; i++) watcher.poll();
    expect(db.prepare('SELECT COUNT(*) FROM mailbox_changes').pluck().get()).toBe(0);
    db.close();
  });

  it('reports a failed poll instead of throwing', () => {
    const db = new Database(join(dir, 'vmpilot.db'));
    const errors: unknown[] = [];
    const watcher = new ChangeWatcher(db, 'me', { onChanges: () => undefined, onError: (err) => errors.push(err) });
    db.close();
    expect(() => watcher.poll()).not.toThrow();
    expect(errors).toHaveLength(1);
  });
});
