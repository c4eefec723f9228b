/*
 * The mirror with a PostgreSQL primary (issue 10), a real PostgreSQL (test/helpers/postgres.ts) and the real
 * `vmpilot` commands: `vmpilot mirror` on a config whose storage.url is the primary follows its changes
 * through the PostgreSQL store's LISTEN/NOTIFY (not the sweep: it runs once, at start) to a SQLite standby;
 * `mirror verify` finds no difference; `mirror restore` into an empty database gives the same store.
 *
 * Does not cover: SQLite primaries and a PostgreSQL standby's outage (store-copy-postgres.test.ts); the
 * PostgreSQL store's own behaviour (its tests).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { logLine, logRecords, runCli, startCli, stopServing, type Serving } from '../helpers/cli-process.js';
import { postgresPerFile } from '../helpers/postgres.js';
import { untilIdentical } from '../helpers/replica-wait.js';
import { recordingIn } from '../helpers/store-fixture.js';
import { compareStores } from '../../src/store/replica/compare.js';
import { openPostgresReplica } from '../../src/store/replica/postgres-replica.js';
import { openPostgresStore } from '../../src/store/postgres.js';
import { openSqliteStore } from '../../src/store/sqlite.js';

const pg = postgresPerFile();
const root = mkdtempSync(join(tmpdir(), 'vmpilot-pgmirror-'));
let mirror: Serving | undefined;

const configFor = (name: string, url: string): string => {
  const file = join(root, `${name}.yaml`);
  writeFileSync(file, `storage: { url: ${JSON.stringify(url)}, dir: ${JSON.stringify(join(root, `${name}-files`))} }\nlog: { level: info }\n`);
  return file;
};

afterAll(async () => {
  await stopServing(mirror);
  rmSync(root, { recursive: true, force: true });
});

describe('vmpilot mirror from a PostgreSQL primary', () => {
  it('follows its LISTEN/NOTIFY changes to a SQLite standby; verify is clean; restore fills an empty database', async () => {
    const url = await pg.createDatabase();
    const primary = await openPostgresStore(url, join(root, 'writer-files'));
    const primaryReplica = await openPostgresReplica(url);
    const standbyDir = join(root, 'standby');
    try {
      const first = await primary.createMailbox({ number: '27000', name: 'Alice', pin: '2580', aliases: ['5550000'] });
      const fields = (await primaryReplica.mailbox(first.number))!;
      for (let i = 1; i < 4; i++) await primaryReplica.putMailbox({ ...fields, number: String(27000 + i), name: `Owner ${i}`, aliases: [] });
      const config = configFor('primary', url);
      mirror = startCli('mirror', '--to', standbyDir, '--config', config);
      await logLine(mirror, 'mirror sweep');

      for (let i = 0; i < 20; i++) {
        await primary.deposit({ mailbox: String(27000 + (i % 4)), from: `4455${i}`, fromName: 'Caller', durationMs: 120, urgent: i % 5 === 0, reason: 'busy', audioFile: recordingIn(primary.tmpDir, 120) });
      }
      const some = await primary.listMessages('27001');
      await primary.markHeard(some[0]!.id);
      await primary.setFolder(some[1]!.id, 'deleted');
      await primary.purgeDeleted('27001');
      await primary.setGreeting('27002', 'name', recordingIn(primary.tmpDir, 300));
      await primary.updateMailbox('27003', { name: 'Dora', maxMessages: 50 });
      await primary.setPin('27000', '9753');
      await primary.deleteMailbox('27002');

      const standby = await openSqliteStore(standbyDir);
      try {
        await untilIdentical(primaryReplica, standby.replica(), 20_000);
      } finally {
        await standby.close();
      }
      expect(logRecords(mirror).filter((r) => r.msg.startsWith('mirror sweep'))).toHaveLength(1);
      const verified = await runCli('mirror', 'verify', '--to', `sqlite:${standbyDir}`, '--config', config);
      expect(verified.stdout).toContain('verified: identical');
      expect(verified.code).toBe(0);
      await stopServing(mirror);

      const rebuiltUrl = await pg.createDatabase();
      const restored = await runCli('mirror', 'restore', '--from', standbyDir, '--config', configFor('rebuilt', rebuiltUrl));
      expect(restored.stdout).toContain('verified: identical');
      expect(restored.code).toBe(0);
      const rebuilt = await openPostgresReplica(rebuiltUrl);
      try {
        const { differences, counts } = await compareStores(primaryReplica, rebuilt);
        expect(differences).toEqual([]);
        expect(counts.b).toMatchObject({ mailboxes: 3, messages: 14 });
      } finally {
        await rebuilt.close();
      }
    } finally {
      await primaryReplica.close();
      await primary.close();
    }
  }, 90_000);
});
