/**
 * Where a store is, as the operator writes it on the command line (`store copy --from/--to`, `mirror --to`,
 * `mirror restore --from`): `sqlite:/path/to/dir` or a plain path (a SQLite storage dir, as storage.dir), or
 * `postgres://user@host:port/db` (`postgresql://` too). Opening one gives its replica (whole-content reads and
 * writes) and, when asked, the store's change events (the mirror's primary).
 */
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { StoreEvents } from '../types.js';
import type { StoreReplica } from './types.js';

export type StoreLocation = { kind: 'sqlite'; dir: string } | { kind: 'postgres'; url: string };

/** The location a URL or path names; a string saying why when it names none. */
export function parseStoreLocation(text: string): StoreLocation | string {
  const t = text.trim();
  if (t === '') return 'an empty store location';
  if (/^postgres(ql)?:\/\//i.test(t)) return { kind: 'postgres', url: t };
  if (/^sqlite:/i.test(t)) {
    const path = t.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    return path === '' ? 'sqlite: needs a directory (sqlite:/var/lib/vmpilot)' : { kind: 'sqlite', dir: resolve(path) };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(t)) return `"${t}": not a store location (sqlite:/path/to/dir, a directory, or postgres://...)`;
  return { kind: 'sqlite', dir: resolve(t) };
}

/** The location for logs and reports: a PostgreSQL URL without its password. */
export function describeLocation(location: StoreLocation): string {
  if (location.kind === 'sqlite') return `sqlite:${location.dir}`;
  try {
    const url = new URL(location.url);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/** Whether two locations are the same store (copying a store onto itself is refused). */
export function sameLocation(a: StoreLocation, b: StoreLocation): boolean {
  return a.kind === b.kind && (a.kind === 'sqlite' ? a.dir === (b as { dir: string }).dir : a.url === (b as { url: string }).url);
}

export interface OpenedStore {
  /** The store's change events: changes made by other processes, with watchChanges (the mirror's primary). */
  events: EventEmitter<StoreEvents>;
  replica: StoreReplica;
  /** Closes everything opened. */
  close(): Promise<void>;
}

export interface OpenLocationOptions {
  logger?: Logger;
  /** Announce changes made by other processes and hosts as the store's events. Default false. */
  watchChanges?: boolean;
}

/** How often a watched SQLite store polls its change feed, ms (the mirror's lag floor on SQLite). */
const SQLITE_WATCH_MS = 50;

/** Opens the store at a location (creating an empty one where there is none: a new dir, an empty database). */
export async function openLocation(location: StoreLocation, opts: OpenLocationOptions = {}): Promise<OpenedStore> {
  if (location.kind === 'postgres') {
    const { openPostgresReplica } = await import('./postgres-replica.js');
    const replica = await openPostgresReplica(location.url, opts);
    if (!opts.watchChanges) {
      // Nothing is announced without watchChanges: an emitter that stays quiet.
      return { events: new EventEmitter<StoreEvents>(), replica, close: () => replica.close() };
    }
    // The store hears other hosts' changes (LISTEN/NOTIFY); its local audio cache goes in a folder of our own.
    const cacheDir = await mkdtemp(join(tmpdir(), 'vmpilot-replica-'));
    try {
      const { openPostgresStore } = await import('../postgres.js');
      const store = await openPostgresStore(location.url, cacheDir, { logger: opts.logger, watchChanges: true });
      return {
        events: store.events,
        replica,
        close: async () => {
          await Promise.allSettled([store.close(), replica.close()]);
          await rm(cacheDir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      await replica.close();
      await rm(cacheDir, { recursive: true, force: true });
      throw err;
    }
  }
  const { openSqliteStore } = await import('../sqlite.js');
  const store = await openSqliteStore(location.dir, { logger: opts.logger, watchChangesMs: opts.watchChanges ? SQLITE_WATCH_MS : 0 });
  return { events: store.events, replica: store.replica(), close: () => store.close() };
}
