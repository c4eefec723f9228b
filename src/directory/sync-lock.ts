/**
 * One directory sync at a time per storage dir: `vmpilot directory sync` run by hand while the server's
 * scheduled sync runs would plan from the same ownership file, and the loser's rollback (sync.ts, step 3)
 * would write back an ownership that forgets the winner's new mailboxes. A lock file beside the ownership file
 * holds the syncing process's pid; a lock whose process is gone (killed mid-sync) is taken over.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

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

/** Runs `work` holding the lock of `storageDir`; rejects with SyncBusyError while a live process holds it. */
export async function withSyncLock<T>(storageDir: string, work: () => Promise<T>): Promise<T> {
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
