/**
 * The attendant's view of the mailboxes (dial by name, dial by extension's length, the transfer guard), read
 * from the store once and kept until the store says a mailbox changed ('mailbox' events, which include
 * changes made by other processes when the store watches its change feed).
 *
 * Why: every menu visit read every mailbox from the database, 45 ms of a blocked loop per visit with 5,000
 * mailboxes (issue 13), on the loop that paces every call's RTP.
 */
import type { Mailbox, MessageStore } from '../../store/types.js';

export class MailboxDirectory {
  private cached: Promise<Mailbox[]> | undefined;
  private readonly invalidate = (): void => {
    this.cached = undefined;
  };

  constructor(private readonly store: Pick<MessageStore, 'events' | 'listMailboxes'>) {
    store.events.on('mailbox', this.invalidate);
  }

  /** Every mailbox, as of the last change the store announced. */
  mailboxes(): Promise<Mailbox[]> {
    if (this.cached) return this.cached;
    const loading = this.store.listMailboxes();
    this.cached = loading;
    // A failed read is not kept: the next visit asks again.
    loading.catch(() => {
      if (this.cached === loading) this.cached = undefined;
    });
    return loading;
  }

  /** Stops listening to the store. */
  close(): void {
    this.store.events.off('mailbox', this.invalidate);
    this.cached = undefined;
  }
}
