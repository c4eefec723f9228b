/**
 * The store engines, for running one behavioural test file against each: SQLite under a folder, PostgreSQL in a
 * fresh database of this file's throwaway server (helpers/postgres.ts, started on first use) with its local
 * files under a folder. Call storeEngines() at the top level of a test file (it registers the server's afterAll)
 * and `describe.each(storeEngines())`.
 *
 * An engine's `place()` is one store's home: the folder and, for PostgreSQL, the database. open(place) opens a
 * store there (again after close, or a second time as another process); onOtherHost(place) is the same store
 * seen from another host (PostgreSQL: the same database, another folder; SQLite: the same place, as it has no
 * other host).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import type { DepositMailOptions } from '../../src/store/deposit-mail.js';
import { PG_SCHEMA_VERSION } from '../../src/store/pg/schema.js';
import { openPostgresStore } from '../../src/store/postgres.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { openThreadedStore } from '../../src/store/thread/threaded-store.js';
import type { MessageStore } from '../../src/store/types.js';
import { postgresPerFile, type PostgresPerFile } from './postgres.js';

export interface StorePlace {
  dir: string;
  /** The PostgreSQL database's URL; undefined for SQLite. */
  url?: string;
}

export interface StoreOpenOptions {
  maxMessages?: number;
  maxMinutes?: number;
  /** Announce other instances' changes (SQLite polls every 20 ms; PostgreSQL listens). */
  watchChanges?: boolean;
  logger?: Logger;
  /** Queue each deposit's new-message mail in its commit (src/store/deposit-mail.ts). */
  depositMail?: DepositMailOptions;
  /** Queue each deposit's IMAP append in its commit. */
  depositImapAppend?: boolean;
}

export interface StoreEngine {
  name: 'sqlite' | 'postgres';
  /** A new empty place. */
  place(): Promise<StorePlace>;
  open(place: StorePlace, opts?: StoreOpenOptions): Promise<MessageStore>;
  /** The same store's place as another host sees it. */
  onOtherHost(place: StorePlace): StorePlace;
}

function folder(): string {
  return mkdtempSync(join(tmpdir(), 'vmpilot-store-'));
}

export const sqliteEngine: StoreEngine = {
  name: 'sqlite',
  place: async () => ({ dir: folder() }),
  open: (place, opts = {}) =>
    openSqliteStore(place.dir, {
      maxMessages: opts.maxMessages,
      maxMinutes: opts.maxMinutes,
      watchChangesMs: opts.watchChanges ? 20 : 0,
      logger: opts.logger,
      depositMail: opts.depositMail,
      depositImapAppend: opts.depositImapAppend,
    }),
  onOtherHost: (place) => place,
};

/**
 * Empties a store's database for the next test: every table truncated, the schema version put back. Several
 * times faster than a new database per test (CREATE DATABASE copies and syncs a template).
 */
async function emptied(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = (await client.query<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'vmpilot_schema'")).rows;
    if (tables.length > 0) await client.query(`TRUNCATE ${tables.map((t) => t.name).join(', ')} RESTART IDENTITY CASCADE`);
    await client.query('UPDATE vmpilot_schema SET version = $1', [PG_SCHEMA_VERSION]).catch(() => undefined);
  } finally {
    await client.end();
  }
  return url;
}

export function postgresEngine(server: PostgresPerFile): StoreEngine {
  let reused: string | undefined;
  return {
    name: 'postgres',
    // One database per file, emptied for each new place (a place is used by one test at a time).
    place: async () => {
      const url = reused === undefined ? await server.createDatabase() : await emptied(reused);
      reused = url;
      return { dir: folder(), url };
    },
    open: (place, opts = {}) => openPostgresStore(place.url!, place.dir, opts),
    onOtherHost: (place) => ({ dir: folder(), url: place.url }),
  };
}

/** Both engines; PostgreSQL's server is this file's (started when a test first needs it). */
export function storeEngines(): StoreEngine[] {
  return [sqliteEngine, postgresEngine(postgresPerFile())];
}

/**
 * Another instance of the same store, as another process or host opens it, running beside the first: two SQLite
 * stores in one thread would take turns (better-sqlite3 is synchronous), so SQLite's is in a thread of its own.
 */
export function otherStoreInstance(engine: StoreEngine, place: StorePlace, logger: Logger): Promise<MessageStore> {
  return engine.name === 'sqlite' ? openThreadedStore(place.dir, { logger, busyTimeoutMs: 5000 }) : engine.open(engine.onOtherHost(place));
}

/**
 * Races claim loops against one queue: two loops on each instance at once (on PostgreSQL, separate connections
 * of its pool), each claiming until nothing is left or `max` claims (bounded). Returns every message id claimed,
 * all loops together: a queue that hands each job to exactly one claimant gives each id once.
 */
export async function claimRacing(
  instances: readonly MessageStore[],
  claim: (store: MessageStore, claimant: string) => Promise<{ messageId: string } | undefined>,
  max: number,
): Promise<string[]> {
  async function drain(store: MessageStore, claimant: string): Promise<string[]> {
    const got: string[] = [];
    for (let i = 0; i <= max; i++) {
      const job = await claim(store, claimant);
      if (!job) break;
      got.push(job.messageId);
    }
    return got;
  }
  const loops = instances.flatMap((store, n) => [drain(store, `i${n}-1`), drain(store, `i${n}-2`)]);
  return (await Promise.all(loops)).flat();
}
