/**
 * What the owner listens to: the messages of a folder (or new, then saved) in play order -- urgent first,
 * then oldest first (issue 4) -- with the messages deleted earlier in this call put back in their place, so
 * that a delete can be undone until the call ends. Each entry tracks the folder the session has moved the
 * message to, so the player knows whether hearing it still has to move it to saved.
 */
import type { Folder, MessageRecord } from '../../store/types.js';
import type { Session } from './session.js';

export interface ListEntry {
  message: MessageRecord;
  /** Where the message is now (the session keeps this in step with the store). */
  folder: Folder;
  /** Marked heard in the store. */
  heard: boolean;
}

/** Urgent first, then oldest first; ties by id, so the order is stable. */
export function playOrder(a: MessageRecord, b: MessageRecord): number {
  if (a.urgent !== b.urgent) return a.urgent ? -1 : 1;
  if (a.receivedAt !== b.receivedAt) return a.receivedAt - b.receivedAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The folder's messages (both: new, then saved), each group in play order. */
export async function loadMessages(s: Session, folder?: 'new' | 'saved'): Promise<ListEntry[]> {
  const folders: ('new' | 'saved')[] = folder ? [folder] : ['new', 'saved'];
  const store = s.ctx.store;
  const deleted = s.deleted.size > 0 ? await store.listMessages(s.mailbox.number, 'deleted') : [];
  const out: ListEntry[] = [];
  for (const f of folders) {
    const live = await store.listMessages(s.mailbox.number, f);
    const undoable = deleted.filter((m) => s.deleted.get(m.id) === f);
    const group = [...live, ...undoable].sort(playOrder);
    for (const message of group) out.push({ message, folder: message.folder, heard: message.heard });
  }
  return out;
}
