/**
 * One mailbox's read state, compared between the store and its IMAP folder: what to change on each side so
 * that both agree. Pure (no IMAP, no store): imap-sync.ts gathers the two sides, applies the plan and keeps
 * the agreed state as the next comparison's base.
 *
 * Two facts per message: read (store: listened to, folder saved or heard; IMAP: \Seen) and deleted (store:
 * folder deleted or purged; IMAP: \Deleted or expunged). Each is merged three-way against the state both
 * sides last agreed on: the side that changed since then wins. For a boolean that is never a conflict (if both
 * changed, both moved the same way). With no base yet (a vmpilot start, a message first met in a sweep) the
 * merge is an OR: read anywhere is read, deleted anywhere is deleted.
 *
 * Why this cannot loop: applying a plan makes both sides equal the merged state and records it as the base;
 * the events that applying causes (a store 'counts', an IMAP FETCH FLAGS) lead to a comparison that finds
 * nothing changed, so the plan is empty. The ping-pong of "IMAP says seen → store heard → push \Seen →
 * IMAP event → ..." ends after one empty round.
 *
 * Not here: messages never appended (the plan lists those received since the sync started, see `appendSince`);
 * an email expunged while its message is undeleted by phone is not appended again (FIXME).
 */
import type { Folder, MessageRecord } from '../store/types.js';

/** What both sides last agreed on for one message. */
export interface AgreedState {
  read: boolean;
  deleted: boolean;
}

/** One email carrying X-Vmpilot-Message-Id in the watched folder. */
export interface ImapCopy {
  uid: number;
  id: string;
  seen: boolean;
  deleted: boolean;
}

export type StoreChange = { id: string; action: 'heard' } | { id: string; action: 'folder'; folder: Folder };

export interface FlagChange {
  uid: number;
  add: string[];
  remove: string[];
}

export interface SyncPlan {
  store: StoreChange[];
  imap: FlagChange[];
  /** Messages to append (not in IMAP, never agreed on, received at or after appendSince, not deleted). */
  append: string[];
  /** The agreed state after the plan is applied (every message of the mailbox that has one). */
  agreed: Map<string, AgreedState>;
}

export interface ReconcileInput {
  /** The mailbox's messages, every folder. */
  messages: readonly MessageRecord[];
  copies: readonly ImapCopy[];
  /** The agreed states from the previous comparison (by message id). */
  base: ReadonlyMap<string, AgreedState>;
  /** Ids of copies whose message is not in the store at all (purged, or never this store's). */
  gone: ReadonlySet<string>;
  /** ms since epoch: messages received since then with no copy and no base are appended (deposits this process missed). */
  appendSince: number;
}

export const storeRead = (m: Pick<MessageRecord, 'heard' | 'folder'>): boolean => m.heard || m.folder === 'saved';

/** Three-way merge of one boolean: the side that moved away from the base wins; no base: either side's true. */
export function merge3(base: boolean | undefined, store: boolean, imap: boolean): boolean {
  if (base === undefined) return store || imap;
  return store !== base ? store : imap;
}

function storeChanges(m: MessageRecord, target: AgreedState): StoreChange[] {
  const deleted = m.folder === 'deleted';
  if (target.deleted) return deleted ? [] : [{ id: m.id, action: 'folder', folder: 'deleted' }];
  // Undeleted in the client: back to where a listened or unheard message belongs.
  if (deleted) return [{ id: m.id, action: 'folder', folder: target.read ? 'saved' : 'new' }];
  if (target.read && !storeRead(m)) return [{ id: m.id, action: 'heard' }];
  // Marked unread in the client: 'new' is the store's "not yet listened to" (setFolder clears heard).
  if (!target.read && storeRead(m)) return [{ id: m.id, action: 'folder', folder: 'new' }];
  return [];
}

function flagChange(copy: ImapCopy, target: AgreedState): FlagChange | undefined {
  const add: string[] = [];
  const remove: string[] = [];
  if (target.read !== copy.seen) (target.read ? add : remove).push('\\Seen');
  if (target.deleted !== copy.deleted) (target.deleted ? add : remove).push('\\Deleted');
  return add.length + remove.length > 0 ? { uid: copy.uid, add, remove } : undefined;
}

export function reconcile(input: ReconcileInput): SyncPlan {
  const plan: SyncPlan = { store: [], imap: [], append: [], agreed: new Map() };
  // The first copy (lowest UID) of an id is the one kept; any later one is a duplicate and is deleted.
  const copyOf = new Map<string, ImapCopy>();
  for (const copy of [...input.copies].sort((a, b) => a.uid - b.uid)) {
    if (!copyOf.has(copy.id)) copyOf.set(copy.id, copy);
    else if (!copy.deleted) plan.imap.push({ uid: copy.uid, add: ['\\Deleted'], remove: [] });
  }
  for (const m of input.messages) {
    const copy = copyOf.get(m.id);
    const base = input.base.get(m.id);
    const sRead = storeRead(m);
    const sDeleted = m.folder === 'deleted';
    if (!copy) {
      if (base) {
        // Was in IMAP, now is not: expunged in the client (or moved out of the folder), i.e. deleted there.
        const target = { read: merge3(base.read, sRead, sRead), deleted: merge3(base.deleted, sDeleted, true) };
        if (target.deleted) plan.store.push(...storeChanges(m, target));
        plan.agreed.set(m.id, { read: target.read, deleted: true });
      } else if (!sDeleted && m.receivedAt >= input.appendSince) {
        plan.append.push(m.id);
      }
      continue;
    }
    const target = { read: merge3(base?.read, sRead, copy.seen), deleted: merge3(base?.deleted, sDeleted, copy.deleted) };
    plan.store.push(...storeChanges(m, target));
    const flags = flagChange(copy, target);
    if (flags) plan.imap.push(flags);
    plan.agreed.set(m.id, target);
  }
  // Purged from the store: the email goes too, but only one this process agreed on. An email whose id this
  // store never had may belong to another vmpilot sharing the IMAP account (a test or standby installation,
  // a store restored from an older backup): it is left alone.
  for (const id of input.gone) {
    const copy = copyOf.get(id);
    if (copy && !copy.deleted && input.base.has(id)) plan.imap.push({ uid: copy.uid, add: ['\\Deleted'], remove: [] });
  }
  return plan;
}
