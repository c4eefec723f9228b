/**
 * The call router's in-memory set of mailbox numbers and aliases (src/store/mailbox-numbers.ts) over a real
 * SQLite store.
 *
 * Covers: numbers and aliases loaded at open; a mailbox created or given a new alias is known after the
 * store's 'mailbox' event and the reload it starts; a burst of changes costs at most two reloads; a reload
 * that fails keeps the previous set; after close() changes are no longer followed.
 * Does not cover: the router's use of it (test/integration/vm-direct.test.ts), other processes' changes (the
 * change feed: store-change-feed.test.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MailboxNumbers } from '../../src/store/mailbox-numbers.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';

const logger = pino({ level: 'silent' });
let store: SqliteStore;
let numbers: MailboxNumbers | undefined;

beforeEach(async () => {
  store = await openSqliteStore(mkdtempSync(join(tmpdir(), 'vmpilot-numbers-')));
  await store.createMailbox({ number: '27000', name: 'Alice', pin: '135790', aliases: ['+4687002700'] });
});

afterEach(async () => {
  numbers?.close();
  await store.close();
});

describe('MailboxNumbers', () => {
  it('knows every number and alias at open, and nothing else', async () => {
    numbers = await MailboxNumbers.open(store, logger);
    expect(numbers.has('27000')).toBe(true);
    expect(numbers.has('+4687002700')).toBe(true);
    expect(numbers.has('27001')).toBe(false);
  });

  it("follows the store's changes: a new mailbox and a new alias are known once the reload is done", async () => {
    numbers = await MailboxNumbers.open(store, logger);
    await store.createMailbox({ number: '27001', name: 'Bob', pin: '135790' });
    await store.updateMailbox('27000', { aliases: ['+4687002799'] });
    await numbers.reload();
    expect(numbers.has('27001')).toBe(true);
    expect(numbers.has('+4687002799')).toBe(true);
    expect(numbers.has('+4687002700')).toBe(false);
  });

  it('a burst of changes costs one reload in flight and one after it', async () => {
    let lists = 0;
    const counting = Object.create(store, { listMailboxes: { value: () => (lists++, store.listMailboxes()) } }) as SqliteStore;
    numbers = await MailboxNumbers.open(counting, logger);
    lists = 0;
    for (let i = 0; i < 20; i++) store.events.emit('mailbox', '27000');
    await numbers.reload();
    expect(lists).toBe(2);
  });

  it('a reload that fails keeps the previous set', async () => {
    let fail = false;
    const flaky = Object.create(store, { listMailboxes: { value: () => (fail ? Promise.reject(new Error('SQLITE_BUSY')) : store.listMailboxes()) } }) as SqliteStore;
    numbers = await MailboxNumbers.open(flaky, logger);
    fail = true;
    await numbers.reload();
    expect(numbers.has('27000')).toBe(true);
  });

  it('after close() it no longer follows the store', async () => {
    numbers = await MailboxNumbers.open(store, logger);
    numbers.close();
    await store.createMailbox({ number: '27002', name: 'Carol', pin: '135790' });
    await numbers.reload();
    expect(numbers.has('27002')).toBe(false);
  });
});
