/**
 * The cross-process change feed of the SQLite store (issue 13, "one store, one lamp"): every worker, the
 * front door and the CLI share one database, and a change made by any of them must reach the process that
 * sends MWI (and every attendant's directory) within a second.
 *
 * Writers append a row to `mailbox_changes` inside the transaction that makes the change (RECORD_CHANGE_SQL), so a
 * change is in the feed exactly when it is committed. A watcher polls the table (a primary-key range scan,
 * usually empty) and reports the mailboxes changed by OTHER store instances: its own changes were already
 * announced in-process when they were made. SQLite serialises writers, so `seq` order is commit order and a
 * poll that reads `seq > last` never skips a row committed later with a smaller seq.
 *
 * Not here: what a change means to listeners (sqlite.ts turns rows into 'counts' and 'mailbox' events).
 * PostgreSQL would replace polling with LISTEN/NOTIFY behind the same events.
 */
import type Database from 'better-sqlite3';

export type ChangeKind = 'counts' | 'mailbox';

export interface ChangeWatcherOptions {
  /** Poll interval, ms. Default 200 (a lamp follows a change made elsewhere within ~1/4 s). */
  intervalMs?: number;
  /** Rows older than this are trimmed, ms. Default 10 minutes (a watcher stalled longer re-reads nothing). */
  keepMs?: number;
  /**
   * Start after this seq instead of at the feed's end: a watcher taking over from one that stopped (the store
   * thread restarted) hears what was committed meanwhile.
   */
  fromSeq?: number;
  /** Told the position read up to, at start and whenever it moves (so that a successor can take over). */
  onPosition?(seq: number): void;
  /** Called with each batch of other instances' changes, deduplicated, in commit order. */
  onChanges(changes: readonly { mailbox: string; kind: ChangeKind }[]): void;
  /** A poll that failed (SQLITE_BUSY beyond the timeout, closed database): logged; the next poll retries. */
  onError(err: unknown): void;
}

/** How often the watcher trims old rows, in polls. */
const TRIM_EVERY_POLLS = 300;

/** Appends one change (mailbox, kind, origin, at ms); run it inside the transaction that makes the change. */
export const RECORD_CHANGE_SQL = 'INSERT INTO mailbox_changes (mailbox, kind, origin, at) VALUES (?, ?, ?, ?)';

export class ChangeWatcher {
  private last: number;
  private polls = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly read: Database.Statement;
  private readonly trim: Database.Statement;

  constructor(
    db: Database.Database,
    private readonly origin: string,
    private readonly opts: ChangeWatcherOptions,
  ) {
    this.read = db.prepare('SELECT seq, mailbox, kind, origin FROM mailbox_changes WHERE seq > ? ORDER BY seq LIMIT 10000');
    this.trim = db.prepare('DELETE FROM mailbox_changes WHERE at < ?');
    // Changes before this instance opened are history (counts are read fresh by whoever needs them), unless it
    // takes over from a watcher that stopped.
    this.last = opts.fromSeq ?? (db.prepare('SELECT COALESCE(MAX(seq), 0) FROM mailbox_changes').pluck().get() as number) ?? 0;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.poll(), this.opts.intervalMs ?? 200);
    this.timer.unref();
    this.opts.onPosition?.(this.last);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One poll (the timer's; tests may call it). Never throws. */
  poll(): void {
    try {
      const rows = this.read.all(this.last) as { seq: number; mailbox: string; kind: ChangeKind; origin: string }[];
      if (rows.length > 0) {
        this.last = rows[rows.length - 1]!.seq;
        this.opts.onPosition?.(this.last);
        const seen = new Set<string>();
        const changes = rows.filter((r) => {
          const key = `${r.kind} ${r.mailbox}`;
          if (r.origin === this.origin || seen.has(key)) return false;
          seen.add(key);
          return true;
        });
        if (changes.length > 0) this.opts.onChanges(changes.map((r) => ({ mailbox: r.mailbox, kind: r.kind })));
      }
      if (++this.polls % TRIM_EVERY_POLLS === 0) this.trim.run(Date.now() - (this.opts.keepMs ?? 600_000));
    } catch (err) {
      this.opts.onError(err);
    }
  }
}
