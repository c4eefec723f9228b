/*
 * The attendant's mailbox directory (src/apps/attendant/directory.ts) over the real SQLite store.
 *
 * Covers: menu visits after the first read no mailbox from the database; a mailbox created, renamed or hidden
 * (this process) or created by another process (the store's change feed) is seen at the next visit; a failed
 * read is not kept. Does not cover: the menus that use it (attendant-flows.test.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MailboxDirectory } from '../../src/apps/attendant/directory.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';

let dir: string;
let store: SqliteStore;
let directory: MailboxDirectory;
let reads: number;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vmpilot-directory-'));
  store = await openSqliteStore(dir, { watchChangesMs: 20 });
  await store.createMailbox({ number: '27000', name: 'Alice Example', pin: '2580' });
  reads = 0;
  const list = store.listMailboxes.bind(store);
  store.listMailboxes = () => {
    reads++;
    return list();
  };
  directory = new MailboxDirectory(store);
});

afterEach(async () => {
  directory.close();
  await store.close();
});

const names = async (): Promise<string[]> => (await directory.mailboxes()).map((m) => m.name);

describe('MailboxDirectory', () => {
  it('reads the mailboxes once for any number of menu visits', async () => {
    for (let visit = 0; visit < 5; visit++) expect(await names()).toEqual(['Alice Example']);
    expect(reads).toBe(1);
  });

  it("follows this process's changes: a mailbox created, renamed, hidden", async () => {
    await names();
    await store.createMailbox({ number: '27001', name: 'Bob Example', pin: '2580' });
    expect(await names()).toEqual(['Alice Example', 'Bob Example']);
    await store.updateMailbox('27000', { name: 'Alice Renamed', hiddenFromDirectory: true });
    const alice = (await directory.mailboxes()).find((m) => m.number === '27000');
    expect(alice).toMatchObject({ name: 'Alice Renamed', hiddenFromDirectory: true });
    expect(reads).toBe(3);
  });

  it("follows another process's changes through the store's change feed", async () => {
    await names();
    const other = await openSqliteStore(dir);
    await other.createMailbox({ number: '27002', name: 'Carol Example', pin: '2580' });
    await other.close();
    const end = Date.now() + 2000;
    while (!(await names()).includes('Carol Example') && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(await names()).toContain('Carol Example');
  });

  it('does not keep a failed read', async () => {
    const list = store.listMailboxes;
    store.listMailboxes = () => Promise.reject(new Error('SQLITE_BUSY'));
    await expect(directory.mailboxes()).rejects.toThrow('SQLITE_BUSY');
    store.listMailboxes = list;
    expect(await names()).toEqual(['Alice Example']);
  });
});
