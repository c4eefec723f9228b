/**
 * A throwaway PostgreSQL server per test file (postgres-server.ts says how it runs).
 *
 * Usage in a test file:
 *   const pg = postgresPerFile();                         // registers afterAll; starts on first use
 *   const url = await pg.createDatabase();                // postgres://postgres@127.0.0.1:PORT/t_1
 * or startPostgres() / server.stop() by hand (server.restart(), server.kill() for outage tests).
 */
import { afterAll } from 'vitest';
import { startPostgres, type PostgresServer, type StartPostgresOptions } from './postgres-server.js';

export { postgresBinDir, startPostgres, type PostgresServer, type StartPostgresOptions } from './postgres-server.js';

export interface PostgresPerFile {
  /** A fresh database on this file's server (started on first call). */
  createDatabase(): Promise<string>;
  /** This file's server (started on first call). */
  server(): Promise<PostgresServer>;
}

/**
 * One server for the calling test file, started lazily (a file whose PostgreSQL tests are filtered out pays
 * nothing) and destroyed in afterAll. Call at the top level of the file (or inside a describe).
 */
export function postgresPerFile(options: StartPostgresOptions = {}): PostgresPerFile {
  let started: Promise<PostgresServer> | undefined;
  const server = (): Promise<PostgresServer> => (started ??= startPostgres(options));
  afterAll(async () => {
    if (started) await (await started.catch(() => undefined))?.destroy();
  }, 30_000);
  return {
    server,
    async createDatabase() {
      return (await server()).createDatabase();
    },
  };
}
