/**
 * One directory sync at a time per site: `vmpilot directory sync` run by hand while the server's scheduled sync
 * runs would plan from the same ownership (store table directory_owned), and the loser's rollback (sync.ts,
 * step 3) would put back what the winner had just changed.
 *  - SQLite (one host): a lock file beside the store holds the syncing process's pid; a lock whose process is
 *    gone (killed mid-sync) is taken over.
 *  - PostgreSQL (several hosts): a session-level advisory lock (PostgreSQL §13.3.5) on a connection of the
 *    sync's own, tried, never waited for; a sync killed mid-way loses its session and with it the lock.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { LOCK_NAMESPACE } from '../cluster/pg-leadership.js';

const LOCK = 'directory-ldap.lock';

/** Another process is syncing the same store now. */
export class SyncBusyError extends Error {
  override name = 'SyncBusyError';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The advisory lock's second key (the first is vmpilot's namespace; MWI leadership is 1). */
export const DIRECTORY_SYNC_LOCK = 2;

/** Runs `work` holding the site's sync lock; rejects with SyncBusyError while another sync holds it. */
export async function withSyncLock<T>(storage: { dir: string; url?: string }, work: () => Promise<T>): Promise<T> {
  return storage.url === undefined ? withFileLock(storage.dir, work) : withAdvisoryLock(storage.url, work);
}

async function withAdvisoryLock<T>(url: string, work: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'vmpilot-directory-sync' });
  // A connection lost mid-sync loses the lock; the sync's own store calls fail or finish on their own.
  client.on('error', () => undefined);
  await client.connect();
  try {
    const got = await client.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS got', [LOCK_NAMESPACE, DIRECTORY_SYNC_LOCK]);
    if (!got.rows[0]?.got) throw new SyncBusyError('another directory sync is running on a host of this site');
    return await work();
  } finally {
    // Ending the session frees the lock.
    await client.end().catch(() => undefined);
  }
}

async function withFileLock<T>(storageDir: string, work: () => Promise<T>): Promise<T> {
  const file = join(storageDir, LOCK);
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) throw new SyncBusyError(`another directory sync is running (pid ${pid}, ${file})`);
      await unlink(file).catch(() => undefined);
    }
  }
  try {
    return await work();
  } finally {
    await unlink(file).catch(() => undefined);
  }
}
