/*
 * Moving and mirroring between SQLite and PostgreSQL (issue 10) with a real PostgreSQL (test/helpers/postgres.ts)
 * and the real `vmpilot` commands.
 *
 * Covers: `vmpilot store copy` SQLite -> PostgreSQL and back PostgreSQL -> SQLite keeps every row and audio byte
 * (the round trip compares identical to the original, a message longer than one audio chunk included; a
 * copied message's WAV plays); a copy into a database
 * that is not empty is refused; `vmpilot mirror --to postgres://...` follows a SQLite primary through deposits,
 * reads, deletions and mailbox changes while the PostgreSQL standby is killed (SIGKILL) and started again:
 * the mirror logs the failure, backs off, catches up, and `mirror verify` reports no difference.
 *
 * Does not cover: a PostgreSQL primary (its change events are the PostgreSQL store's); the SQLite-only
 * scenarios of store-mirror.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logLine, runCli, startCli, stopServing, type Serving } from '../helpers/cli-process.js';
import { postgresPerFile } from '../helpers/postgres.js';
import { untilIdentical } from '../helpers/replica-wait.js';
import { recordingIn } from '../helpers/store-fixture.js';
import { readWavFile } from '../../src/media/wav.js';
import { compareStores } from '../../src/store/replica/compare.js';
import { openPostgresReplica } from '../../src/store/replica/postgres-replica.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';

const pg = postgresPerFile();
const root = mkdtempSync(join(tmpdir(), 'vmpilot-pgcopy-'));
const primaryDir = join(root, 'primary');
const config = join(root, 'primary.yaml');
let primary: SqliteStore;
let mirror: Serving | undefined;

async function deposits(n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    await primary.deposit({ mailbox: String(27000 + (i % 5)), from: `${tag}${i}`, fromName: 'Caller', durationMs: 120, urgent: i % 4 === 0, reason: 'busy', audioFile: recordingIn(primary.tmpDir, 120) });
  }
}

/** Reads, deletions and mailbox changes across the five mailboxes. */
async function changes(tag: number): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const number = String(27000 + i);
    const all = await primary.listMessages(number);
    if (all[0]) await primary.markHeard(all[0].id);
    if (all[1]) await primary.setFolder(all[1].id, 'deleted');
    if (i === 2) await primary.purgeDeleted(number);
  }
  await primary.updateMailbox('27001', { name: `Bob ${tag}`, aliases: [`5551${tag}`] });
  await primary.setGreeting('27002', 'name', recordingIn(primary.tmpDir, 300));
  await primary.setGreeting('27003', 'unavailable', undefined);
}

beforeAll(async () => {
  writeFileSync(config, `storage: { dir: ${JSON.stringify(primaryDir)} }\nlog: { level: info }\n`);
  primary = await openSqliteStore(primaryDir);
  const first = await primary.createMailbox({ number: '27000', name: 'Alice', pin: '2580', email: 'alice@example.com', aliases: ['5550000'] });
  const fields = (await primary.replica().mailbox(first.number))!;
  for (let i = 1; i < 5; i++) await primary.replica().putMailbox({ ...fields, number: String(27000 + i), name: `Owner ${i}`, aliases: [] });
  await primary.setGreeting('27003', 'unavailable', recordingIn(primary.tmpDir, 400));
  await primary.saveSubscriptions([{ id: 'sub-1', mailbox: '27000', source: '127.0.0.1', expiresAt: Date.now() + 60_000, data: '{}' }], []);
  await primary.saveDirectoryOwned([{ entryId: 'uuid-1', number: '27001', dn: 'uid=u1,dc=example,dc=com', disabled: true }], []);
  // 20 s of audio: 320 KB, more than one 256 KiB chunk in PostgreSQL.
  const long = await primary.deposit({ mailbox: '27004', from: '4455', fromName: 'Long', durationMs: 20_000, urgent: false, reason: 'busy', audioFile: recordingIn(primary.tmpDir, 20_000) });
  // Its IMAP append still pending (the site's IMAP was down): a copy carries it.
  await primary.enqueueImapAppend(long.id, '27004');
  await deposits(40, 'a');
  await changes(1);
});

afterAll(async () => {
  await stopServing(mirror);
  await primary?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('vmpilot store copy between SQLite and PostgreSQL', () => {
  it('SQLite -> PostgreSQL -> SQLite keeps every row and audio byte; a non-empty target is refused', async () => {
    const url = await pg.createDatabase();
    const there = await runCli('store', 'copy', '--from', primaryDir, '--to', url);
    expect(there.stdout).toContain('verified: identical');
    expect(there.code).toBe(0);

    const back = join(root, 'back');
    const home = await runCli('store', 'copy', '--from', url, '--to', `sqlite:${back}`);
    expect(home.stdout).toContain('verified: identical');
    expect(home.code).toBe(0);
    const copy = await openSqliteStore(back);
    try {
      const { differences, counts } = await compareStores(primary.replica(), copy.replica());
      expect(differences).toEqual([]);
      expect(counts.b).toMatchObject({ mailboxes: 5, greetings: 1, subscriptions: 1 });
      // Through PostgreSQL and back: the directory keeps its mailboxes (compare above checks the rows too).
      expect(await copy.listDirectoryOwned()).toEqual([{ entryId: 'uuid-1', number: '27001', dn: 'uid=u1,dc=example,dc=com', disabled: true }]);
      expect(await copy.countImapAppends()).toBe(1);
      const lengths = await Promise.all((await copy.listMessages('27004')).map(async (m) => (await readWavFile(m.audioPath)).samples.length));
      expect(lengths).toContain(160_000);
      expect(lengths).toContain(960);
    } finally {
      await copy.close();
    }

    const again = await runCli('store', 'copy', '--from', primaryDir, '--to', url);
    expect(again.stderr).toMatch(/is not empty/);
    expect(again.code).toBe(1);
  }, 60_000);
});

describe('vmpilot mirror to a PostgreSQL standby', () => {
  it('follows the primary through a standby crash and restart; verify finds no difference', async () => {
    const server = await pg.server();
    const url = await server.createDatabase();
    mirror = startCli('mirror', '--to', url, '--config', config, '--sweep-s', '2');
    await logLine(mirror, 'mirror sweep');
    await deposits(20, 'b');
    await server.kill();
    await deposits(20, 'c');
    await changes(2);
    await logLine(mirror, 'mirror pass failed');
    await server.start();
    await deposits(10, 'd');

    const standby = await openPostgresReplica(url);
    try {
      await untilIdentical(primary.replica(), standby, 20_000);
    } finally {
      await standby.close();
    }
    const verified = await runCli('mirror', 'verify', '--to', url, '--config', config);
    expect(verified.stdout).toContain('verified: identical');
    expect(verified.code).toBe(0);
  }, 90_000);
});
