/**
 * Which mailboxes the directory owns: entry id (entryUUID, objectGUID) → the mailbox number, the entry's DN,
 * and whether the sync disabled it. Mailboxes not listed here (from the config file, the CLI, the HTTP API)
 * are never touched by a sync; a rename or a number change of an entry follows its id.
 *
 * Kept in <storage.dir>/directory-ldap.json, beside the store rather than in it, so that it needs no change to
 * the store's schema (SQLite or PostgreSQL). Written atomically (temporary file, fsync, rename). The sync
 * writes it BEFORE applying its store transaction, with the mailboxes it is about to create: should the
 * process stop in between, the next sync finds owned entries without a mailbox and creates them, where the
 * other order would leave mailboxes that nothing owns.
 */
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

export interface OwnedMailbox {
  number: string;
  dn: string;
  /** The sync locked it and hid it from the directory (the user left): a return unlocks it. */
  disabled?: boolean;
}

export type Ownership = Map<string, OwnedMailbox>;

const FILE = 'directory-ldap.json';

export function ownershipFile(storageDir: string): string {
  return join(storageDir, FILE);
}

export async function loadOwnership(storageDir: string): Promise<Ownership> {
  let text: string;
  try {
    text = await readFile(ownershipFile(storageDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
  const data = JSON.parse(text) as { version: number; entries: Record<string, OwnedMailbox> };
  if (data.version !== 1) throw new Error(`${ownershipFile(storageDir)}: unknown version ${data.version}`);
  return new Map(Object.entries(data.entries));
}

export async function saveOwnership(storageDir: string, owned: Ownership): Promise<void> {
  const file = ownershipFile(storageDir);
  const tmp = `${file}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(JSON.stringify({ version: 1, entries: Object.fromEntries(owned) }));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
}
