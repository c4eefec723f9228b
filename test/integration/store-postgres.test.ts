/**
 * What the PostgreSQL store (src/store/postgres.ts) does beyond the behaviour both engines share
 * (test/unit/store.test.ts): several hosts on one database, a database that goes away and comes back, the
 * repair of a deposit whose commit was interrupted, and opening. Two store
 * instances on one database with separate storage folders stand for two hosts.
 *
 * Covers: changes on one host reach the other as events (LISTEN/NOTIFY): counts after a deposit, 'mailbox'
 * after a change; the listener's connection killed while the other host deposits: the change still arrives
 * (catch-up read after re-connecting); PostgreSQL restarted: the listener re-connects and hears the next
 * change; a deposit while PostgreSQL is down resolves, is kept on disk with its sidecar, and is committed when
 * PostgreSQL is back (the other host then lists it); a host that hears changes finds a mailbox (by a changed
 * alias, a mailbox created elsewhere) as last read while PostgreSQL is down and keeps a new deposit under its
 * number; a host's cached copy of a message another host purged goes when it hears the change; repair at start-up commits a placed deposit (a crash before
 * its commit), under the mailbox's number when its sidecar names an alias, and drops cached audio whose message
 * was removed by another host; a URL that reaches no server is refused with the URL (password hidden) in the
 * message; migrations from empty, applied once when two hosts start together, and a newer schema refused.
 * Does not cover: MWI leadership among hosts (src/cluster/pg-leadership.ts and its tests), SIP
 * (postgres-e2e.test.ts).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/store/errors.js';
import { messageAudioPath, messageSidecarPath } from '../../src/store/layout.js';
import { writeMessageSidecar } from '../../src/store/message-sidecar.js';
import { writeRecordingSidecar } from '../../src/store/recording-sidecar.js';
import { newMessageId } from '../../src/store/message-id.js';
import { LISTENER_APPLICATION_NAME } from '../../src/store/pg/change-listener.js';
import { createPool } from '../../src/store/pg/connection.js';
import { migratePg, PG_SCHEMA_VERSION, pgSchemaVersion } from '../../src/store/pg/schema.js';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres.js';
import { SchemaTooNewError } from '../../src/store/schema.sql.js';
import type { MessageCounts } from '../../src/store/types.js';
import { freeTcpPort } from '../helpers/cli-process.js';
import { postgresPerFile } from '../helpers/postgres.js';
import { newMessage, recordingIn } from '../helpers/store-fixture.js';
import { waitFor } from '../helpers/test-server.js';

const pgServer = postgresPerFile();
const folder = (): string => mkdtempSync(join(tmpdir(), 'vmpilot-pg-host-'));

let url: string;
let a: PostgresStore;
let b: PostgresStore;
let heardOnB: [string, MessageCounts][];
let mailboxesOnB: string[];

async function sql(text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

beforeEach(async () => {
  url = await pgServer.createDatabase();
  a = await openPostgresStore(url, folder(), { retryKeptMs: 200 });
  await a.createMailbox({ number: '27000', name: 'Alice Example', pin: '2580', aliases: ['+4687270000'] });
  b = await openPostgresStore(url, folder(), { watchChanges: true });
  heardOnB = [];
  mailboxesOnB = [];
  b.events.on('counts', (m, c) => heardOnB.push([m, c]));
  b.events.on('mailbox', (m) => mailboxesOnB.push(m));
});

afterEach(async () => {
  const server = await pgServer.server();
  await server.start(); // a test that stopped it
  await a.close();
  await b.close();
});

describe('changes across hosts (LISTEN/NOTIFY)', () => {
  it("a deposit on one host reaches the other as 'counts', a mailbox change as 'mailbox'", async () => {
    await a.deposit(newMessage(a.tmpDir));
    await waitFor(() => heardOnB.length > 0, 'the counts event on the other host', 3000);
    expect(heardOnB).toEqual([['27000', { new: 1, saved: 0, urgentNew: 0, urgentSaved: 0 }]]);
    await a.updateMailbox('27000', { name: 'Alice Renamed' });
    await waitFor(() => mailboxesOnB.includes('27000'), 'the mailbox event on the other host', 3000);
  });

  it("a change made while the listener's connection was cut is announced after it re-connects", async () => {
    await sql('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [LISTENER_APPLICATION_NAME]);
    // At once, before the listener's first retry (250 ms): no NOTIFY can reach it.
    await a.deposit(newMessage(a.tmpDir));
    await waitFor(() => heardOnB.length > 0, 'the change read after re-connecting', 5000);
    expect(heardOnB[0]).toEqual(['27000', { new: 1, saved: 0, urgentNew: 0, urgentSaved: 0 }]);
    expect(b.listenerReconnects).toBeGreaterThanOrEqual(1);
  });

  it('after PostgreSQL restarts, the listener re-connects and hears the next change', async () => {
    await (await pgServer.server()).restart();
    await waitFor(() => b.listenerReconnects >= 1, 'the listener to re-connect', 10_000);
    await a.deposit(newMessage(a.tmpDir));
    await waitFor(() => heardOnB.some(([, c]) => c.new === 1), 'the deposit heard after the restart', 5000);
  });
});

describe("this host's audio cache", () => {
  it('drops the cached copy of a message another host removed, when it hears of the change', async () => {
    const kept = await a.deposit(newMessage(a.tmpDir));
    const purged = await a.deposit(newMessage(a.tmpDir));
    // b lists them: both fetched into b's cache.
    const onB = await b.listMessages('27000');
    expect(onB.map((m) => m.id).sort()).toEqual([kept.id, purged.id].sort());
    for (const m of onB) expect(existsSync(m.audioPath)).toBe(true);
    const purgedOnB = onB.find((m) => m.id === purged.id)!.audioPath;
    await a.setFolder(purged.id, 'deleted');
    await a.purgeDeleted('27000');
    await waitFor(() => !existsSync(purgedOnB), "the purged message's cached copy to go from b", 5000);
    expect(existsSync(onB.find((m) => m.id === kept.id)!.audioPath)).toBe(true);
  });
});

describe('a database that goes away', () => {
  it('a deposit while PostgreSQL is down is kept on disk and committed when it is back', async () => {
    const server = await pgServer.server();
    await server.stop();
    const m = await a.deposit(newMessage(a.tmpDir));
    expect(a.keptDeposits).toBe(1);
    expect(existsSync(m.audioPath)).toBe(true);
    expect(existsSync(messageSidecarPath(a.layout, '27000', m.id))).toBe(true);
    await server.start();
    await waitFor(() => a.keptDeposits === 0, 'the kept deposit to be committed', 10_000);
    expect(existsSync(messageSidecarPath(a.layout, '27000', m.id))).toBe(false);
    expect((await b.listMessages('27000')).map((x) => x.id)).toEqual([m.id]);
  });

  it('a host that hears changes finds a mailbox as last read while PostgreSQL is down, and keeps a new deposit under its number', async () => {
    // Changed on the other host after b opened: b's copy follows through LISTEN/NOTIFY, not its open-time read.
    await a.updateMailbox('27000', { name: 'Alice Renamed', aliases: ['+4687270001'] });
    await a.createMailbox({ number: '27002', name: 'Carol', pin: '2580' });
    await waitFor(() => mailboxesOnB.includes('27002'), 'the changes heard on b', 3000);
    // The re-read that follows each event is one query: let it land.
    await new Promise((r) => setTimeout(r, 500));
    const server = await pgServer.server();
    await server.stop();
    expect(await b.findMailbox('+4687270001')).toMatchObject({ number: '27000', name: 'Alice Renamed' });
    expect(await b.findMailbox('27002')).toMatchObject({ number: '27002', name: 'Carol' });
    expect(await b.findMailbox('+4687270000')).toBeUndefined(); // the alias it lost
    // a hears no changes: no copy, the look-up fails as before.
    await expect(a.findMailbox('27000')).rejects.toThrow();
    // A new call dialling the alias: kept under the mailbox's number, committed when PostgreSQL is back.
    const m = await b.deposit(newMessage(b.tmpDir, { mailbox: '+4687270001' }));
    expect(m.mailbox).toBe('27000');
    expect(existsSync(messageSidecarPath(b.layout, '27000', m.id))).toBe(true);
    await server.start();
    await waitFor(() => b.keptDeposits === 0, 'the kept deposit to be committed', 10_000);
    expect((await a.listMessages('27000')).map((x) => x.id)).toEqual([m.id]);
  });
});

describe('repair at start-up', () => {
  it('commits a deposit placed before a crash (its sidecar beside it), under the number when it names an alias', async () => {
    const dir = folder();
    const placed = async (mailbox: string): Promise<string> => {
      const id = newMessageId();
      const audio = messageAudioPath(a.layout, mailbox, id).replace(a.layout.dir, dir);
      await mkdir(join(dir, 'messages', mailbox), { recursive: true });
      await rename(recordingIn(a.tmpDir, 500), audio);
      await writeMessageSidecar(messageSidecarPath(a.layout, mailbox, id).replace(a.layout.dir, dir), {
        id, mailbox, from: '4455', fromName: 'Bob', receivedAt: Date.now(), durationMs: 500, urgent: false, reason: 'busy',
      });
      return id;
    };
    const byNumber = await placed('27000');
    const byAlias = await placed('+4687270000');
    // A cached copy of a message another host removed.
    const gone = newMessageId();
    writeFileSync(join(dir, 'messages', '27000', `${gone}.wav`), 'RIFF');
    const restarted = await openPostgresStore(url, dir);
    try {
      const report = await restarted.repair();
      expect(report.reattached.sort()).toEqual([byNumber, byAlias].sort());
      expect((await b.listMessages('27000')).map((x) => x.id).sort()).toEqual([byNumber, byAlias].sort());
      expect(readdirSync(join(dir, 'messages', '27000')).sort()).toEqual([`${byNumber}.wav`, `${byAlias}.wav`].sort());
      expect(readdirSync(join(dir, 'messages', '+4687270000'))).toEqual([]);
    } finally {
      await restarted.close();
    }
  });

  it('does not store twice a recording whose commit was done before a crash (its sidecar was still in tmp)', async () => {
    const rec = recordingIn(a.tmpDir, 2000);
    const sidecar = { mailbox: '27000', from: '4455', fromName: 'Bob', reason: 'busy' as const, urgent: false, receivedAt: 1_700_000_000_000 };
    await writeRecordingSidecar(rec, sidecar);
    const copy = readFileSync(rec);
    const m = await a.deposit(newMessage(a.tmpDir, { audioFile: rec, receivedAt: sidecar.receivedAt, durationMs: 2000, reason: 'busy' }));
    // What a process killed after the commit leaves: its recording and sidecar in its own tmp folder.
    const dead = join(a.layout.tmpDir, 'pid-999999-1');
    await mkdir(dead, { recursive: true });
    writeFileSync(join(dead, 'rec.wav'), copy);
    await writeRecordingSidecar(join(dead, 'rec.wav'), sidecar);
    const report = await a.recoverRecordings();
    expect(report.reattached).toEqual([m.id]);
    expect((await b.listMessages('27000')).map((x) => x.id)).toEqual([m.id]);
    expect(existsSync(dead)).toBe(false);
  });
});

describe('opening', () => {
  it('refuses a URL that reaches no server, naming it without its password', async () => {
    const port = await freeTcpPort();
    const opened = openPostgresStore(`postgres://vm:s3cret@127.0.0.1:${port}/vmpilot`, folder());
    await expect(opened).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(opened).rejects.toThrow(`postgres://vm:***@127.0.0.1:${port}/vmpilot`);
    await expect(opened).rejects.not.toThrow('s3cret');
  });

  it('provisions one config on two hosts starting together: each mailbox created once, neither start fails', async () => {
    // Both see the mailboxes missing before either commits; the second insert failed with "already exists"
    // (kamailio-dispatcher.test.ts's two hosts, now and then) until provision() took its advisory lock.
    const fresh = await pgServer.createDatabase();
    const hosts = [await openPostgresStore(fresh, folder()), await openPostgresStore(fresh, folder())];
    try {
      const specs = Array.from({ length: 20 }, (_, i) => ({ number: String(28000 + i), name: `User ${i}`, pin: '2580' }));
      for (let round = 0; round < 3; round++) {
        const reports = await Promise.all(hosts.map((h) => h.provision(specs)));
        const created = reports.flatMap((r) => r.created).sort();
        expect(created).toEqual(round === 0 ? specs.map((s) => s.number) : []);
        for (const r of reports) expect(r.updated).toEqual([]);
      }
      expect((await hosts[1]!.listMailboxes()).map((m) => m.number).sort()).toEqual(specs.map((s) => s.number));
    } finally {
      await Promise.all(hosts.map((h) => h.close()));
    }
  });

  it('migrates an empty database once when two hosts start together, and refuses a newer schema', async () => {
    const fresh = await pgServer.createDatabase();
    const pools = [createPool(fresh), createPool(fresh)];
    try {
      const results = await Promise.all(pools.map((p) => migratePg(p)));
      expect(results.map((r) => r.to)).toEqual([PG_SCHEMA_VERSION, PG_SCHEMA_VERSION]);
      // Applied once (a second time would have failed: its tables exist), recorded once.
      expect((await pools[0]!.query('SELECT COUNT(*)::int AS n FROM vmpilot_schema')).rows[0].n).toBe(1);
      expect(await pgSchemaVersion(pools[0]!)).toBe(PG_SCHEMA_VERSION);
      await pools[0]!.query('UPDATE vmpilot_schema SET version = 99');
      await expect(migratePg(pools[1]!)).rejects.toBeInstanceOf(SchemaTooNewError);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });
});
