/**
 * What MWI needs from the message store: count changes as events, current counts, mailbox look-ups, where
 * subscriptions are kept, and what each PBX acknowledged (ack-ledger.ts).
 * The notifier and the subscriptions code against this slice of MessageStore, so tests can pass a small fake.
 */
import type { MessageStore } from '../store/types.js';

export type MwiStore = Pick<MessageStore, 'events' | 'counts' | 'listMailboxes' | 'findMailbox' | 'listSubscriptions' | 'saveSubscriptions' | 'listMwiAcked' | 'saveMwiAcked'>;
