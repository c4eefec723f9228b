/**
 * The mailboxes as last read from PostgreSQL, kept in this process for when the database cannot be reached: a
 * call that begins while PostgreSQL is down still finds its mailbox (by number or alias) and leaves a message,
 * kept on this host's disk until the database is back (deposits.ts). Without it such a call failed at its
 * first look-up; only calls already recording kept their message.
 *
 * Kept current by the store (postgres.ts), only where it hears changes (watchChanges: the server):
 * - read whole at open and every time the change listener (re)connects: while it was away the changes may have
 *   outlived the change rows kept for its catch-up (change-listener.ts KEEP_MS);
 * - one mailbox read again on every 'mailbox' change, this process's own and other hosts' (LISTEN/NOTIFY).
 * Reads race (a mailbox read again while the whole is being read): each read takes a ticket, and a row is
 * applied only when no read of that mailbox started after it.
 *
 * Only a fallback, never asked while the database answers: the copy lags another host's change by the
 * NOTIFY's delivery, and the PIN back-off (failed logins, lock) changes without a 'mailbox' change row; a PIN
 * check or an administrator must not act on either. The round trip per call is the price of never being stale.
 */
export interface CachedMailboxRow {
  number: string;
  aliases: string[];
}

export class MailboxCache<Row extends CachedMailboxRow> {
  private readonly byNumber = new Map<string, Row>();
  /** alias -> mailbox number */
  private readonly numberOf = new Map<string, string>();
  /** The ticket of the latest read that covered each mailbox. */
  private readonly readTicket = new Map<string, number>();
  private tickets = 0;
  private wholeTicket = 0;
  /** Whether it was ever read whole: until then a number missing from it says nothing. */
  loaded = false;

  get size(): number {
    return this.byNumber.size;
  }

  /** The mailbox with this number or alias, as last read. */
  find(numberOrAlias: string): Row | undefined {
    return this.byNumber.get(numberOrAlias) ?? this.byNumber.get(this.numberOf.get(numberOrAlias) ?? '');
  }

  /** Reads every mailbox with `read` and replaces the copy (but not mailboxes read one by one since). */
  async reload(read: () => Promise<readonly Row[]>): Promise<void> {
    const ticket = ++this.tickets;
    const rows = await read();
    if (ticket < this.wholeTicket) return; // a later whole read was applied already
    this.wholeTicket = ticket;
    const seen = new Set<string>();
    // A mailbox read alone after this read began keeps that read's row; one read alone before now loses to it.
    const take = (number: string, row: Row | undefined): void => {
      if ((this.readTicket.get(number) ?? 0) > ticket) return;
      this.readTicket.set(number, ticket);
      this.apply(number, row);
    };
    for (const row of rows) {
      seen.add(row.number);
      take(row.number, row);
    }
    for (const number of [...this.byNumber.keys()]) if (!seen.has(number)) take(number, undefined);
    this.loaded = true;
  }

  /** Reads one mailbox again with `read` (undefined: it is gone) and applies it unless a later read won. */
  async refresh(number: string, read: () => Promise<Row | undefined>): Promise<void> {
    const ticket = ++this.tickets;
    this.readTicket.set(number, ticket);
    const row = await read();
    if (this.readTicket.get(number) !== ticket) return;
    this.apply(number, row);
  }

  private apply(number: string, row: Row | undefined): void {
    const old = this.byNumber.get(number);
    for (const alias of old?.aliases ?? []) if (this.numberOf.get(alias) === number) this.numberOf.delete(alias);
    if (row === undefined) {
      this.byNumber.delete(number);
      return;
    }
    this.byNumber.set(number, row);
    for (const alias of row.aliases) this.numberOf.set(alias, number);
  }
}
