/**
 * A deposit kept on this host while PostgreSQL was down (src/store/pg/deposits.ts), its mailbox renumbered on this
 * host after the database came back and before the kept deposit's retry (src/store/mailbox-renumber.ts moves the
 * folder with the kept files and relabels their sidecars; PgDeposits.renumbered moves its retry).
 *
 * Covers: the retry commits the message into the renumbered mailbox, playable, without an error and without a
 * restart (before: the retry looked under the old number, failed, and left the message for the next start's
 * repair). Deleted instead: the kept message goes to orphans/ with its sidecar (before: deleted with the
 * mailbox's folder) and is not retried. Real PostgreSQL (helpers/postgres.ts), stopped and started.
 * Does not cover: a renumber on another host (store-deposit-mailbox-changed.test.ts), a crash (renumber-crash.test.ts).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { postgresPerFile, type PostgresServer } from '../helpers/postgres.js';
import { newMessage } from '../helpers/store-fixture.js';
import { waitFor } from '../helpers/test-server.js';

const pgServer = postgresPerFile();
let pg: PostgresServer;
let dir: string;
let store: PostgresStore;
const { logger, logs } = capturedLogger('info');

beforeAll(async () => {
  pg = await pgServer.server();
  const url = await pg.createDatabase();
  dir = mkdtempSync(join(tmpdir(), 'vmpilot-kept-renumber-'));
  // The retry is slow enough that the renumber comes first.
  store = await openPostgresStore(url, dir, { logger, retryKeptMs: 4000, connectTimeoutMs: 2000 });
  await store.createMailbox({ number: '27000', name: 'Alice', pin: '4826' });
}, 40_000);

afterAll(async () => {
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a kept deposit whose mailbox this host renumbers before its retry', () => {
  it('is committed into the renumbered mailbox at the retry', async () => {
    await pg.stop();
    const kept = await store.deposit(newMessage(store.tmpDir));
    expect(store.keptDeposits).toBe(1);
    await pg.start();
    await store.renumberMailbox('27000', '27100');
    await waitFor(() => store.keptDeposits === 0, 'the kept deposit retried', 15_000);
    expect(logs.filter((l) => l.msg?.startsWith('kept message not committed'))).toEqual([]);
    const listed = await store.listMessages('27100');
    expect(listed.map((m) => m.id)).toEqual([kept.id]);
    expect(existsSync(listed[0]!.audioPath)).toBe(true);
    expect(existsSync(join(dir, 'orphans')) ? readdirSync(join(dir, 'orphans')) : []).toEqual([]);
  }, 40_000);
});

describe('a kept deposit whose mailbox this host deletes before its retry', () => {
  it('is kept in orphans/ with its sidecar, and not retried', async () => {
    await store.createMailbox({ number: '27200', name: 'Carol', pin: '4826' });
    await pg.stop();
    const kept = await store.deposit(newMessage(store.tmpDir, { mailbox: '27200' }));
    await pg.start();
    await store.deleteMailbox('27200');
    expect(readdirSync(join(dir, 'orphans', '27200')).sort()).toEqual([`${kept.id}.json`, `${kept.id}.wav`]);
    expect(store.keptDeposits).toBe(0);
    // Past the retry interval: nothing tried, nothing failed.
    await new Promise((resolve) => setTimeout(resolve, 4500));
    expect(logs.filter((l) => l.msg?.startsWith('kept message not committed'))).toEqual([]);
  }, 40_000);
});
