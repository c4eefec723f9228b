/**
 * The store a capacity benchmark runs on (issue 10: "the capacity bench of the scale-out issue on PostgreSQL:
 * no worse than on SQLite by more than 10 %"): the embedded SQLite under each run's storage.dir (default), or
 * with --postgres a throwaway PostgreSQL (test/helpers/postgres-server.ts: fsync on, as a real site runs it)
 * with a fresh database per run, set as the config's storage.url, and removed at the end.
 *
 * The engine is named in every figures line, so two runs' figures are never compared without it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { clientConfig } from '../src/store/pg/connection.js';
import { startPostgres, type PostgresServer } from '../test/helpers/postgres-server.js';

export type StoreEngine = 'sqlite' | 'postgresql';

export interface BenchStore {
  readonly engine: StoreEngine;
  /** The storage.url of a fresh database for one run; undefined on SQLite (each run's storage.dir is fresh). */
  database(): Promise<string | undefined>;
  /** Rows of the run's call_records table (one per call: what the server wrote to PostgreSQL). */
  callRecords(url: string): Promise<number>;
  /** Stops the server and removes its folder (idempotent; nothing to do on SQLite). */
  stop(): Promise<void>;
}

/**
 * `cpus` (taskset's list, e.g. "1"): PostgreSQL's processes are kept off the server's core, as SIPp is (a site
 * runs its database on other machines; sharing vmpilot's pinned core would charge the database's work to the
 * media pacing). Backends forked later inherit the postmaster's affinity.
 */
export async function openBenchStore(postgres: boolean, opts: { cpus?: string } = {}): Promise<BenchStore> {
  if (!postgres) {
    return { engine: 'sqlite', database: async () => undefined, callRecords: async () => NaN, stop: async () => undefined };
  }
  const server: PostgresServer = await startPostgres();
  if (opts.cpus !== undefined) pinPostgres(server, opts.cpus);
  let runs = 0;
  return {
    engine: 'postgresql',
    database: () => server.createDatabase(`capacity_${++runs}`),
    async callRecords(url) {
      const client = new pg.Client(clientConfig(url));
      await client.connect();
      try {
        return Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM call_records')).rows[0]!.n);
      } finally {
        await client.end();
      }
    },
    stop: () => server.destroy(),
  };
}

/** How a figures line names its store: "store sqlite" or "store postgresql 15.x". */
export async function storeLabel(engine: StoreEngine, url?: string): Promise<string> {
  if (engine === 'sqlite' || url === undefined) return `store ${engine}`;
  const client = new pg.Client(clientConfig(url));
  await client.connect();
  try {
    return `store postgresql ${(await client.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version}`;
  } finally {
    await client.end();
  }
}

/** Moves the postmaster and its processes onto `cpus` (postmaster.pid's first line is the postmaster). */
function pinPostgres(server: PostgresServer, cpus: string): void {
  const postmaster = readFileSync(join(server.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]!.trim();
  const children = execFileSync('pgrep', ['-P', postmaster], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const pid of [postmaster, ...children]) execFileSync('taskset', ['-a', '-p', '-c', cpus, pid], { stdio: 'ignore' });
}
