/**
 * The throwaway PostgreSQL of test/helpers/postgres.ts: it starts as an unprivileged user, gives each
 * createDatabase() call its own empty database, keeps data across restart(), comes back after kill() (crash
 * recovery) and runs with fsync on. Not covered: several servers per file (not needed by any test).
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { postgresPerFile } from '../helpers/postgres.js';

const pgServer = postgresPerFile();

async function query(url: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

describe('test PostgreSQL server', () => {
  it('creates a fresh database per call, on a server that fsyncs and does not run as root', async () => {
    const a = await pgServer.createDatabase();
    const b = await pgServer.createDatabase();
    expect(a).not.toBe(b);
    expect(a).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/t_\d+_\d+$/);
    await query(a, 'CREATE TABLE t (x int); INSERT INTO t VALUES (1)');
    expect((await query(b, "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 't'")).rows[0].n).toBe(0);
    expect((await query(a, 'SHOW fsync')).rows[0].fsync).toBe('on');
    const server = await pgServer.server();
    const pid = readFileSync(join(server.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]!;
    expect(statSync(`/proc/${pid}`).uid).not.toBe(0);
  });

  it('keeps committed data across restart() and kill()', async () => {
    const url = await pgServer.createDatabase();
    await query(url, 'CREATE TABLE t (x int); INSERT INTO t VALUES (42)');
    const server = await pgServer.server();
    await server.restart();
    expect((await query(url, 'SELECT x FROM t')).rows[0].x).toBe(42);
    await server.kill();
    await expect(query(url, 'SELECT 1')).rejects.toThrow();
    await server.start();
    expect((await query(url, 'SELECT x FROM t')).rows[0].x).toBe(42);
  });
});
