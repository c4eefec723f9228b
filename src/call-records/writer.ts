/**
 * Writes finished call records to the store in batches: one insert transaction per second (or per
 * MAX_BATCH records) rather than one per call, so hundreds of calls a second cost the store thread a few
 * commits. The store runs in its own thread (store/thread/): nothing here touches the disk on the main loop.
 * A crash loses at most the last second's records (the calls themselves are unaffected).
 *
 * Not here: what a record says (call/call-record.ts), retention (retention.ts).
 */
import type { Logger } from 'pino';
import type { CallRecord, MessageStore } from '../store/types.js';

const FLUSH_MS = 1000;
const MAX_BATCH = 500;
/** Records kept while the store fails, at most (then the oldest go, logged). */
const MAX_PENDING = 10_000;

export class CallRecordWriter {
  private pending: CallRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly store: Pick<MessageStore, 'addCallRecords'>,
    private readonly logger: Logger,
    /** Told of each record as it is added (metrics: calls by outcome). */
    private readonly onRecord?: (record: CallRecord) => void,
  ) {}

  add(record: CallRecord): void {
    try {
      this.onRecord?.(record);
    } catch (err) {
      this.logger.error({ err }, 'call record listener failed');
    }
    if (this.closed) return;
    this.pending.push(record);
    if (this.pending.length > MAX_PENDING) {
      const dropped = this.pending.splice(0, this.pending.length - MAX_PENDING);
      this.logger.error({ dropped: dropped.length }, 'call records dropped: the store is not taking them');
    }
    if (this.pending.length >= MAX_BATCH) this.flushSoon(0);
    else this.flushSoon(FLUSH_MS);
  }

  /** Writes what is pending and stops; later records are not written. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** Writes what is pending now (tests, close). */
  flush(): Promise<void> {
    this.writing = this.writing.then(() => this.writeBatch());
    return this.writing;
  }

  private flushSoon(ms: number): void {
    if (this.timer !== undefined && ms > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, ms);
    this.timer.unref();
  }

  private async writeBatch(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, MAX_BATCH);
      try {
        await this.store.addCallRecords(batch);
      } catch (err) {
        // Kept for the next try (the store thread restarts after a crash).
        this.pending.unshift(...batch);
        this.logger.error({ err, records: batch.length }, 'writing call records failed; will retry');
        if (!this.closed) this.flushSoon(FLUSH_MS);
        return;
      }
    }
  }
}
