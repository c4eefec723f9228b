/**
 * The PostgreSQL store's start-up repair (MessageStore.repair). Pass (a), recordings left in tmp/ by a crash,
 * is repair.ts's (delivered through the store's deposit). Passes (b) and (c) differ from the file store's,
 * since messages/ holds a cache here, not the messages themselves:
 *
 * (b) messages/<mailbox>/: a WAV with its sidecar is a deposit whose commit a crash (or a database outage
 *     before a stop) interrupted: it is committed now (idempotent: it may have been committed already), or
 *     quarantined when its mailbox is gone. A WAV without a sidecar is a cached copy: kept when its message
 *     exists, deleted when it was removed (by this host or another). Lone sidecars and `.part` files go.
 * (c) nothing: rows cannot lack audio (both are written in one transaction), and a missing cached copy is
 *     fetched when needed.
 */
import { join } from 'node:path';
import { unlinkIfExists } from '../audio-files.js';
import { isMessageId } from '../message-id.js';
import { finishRenumbers } from '../mailbox-renumber.js';
import { trimCachedCopies } from './cache-trim.js';
import { forEachMessageFolder, repairTmp, type RepairHost, type RepairResult } from '../repair.js';

export interface PgRepairHost extends RepairHost {
  /** The ids among these that have a message row. */
  existingMessages(ids: string[]): Promise<Set<string>>;
  /** Commits messages/<folder>/<id>.wav with its sidecar (postgres.ts); the mailbox, or undefined if quarantined. */
  commitPlaced(folder: string, id: string, result: RepairResult): Promise<string | undefined>;
}

export async function repairPgStore(host: PgRepairHost): Promise<RepairResult> {
  const result: RepairResult = { reattached: [], quarantined: [], missingAudio: [], tempFilesRemoved: 0, changedMailboxes: new Set() };
  // First: a renumber a crash interrupted puts this host's folders (kept deposits among them) under its number.
  await finishRenumbers(host);
  await repairTmp(host, result);
  await forEachMessageFolder(host.layout, async ({ name: folder, dir, files, names }) => {
    let changed = false;
    for (const name of files) {
      const stem = name.replace(/\.(wav|json)$/, '');
      if (name.endsWith('.wav') && isMessageId(stem)) {
        if (!names.has(`${stem}.json`)) continue; // a cached copy: trimmed below
        const mailbox = await host.commitPlaced(folder, stem, result);
        if (mailbox !== undefined) {
          result.reattached.push(stem);
          result.changedMailboxes.add(mailbox);
          host.logger?.warn({ id: stem, mailbox }, 'deposit interrupted before its commit committed');
        }
        changed = true;
      } else if (name.endsWith('.part') || (name.endsWith('.json') && !names.has(`${stem}.wav`))) {
        await unlinkIfExists(join(dir, name));
        changed = true;
      }
    }
    if ((await trimCachedCopies(dir, (ids) => host.existingMessages(ids))) > 0) changed = true;
    return changed;
  });
  return result;
}
