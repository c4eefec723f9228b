/**
 * What each PBX has acknowledged of MWI, per mailbox, kept in the store (table mwi_acked, store/mwi-acked.ts),
 * so that a new MWI leader, or a server started again, sends only the lamps the PBX may not show right instead of
 * every mailbox's state (10,000 mailboxes at mwi.notifyRatePerSecond 50/s is over 3 minutes of NOTIFYs).
 *
 * "Acknowledged" is a 2xx to the NOTIFY (RFC 6665 §4.1.3: the notifier learns the subscriber took the state
 * only from a 2xx; a 4xx refusal, a timeout or a 5xx leave it unknown). The order matters across a leader dying:
 *
 *   sending(pbx, mailbox)            the row is set to NULL ("sent, not acknowledged") and WRITTEN before the
 *                                    NOTIFY leaves: a leader killed after the PBX took the NOTIFY but before its
 *                                    2xx was recorded leaves NULL, never an older state that could match the
 *                                    store again later (a message left, then deleted while no host led) and so
 *                                    leave a lamp wrong;
 *   acknowledged(pbx, mailbox, c)    after the 2xx: the row holds c (written in the next batch; losing it only
 *                                    costs one NOTIFY sent again).
 *
 * Writes are batched (one transaction per event-loop turn: the rate gate starts up to a second's worth of
 * NOTIFYs at once) and serialised in order. A write that fails is logged; the NOTIFY is still sent (a lamp
 * matters more than the ledger; the worst case is a NOTIFY sent again later).
 *
 * Not here: deciding what to send (notifier.ts resendAll), a PBX that restarted and lost its lamps (no 2xx
 * tells us: the operator forces a full resend, POST /api/mwi/resend or mwi.resendOnStart: all).
 */
import type { Logger } from 'pino';
import type { MessageCounts, MessageStore, MwiAckRow } from '../store/types.js';

export type AckStore = Pick<MessageStore, 'listMwiAcked' | 'saveMwiAcked'>;

/** Acknowledged counts by PBX name, then mailbox; null: sent, not acknowledged. */
export type AckedState = Map<string, Map<string, MessageCounts | null>>;

export function sameCounts(a: MessageCounts | null | undefined, b: MessageCounts): boolean {
  return !!a && a.new === b.new && a.saved === b.saved && a.urgentNew === b.urgentNew && a.urgentSaved === b.urgentSaved;
}

export class MwiAckLedger {
  /** Rows waiting for the next batch, by "pbx\nmailbox" (a later state of the same row replaces an earlier one). */
  private pending = new Map<string, MwiAckRow>();
  /** The batch `pending` goes out in; undefined when nothing waits. */
  private batch: Promise<void> | undefined;
  /** Batches run one after the other. */
  private chain: Promise<void> = Promise.resolve();
  /** Rows known to be NULL in the store already (no second write before the next send). */
  private readonly unacked = new Set<string>();

  constructor(
    private readonly store: AckStore,
    private readonly logger: Logger,
  ) {}

  /** Every PBX's acknowledged state (a failure rejects: the caller falls back to sending everything). */
  async load(): Promise<AckedState> {
    const state: AckedState = new Map();
    for (const row of await this.store.listMwiAcked()) {
      let byMailbox = state.get(row.pbx);
      if (!byMailbox) state.set(row.pbx, (byMailbox = new Map()));
      byMailbox.set(row.mailbox, row.counts);
      if (row.counts === null) this.unacked.add(key(row.pbx, row.mailbox));
    }
    return state;
  }

  /** A NOTIFY to `pbx` for `mailbox` is about to leave: resolves once the row says "not acknowledged". */
  sending(pbx: string, mailbox: string): Promise<void> {
    if (this.unacked.has(key(pbx, mailbox))) return Promise.resolve();
    this.unacked.add(key(pbx, mailbox));
    return this.put({ pbx, mailbox, counts: null });
  }

  /** `pbx` answered 2xx to the NOTIFY carrying `counts`. */
  acknowledged(pbx: string, mailbox: string, counts: MessageCounts): void {
    this.unacked.delete(key(pbx, mailbox));
    void this.put({ pbx, mailbox, counts });
  }

  /** Resolves once every row handed in so far is written (or failed). */
  flush(): Promise<void> {
    return this.batch ?? this.chain;
  }

  private put(row: MwiAckRow): Promise<void> {
    this.pending.set(key(row.pbx, row.mailbox), row);
    this.batch ??= this.chain = this.chain.then(() => new Promise<void>((resolve) => setImmediate(resolve))).then(() => this.write());
    return this.batch;
  }

  private async write(): Promise<void> {
    const rows = [...this.pending.values()];
    this.pending = new Map();
    this.batch = undefined;
    try {
      await this.store.saveMwiAcked(rows);
    } catch (err) {
      // Forget what we believed written: the next send of these rows writes its mark again.
      for (const r of rows) this.unacked.delete(key(r.pbx, r.mailbox));
      this.logger.warn({ err, rows: rows.length }, 'MWI: what the PBX acknowledged could not be stored; those lamps are sent again at the next refresh');
    }
  }
}

function key(pbx: string, mailbox: string): string {
  return `${pbx}\n${mailbox}`;
}
