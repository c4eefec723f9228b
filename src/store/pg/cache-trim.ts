/**
 * This host's cached copies of messages another host removed (pg/repair.ts at start-up, and postgres.ts on
 * every other host's change to the mailbox's counts, heard through LISTEN/NOTIFY): without it, a host's
 * messages/ folder grew with every message purged elsewhere until its next start.
 *
 * A WAV without a sidecar beside it is a cached copy (with one, it is a deposit not yet committed: never
 * touched here); it goes when no message row has its id. `.part` files (a fetch in progress) are left alone.
 */
import { join } from 'node:path';
import { unlinkIfExists } from '../audio-files.js';
import { isMessageId } from '../message-id.js';
import { entries } from '../repair.js';

/** Deletes the cached copies in `dir` whose message is gone; returns how many. */
export async function trimCachedCopies(dir: string, existingMessages: (ids: string[]) => Promise<Set<string>>): Promise<number> {
  const names = new Set((await entries(dir)).filter((e) => e.file).map((e) => e.name));
  const cached = [...names].map((n) => n.replace(/\.wav$/, '')).filter((stem) => isMessageId(stem) && names.has(`${stem}.wav`) && !names.has(`${stem}.json`));
  if (cached.length === 0) return 0;
  const existing = await existingMessages(cached);
  let removed = 0;
  for (const id of cached) if (!existing.has(id) && (await unlinkIfExists(join(dir, `${id}.wav`)))) removed++;
  return removed;
}
