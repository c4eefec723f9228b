/**
 * Keeps the live MWI subscriptions in the message store, one row each (issue 9 item 5: the whole file was
 * rewritten and fsynced on every change). A change marks its subscription; one store write (one transaction)
 * carries every mark made since the previous write, and while a write runs, new marks wait for the next one.
 * So a refresh writes one row, and a new message fanned out to a mailbox's subscribers writes their rows once.
 *
 * Rows are read back at start by subscriptions.ts (readStored). No synchronous disk I/O here: the store's.
 */
import type { Logger } from 'pino';
import type { MessageStore, StoredSubscription } from '../store/types.js';
import type { Subscription, SubscriptionRecord } from './subscription.js';
import { isSubscriptionRecord } from './subscription-file.js';

export type SubscriptionStore = Pick<MessageStore, 'listSubscriptions' | 'saveSubscriptions'>;

/** A stored row read back: the record and where it came from; undefined for a row that is not one. */
export function readStored(row: StoredSubscription): { record: SubscriptionRecord; source: string } | undefined {
  let record: unknown;
  try {
    record = JSON.parse(row.data);
  } catch {
    return undefined;
  }
  return isSubscriptionRecord(record) ? { record, source: row.source } : undefined;
}

function toStored(sub: Subscription): StoredSubscription {
  return { id: sub.id, mailbox: sub.mailbox, source: sub.source, expiresAt: sub.expiresAt, data: JSON.stringify(sub.toRecord()) };
}

export class SubscriptionJournal {
  /** Marked since the last write: the subscription to write, or null to delete its row. */
  private readonly pending = new Map<string, Subscription | null>();
  private writing: Promise<void> | undefined;

  constructor(
    private readonly store: SubscriptionStore,
    private readonly log: Logger,
  ) {}

  /** The subscription is new or changed (expiry, CSeq, target): write its row (soon, once). */
  changed(sub: Subscription): void {
    this.pending.set(sub.id, sub);
    this.kick();
  }

  /** The subscription is over: delete its row. */
  removed(id: string): void {
    this.pending.set(id, null);
    this.kick();
  }

  /** Resolves once every mark made so far is written. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private kick(): void {
    this.writing ??= this.writeLoop();
  }

  private async writeLoop(): Promise<void> {
    try {
      // Let the marks of this turn of the event loop (a fan-out) join one write.
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.pending.size > 0) {
        const batch = [...this.pending];
        this.pending.clear();
        const put = batch.flatMap(([, sub]) => (sub ? [toStored(sub)] : []));
        const remove = batch.flatMap(([id, sub]) => (sub ? [] : [id]));
        try {
          await this.store.saveSubscriptions(put, remove);
        } catch (err) {
          this.log.error({ err, written: put.length, removed: remove.length }, 'MWI subscriptions could not be saved');
        }
      }
    } finally {
      this.writing = undefined;
    }
  }
}
