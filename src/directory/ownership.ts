/**
 * Which mailboxes the directory owns: entry id (entryUUID, objectGUID) → the mailbox number, the entry's DN,
 * and whether the sync disabled it. Mailboxes not listed here (from the config file, the CLI, the HTTP API)
 * are never touched by a sync; a rename or a number change of an entry follows its id.
 *
 * Kept in the store (table directory_owned, store/leader-tables.ts), so that every host of a site sees one
 * ownership, whichever host syncs (the leader on a schedule, any host by hand). A sync writes only what it
 * changed, BEFORE applying its mailbox transaction, with the mailboxes it is about to create: should the
 * process stop in between, the next sync finds owned entries without a mailbox and creates them, where the
 * other order would leave mailboxes that nothing owns.
 *
 * Until this version the ownership was a file beside the store (<storage.dir>/directory-ldap.json, one per
 * host): adoptOwnershipFile() imports it once at start-up and renames it (.imported), so an upgraded site keeps
 * the mailboxes its directory created.
 */
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { DirectoryOwned, MessageStore } from '../store/types.js';

export interface OwnedMailbox {
  number: string;
  dn: string;
  /** The sync locked it and hid it from the directory (the user left): a return unlocks it. */
  disabled?: boolean;
}

export type Ownership = Map<string, OwnedMailbox>;

export type OwnershipStore = Pick<MessageStore, 'listDirectoryOwned' | 'saveDirectoryOwned'>;

/** The file of the versions before the ownership moved into the store. */
const FILE = 'directory-ldap.json';

export function ownershipFile(storageDir: string): string {
  return join(storageDir, FILE);
}

export async function loadOwnership(store: OwnershipStore): Promise<Ownership> {
  return new Map((await store.listDirectoryOwned()).map((o) => [o.entryId, { number: o.number, dn: o.dn, ...(o.disabled && { disabled: true }) }]));
}

const row = (entryId: string, o: OwnedMailbox): DirectoryOwned => ({ entryId, number: o.number, dn: o.dn, disabled: o.disabled === true });
const same = (a: OwnedMailbox, b: OwnedMailbox): boolean => a.number === b.number && a.dn === b.dn && (a.disabled === true) === (b.disabled === true);

/** Takes the store's ownership from `before` to `after`: writes what changed, in one transaction. */
export async function saveOwnership(store: OwnershipStore, before: Ownership, after: Ownership): Promise<void> {
  const put = [...after].filter(([id, o]) => !before.has(id) || !same(before.get(id)!, o)).map(([id, o]) => row(id, o));
  const remove = [...before.keys()].filter((id) => !after.has(id));
  await store.saveDirectoryOwned(put, remove);
}

/**
 * The one-time import of an ownership file of an older version: its entries the store does not own yet are
 * added (another host of the site may have imported its own file first: the store's entries win), then the file
 * is renamed to `directory-ldap.json.imported`. Returns how many entries were added; no file: 0.
 */
export async function adoptOwnershipFile(store: OwnershipStore, storageDir: string, logger: Logger): Promise<number> {
  const file = ownershipFile(storageDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  const data = JSON.parse(text) as { version: number; entries: Record<string, OwnedMailbox> };
  if (data.version !== 1) throw new Error(`${file}: unknown version ${data.version}`);
  const owned = await loadOwnership(store);
  const added = Object.entries(data.entries).filter(([id]) => !owned.has(id));
  await store.saveDirectoryOwned(added.map(([id, o]) => row(id, o)), []);
  await rename(file, `${file}.imported`);
  logger.info({ file, entries: Object.keys(data.entries).length, added: added.length }, 'directory ownership file imported into the store');
  return added.length;
}
