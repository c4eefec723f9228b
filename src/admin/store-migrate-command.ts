/**
 * `vmpilot store migrate [--config FILE]` (DESIGN.md, "the operator's contract"): brings the config's store
 * (storage.url's PostgreSQL, else SQLite under storage.dir) to this version's schema and prints the version
 * before and after. Opening a store migrates it too; this command lets an operator do it on purpose, first,
 * before the hosts of a site are upgraded one by one.
 *
 * Exit codes as in cli.ts: 0 done (or nothing to do); 1 the store cannot be reached or was written by a newer
 * vmpilot; 2 bad config or command line.
 *
 * Not here: the migrations themselves (store/schema.sql.ts for SQLite, store/pg/schema.ts for PostgreSQL).
 */
import { mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import { redactUrl } from '../store/pg/connection.js';
import { storeLayout } from '../store/layout.js';
import type { ConfigLoader } from './with-store.js';

const EXIT_FAILED = 1;

export interface MigrationResult {
  engine: 'sqlite' | 'postgres';
  where: string;
  from: number;
  to: number;
}

/** Migrates the config's store; resolves with the versions. */
export async function migrateStore(config: Pick<Config, 'storage'>): Promise<MigrationResult> {
  if (config.storage.url !== undefined) {
    const { createPool } = await import('../store/pg/connection.js');
    const { migratePg } = await import('../store/pg/schema.js');
    const pool = createPool(config.storage.url, { poolSize: 2 });
    pool.on('error', () => undefined);
    try {
      const { from, to } = await migratePg(pool);
      return { engine: 'postgres', where: redactUrl(config.storage.url), from, to };
    } finally {
      await pool.end();
    }
  }
  const { default: Database } = await import('better-sqlite3');
  const { migrate } = await import('../store/schema.sql.js');
  const layout = storeLayout(config.storage.dir);
  mkdirSync(layout.dir, { recursive: true });
  const db = new Database(layout.dbFile, { timeout: 5000 });
  try {
    db.pragma('journal_mode = WAL');
    const version = (): number => db.pragma('user_version', { simple: true }) as number;
    const from = version();
    migrate(db);
    return { engine: 'sqlite', where: layout.dbFile, from, to: version() };
  } finally {
    db.close();
  }
}

/** Adds `migrate` to the `store` command (store-commands.ts makes the group). */
export function registerStoreMigrateCommand(cmd: Command, load: ConfigLoader): void {
  const store = cmd.commands.find((c) => c.name() === 'store') ?? cmd.command('store').description('the message store as a whole');
  store
    .command('migrate')
    .description("bring the config's store (storage.url, else storage.dir) to this version's schema; prints the version before and after")
    .option('-c, --config <file>', 'config file (YAML)')
    .action(async (opts: { config?: string }) => {
      const config = await load(opts.config);
      if (!config) return;
      try {
        const r = await migrateStore(config);
        const what = r.engine === 'postgres' ? 'PostgreSQL' : 'SQLite';
        const change = r.from === r.to ? `already at schema version ${r.to}` : `schema version ${r.from} -> ${r.to}`;
        process.stdout.write(`${what} store ${r.where}: ${change}\n`);
      } catch (err) {
        process.stderr.write(`vmpilot: cannot migrate the store: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = EXIT_FAILED;
      }
    });
}
