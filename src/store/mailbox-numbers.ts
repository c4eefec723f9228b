/**
 * Every mailbox number and alias, kept in memory for the call router (call/router.ts), which must decide on
 * each INVITE without a store query on the event loop. Loaded once at start, then reloaded whenever the store
 * announces a mailbox change ('mailbox' events, which also carry other processes' changes when the store
 * watches its change feed). Reloads coalesce: a burst of changes (a CSV import) costs one reload in flight and
 * at most one after it. Between a change and the end of its reload a call to a just-added number gets 404,
 * as it would have a moment earlier.
 *
 * A failed reload is logged and the previous set kept (the next change tries again).
 */
import type { Logger } from 'pino';
import type { MessageStore } from './types.js';

export class MailboxNumbers {
  private numbers = new Set<string>();
  private loading: Promise<void> | undefined = undefined;
  private stale = false;
  private closed = false;
  private readonly onChange = (): void => {
    void this.reload();
  };

  private constructor(
    private readonly store: MessageStore,
    private readonly logger: Logger,
  ) {}

  /** Loads the set (rejects when the store cannot list its mailboxes) and follows the store's changes. */
  static async open(store: MessageStore, logger: Logger): Promise<MailboxNumbers> {
    const m = new MailboxNumbers(store, logger);
    m.numbers = await m.read();
    store.events.on('mailbox', m.onChange);
    return m;
  }

  has(number: string): boolean {
    return this.numbers.has(number);
  }

  /** Resolves once the set reflects every change announced before the call. Never rejects. */
  reload(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.loading) {
      this.stale = true;
      return this.loading;
    }
    this.loading = (async () => {
      do {
        this.stale = false;
        try {
          this.numbers = await this.read();
        } catch (err) {
          this.logger.error({ err }, 'reloading the mailbox numbers failed; routing with the previous set');
        }
      } while (this.stale && !this.closed);
      this.loading = undefined;
    })();
    return this.loading;
  }

  close(): void {
    this.closed = true;
    this.store.events.off('mailbox', this.onChange);
  }

  private async read(): Promise<Set<string>> {
    const set = new Set<string>();
    for (const m of await this.store.listMailboxes()) {
      set.add(m.number);
      for (const alias of m.aliases) set.add(alias);
    }
    return set;
  }
}
