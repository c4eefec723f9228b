/**
 * Who owns the recordings in progress under tmp/ (issue 13: "repair at start-up never touches another worker's
 * recording in progress"). Every process records into its own folder, tmp/pid-<pid>-<start>/, named after its
 * process id and its start time (Linux: /proc/<pid>/stat field 22, in clock ticks since boot), so that repair
 * can tell a folder whose process still runs, which it leaves alone, from one whose process is gone (or whose
 * pid was reused by another process since: the start time differs), which it repairs.
 *
 * Without /proc (not Linux) the start time is 0 and only the pid is checked.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { storeLayout, type StoreLayout } from './layout.js';

const TAG = /^pid-(\d+)-(\d+)$/;

/** A process's start time in clock ticks since boot; 0 where /proc is not available. */
async function startTicks(pid: number): Promise<number | undefined> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'latin1');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // No such process; or no /proc at all (then the pid alone decides).
    if (code === 'ENOENT' || code === 'ESRCH') return (await procMounted()) ? undefined : 0;
    return 0;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses; fields resume after the last ')'.
  // starttime is field 22; after the ')' the fields start at field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[22 - 3]);
  return Number.isFinite(ticks) ? ticks : 0;
}

async function procMounted(): Promise<boolean> {
  try {
    await readFile('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
}

let own: Promise<string> | undefined;

/** The folder name of this process's recordings under tmp/. */
export function ownTag(): Promise<string> {
  own ??= tagOf(process.pid).then((tag) => tag ?? `pid-${process.pid}-0`);
  return own;
}

/** The tag a running process has (undefined when it does not run). */
export async function tagOf(pid: number): Promise<string | undefined> {
  const ticks = await startTicks(pid);
  return ticks === undefined ? undefined : `pid-${pid}-${ticks}`;
}

/** Whether a folder name is an owner tag at all (other folders under tmp/ are not repair's business). */
export function isOwnerTag(name: string): boolean {
  return TAG.test(name);
}

/** Whether the process that a tag names still runs (the same process: same pid and start time). */
export async function ownerRuns(tag: string): Promise<boolean> {
  const m = TAG.exec(tag);
  if (!m) return false;
  const pid = Number(m[1]);
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it runs, under another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const ticks = Number(m[2]);
  if (ticks === 0) return true;
  return (await tagOf(pid)) === tag;
}

/**
 * Both engines' first step when opening a store: the local folders under storage.dir (layout.ts) created, and
 * this process's own folder for recordings in progress, tmp/<own tag>/ (repair in another process leaves it alone).
 */
export async function prepareLocalFolders(dir: string): Promise<{ layout: StoreLayout; tmpDir: string }> {
  const layout = storeLayout(resolve(dir));
  const tmpDir = join(layout.tmpDir, await ownTag());
  for (const d of [layout.dir, layout.messagesDir, layout.greetingsDir, tmpDir]) await mkdir(d, { recursive: true });
  return { layout, tmpDir };
}
