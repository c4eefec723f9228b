/**
 * The embedded MessageStore (types.ts): SQLite (better-sqlite3) for mailboxes and message rows, plain WAV files
 * for audio, all under storage.dir (layout.ts).
 *
 * The database runs in WAL mode so that readers (`vmpilot messages` while the server runs, other workers) never
 * wait for a writer, with synchronous=FULL (a committed deposit survives a power cut, not only a crash),
 * foreign keys on, and a busy timeout so a second process waits for the write lock instead of failing.
 *
 * better-sqlite3 is synchronous: every statement runs on the calling thread. Statements here are small
 * (indexed, one mailbox at a time); the slow part of a write is the commit's fsync of the WAL (measured in
 * test/unit/store-sqlite.test.ts). FIXME: if a slow disk makes that stall the media clock, move the database
 * behind a worker thread; the async interface already allows it. All file I/O is async (audio-files.ts).
 *
 * Every change to counts or to a mailbox is also appended to the change feed in the same transaction
 * (change-feed.ts), so other processes sharing the database hear of it.
 *
 * Semantics worth knowing (beyond types.ts):
 * - Folders and `heard`: a 'new' message becomes 'saved' when it is marked heard (as Asterisk moves INBOX to
 *   Old), so the MWI lamp goes out once everything was listened to; setFolder(id, 'new') makes it unheard.
 * - Quotas: a mailbox's own limit when nonzero, else the store's default (voicemail.maxMessages/maxMinutes);
 *   0 = no limit. The minutes quota is checked before a message, like the count (hasRoom is asked before
 *   recording): the message that crosses the limit is kept, the next one is refused.
 * - Numbers: every method taking a mailbox number also accepts one of its aliases.
 *
 * Not here: PIN hashing and policy (pin.ts), the PIN back-off (pin-backoff.ts, pin-failure-table.ts), schema
 * (schema.sql.ts), the order of file steps around a row (message-files.ts), start-up repair (repair.ts).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { fsyncDir, placeFile, unlinkIfExists } from './audio-files.js';
import { ChangeWatcher, RECORD_CHANGE_SQL, type ChangeKind } from './change-feed.js';
import { emitSafely } from './safe-emit.js';
import { writeTransaction } from './write-transaction.js';
import { NoSuchMessageError, NumberInUseError } from './errors.js';
import { greetingPath, type StoreLayout } from './layout.js';
import { prepareLocalFolders } from './owner.js';
import { forgetRecording, placeMessage, removeMessages, unplaceMessage } from './message-files.js';
import { changedFields, specValues } from './mailbox-diff.js';
import { LIST_MWI_ACKED_SQL, mwiAckValues, PUT_MWI_ACKED_SQL, toMwiAck, type MwiAckedDbRow } from './mwi-acked.js';
import {
  followRenumbers,
  RECORD_RENUMBER_SQL,
  RENUMBER_MAILBOX_SQL,
  renumberedDuringCall,
  RENUMBERED_TO_SQL,
  renumberFiles,
  TRIM_RENUMBERS_SQL,
  type RenumberLookup,
} from './mailbox-renumber.js';
import { keepForGoneMailbox, keepPlacedForGoneMailbox, moveToRenumbered } from './mailbox-gone.js';
import { REMOVE_MAILBOX_SQL, removeMailboxFiles } from './mailbox-removal.js';
import type { MessageSidecar } from './message-sidecar.js';
import { hashPin } from './pin.js';
import { mailboxBackoffKey } from './pin-backoff.js';
import { checkPinWith } from './pin-check.js';
import { checkNumber, checkSpec, groupBy, IN_BOX, KeyedQueue, PLAY_ORDER, quotaOf, roomLeft } from './store-rules.js';
import { PinFailureTable } from './pin-failure-table.js';
import { CallRecordTable, callerRecordsQuery } from './call-record-table.js';
import { MailQueueTable } from './mail-queue-table.js';
import { LeaderTables } from './leader-tables.js';
import { depositMailJob, type DepositMailOptions } from './deposit-mail.js';
import { recoverRecordings, repairStore, type RepairHost, type RepairResult } from './repair.js';
import { MAILBOX_PATCH_COLUMNS, toMailbox, toMessage, type MailboxRow, type MessageRow } from './rows.js';
import { migrate } from './schema.sql.js';
import { SqliteReplica } from './replica/sqlite-replica.js';
import type { StoreReplica } from './replica/types.js';
import {
  MailboxFullError,
  NoSuchMailboxError,
  type DeletedMailbox,
  type CallRecord,
  type CallRecordQuery,
  type CallerData,
  type CallerErasure,
  type MailJob,
  type DirectoryOwned,
  type ImapAppendJob,
  type ImapAppendQueueStats,
  type MwiAckRow,
  type NewMailJob,
  type Folder,
  type GreetingKind,
  type Mailbox,
  type MailboxImport,
  type MailboxQuery,
  type MailboxSpec,
  type MessageCounts,
  type MessageRecord,
  type MessageStore,
  type NewMessage,
  type PinAttempt,
  type PinCheck,
  type ProvisionReport,
  type RepairReport,
  type StoreEvents,
  type StoredSubscription,
} from './types.js';

interface SubscriptionRow {
  id: string;
  mailbox: string;
  source: string;
  expires_at: number;
  data: string;
}

export interface SqliteStoreOptions {
  /** Messages (new + saved) a mailbox may hold when its own maxMessages is 0; 0 = no limit. Default 0. */
  maxMessages?: number;
  /** Minutes of audio a mailbox may hold when its own maxMinutes is 0; 0 = no limit. Default 0. */
  maxMinutes?: number;
  /** How long a statement waits for another process's write lock, ms. Default 5000. */
  busyTimeoutMs?: number;
  /** Where repair findings and listener failures are logged. Default: not logged. */
  logger?: Logger;
  /**
   * Poll the change feed this often (ms) and announce changes made by other processes (workers, the CLI) as
   * 'counts' and 'mailbox' events (change-feed.ts). Default 0: only this instance's own changes are announced.
   */
  watchChangesMs?: number;
  /** With watchChangesMs: start after this change-feed position (taking over from a watcher that stopped). */
  watchFromSeq?: number;
  /** With watchChangesMs: told the change-feed position read up to, whenever it moves. */
  onFeedPosition?: (seq: number) => void;
  /** Queue each deposit's new-message mail in its commit (deposit-mail.ts). Default: no mail queued. */
  depositMail?: DepositMailOptions;
  /** Queue each deposit's IMAP append in its commit (unified messaging on: unified/append-drain.ts). Default false. */
  depositImapAppend?: boolean;
  /**
   * The name of this instance's rows in the change feed. Default: a new random one. A store thread restarted
   * after a crash passes its predecessor's, so that the predecessor's changes (already announced in-process, but
   * perhaps not yet passed by its watcher) are not announced a second time (a duplicate MWI NOTIFY).
   */
  origin?: string;
}

/** Opens (creating if needed) the store under `dir`, migrating the database to this version's schema. */
export async function openSqliteStore(dir: string, opts: SqliteStoreOptions = {}): Promise<SqliteStore> {
  const { layout, tmpDir } = await prepareLocalFolders(dir);
  const db = new Database(layout.dbFile, { timeout: opts.busyTimeoutMs ?? 5000 });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return new SqliteStore(db, layout, opts, tmpDir);
}

type Grouped = { mailbox: string; value: string };

/** searchMailboxes' filter: number, name, email or one of the aliases LIKE the (escaped) pattern. */
const MAILBOX_SEARCH_WHERE = `WHERE m.number LIKE ? ESCAPE '\\' OR m.name LIKE ? ESCAPE '\\' OR m.email LIKE ? ESCAPE '\\'
  OR m.number IN (SELECT mailbox FROM aliases WHERE alias LIKE ? ESCAPE '\\')`;

export class SqliteStore implements MessageStore {
  readonly events = new EventEmitter<StoreEvents>();
  readonly tmpDir: string;
  private closed = false;
  /** Deposits in progress per mailbox: one at a time, so two callers cannot both take the last slot. */
  private readonly depositQueue = new KeyedQueue();
  private readonly logger: Logger | undefined;
  private readonly statements = new Map<string, Database.Statement>();
  /** Names this instance's rows in the change feed (its own changes are announced when made, not polled). */
  private readonly origin: string;
  private readonly watcher: ChangeWatcher | undefined;
  private readonly pinFailures: PinFailureTable;
  private readonly callRecords: CallRecordTable;
  private readonly mailQueue: MailQueueTable;
  private readonly leaderTables: LeaderTables;
  /** checkPin's stand-in for an absent mailbox's hash: same parameters, so the same cost. Made on first use. */
  private dummyHash: Promise<string> | undefined;

  /** Use openSqliteStore. */
  constructor(
    private readonly db: Database.Database,
    readonly layout: StoreLayout,
    private readonly opts: SqliteStoreOptions,
    /** Where this process records (tmp/<owner>/, owner.ts). */
    tmpDir: string,
  ) {
    this.tmpDir = tmpDir;
    this.logger = opts.logger;
    this.origin = opts.origin ?? randomUUID();
    if (opts.watchChangesMs) {
      this.watcher = new ChangeWatcher(db, this.origin, {
        intervalMs: opts.watchChangesMs,
        fromSeq: opts.watchFromSeq,
        onPosition: opts.onFeedPosition,
        onChanges: (changes) => {
          for (const c of changes) {
            if (c.kind === 'counts') this.announce(c.mailbox);
            else this.announceMailbox(c.mailbox);
          }
        },
        onError: (err) => this.logger?.warn({ err }, 'change feed poll failed; retrying'),
      });
      this.watcher.start();
    }
    this.pinFailures = new PinFailureTable(db, (text) => this.sql(text));
    this.callRecords = new CallRecordTable((text) => this.sql(text), (fn) => this.write(fn));
    this.mailQueue = new MailQueueTable((text) => this.sql(text), (fn) => this.write(fn));
    this.leaderTables = new LeaderTables((text) => this.sql(text), (fn) => this.write(fn));
  }

  // ---- mailboxes -------------------------------------------------------------------------------------------

  async findMailbox(numberOrAlias: string): Promise<Mailbox | undefined> {
    const row = this.mailboxRow(numberOrAlias);
    return row && this.mailboxFromRow(row);
  }

  async listMailboxes(): Promise<Mailbox[]> {
    // Three statements for the whole list, not two per mailbox: 5,000 mailboxes were 10,000 look-ups.
    const rows = this.sql('SELECT * FROM mailboxes ORDER BY number').all() as MailboxRow[];
    const aliases = groupBy(this.sql('SELECT mailbox, alias AS value FROM aliases ORDER BY alias').all() as Grouped[]);
    const kinds = groupBy(this.sql('SELECT mailbox, kind AS value FROM greetings ORDER BY kind').all() as Grouped[]);
    return rows.map((r) => toMailbox(r, aliases.get(r.number) ?? [], (kinds.get(r.number) ?? []) as GreetingKind[], this.layout));
  }

  async searchMailboxes(query: MailboxQuery): Promise<{ total: number; mailboxes: Mailbox[] }> {
    // LIKE is case-insensitive for ASCII in SQLite; the pattern's own % and _ are escaped. Aliases and
    // greetings are read for the page's mailboxes only.
    const needle = query.search?.trim() ?? '';
    const pattern = `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const args = needle === '' ? [] : [pattern, pattern, pattern, pattern];
    let rows: MailboxRow[];
    let total: number;
    if (needle === '') {
      // The page straight off the primary key's order; the count from the table.
      rows = this.sql('SELECT * FROM mailboxes ORDER BY number LIMIT ? OFFSET ?').all(query.limit, query.offset) as MailboxRow[];
      total = this.sql('SELECT COUNT(*) FROM mailboxes').pluck().get() as number;
    } else {
      // The matches' count rides along with the page (a window over them): one scan of the table, not two.
      const page = this.sql(`SELECT *, COUNT(*) OVER () AS total FROM mailboxes m ${MAILBOX_SEARCH_WHERE} ORDER BY number LIMIT ? OFFSET ?`).all(...args, query.limit, query.offset) as (MailboxRow & { total: number })[];
      rows = page.map(({ total: _, ...row }) => row);
      total = page[0]?.total ?? (this.sql(`SELECT COUNT(*) FROM mailboxes m ${MAILBOX_SEARCH_WHERE}`).pluck().get(...args) as number);
    }
    if (rows.length === 0) return { total, mailboxes: [] };
    const numbers = JSON.stringify(rows.map((r) => r.number));
    const aliases = groupBy(this.sql('SELECT mailbox, alias AS value FROM aliases WHERE mailbox IN (SELECT value FROM json_each(?)) ORDER BY alias').all(numbers) as Grouped[]);
    const kinds = groupBy(this.sql('SELECT mailbox, kind AS value FROM greetings WHERE mailbox IN (SELECT value FROM json_each(?)) ORDER BY kind').all(numbers) as Grouped[]);
    return { total, mailboxes: rows.map((r) => toMailbox(r, aliases.get(r.number) ?? [], (kinds.get(r.number) ?? []) as GreetingKind[], this.layout)) };
  }

  async createMailbox(spec: MailboxSpec): Promise<Mailbox> {
    checkSpec(spec);
    const pinHash = await hashPin(spec.pin);
    this.write(() => this.insertMailbox(spec, pinHash));
    this.announceMailbox(spec.number);
    return this.mailboxFromRow(this.requireRow(spec.number));
  }

  async provision(specs: readonly MailboxSpec[]): Promise<ProvisionReport> {
    for (const spec of specs) checkSpec(spec);
    // Hash outside the transaction (scrypt runs on the thread pool); only for mailboxes that are new.
    const hashes = new Map<string, string>();
    for (const spec of specs) {
      if (!this.sql('SELECT 1 FROM mailboxes WHERE number = ?').get(spec.number)) hashes.set(spec.number, await hashPin(spec.pin));
    }
    const report = this.write((): ProvisionReport => {
      const done: ProvisionReport = { created: [], updated: [] };
      for (const spec of specs) {
        const row = this.sql('SELECT * FROM mailboxes WHERE number = ?').get(spec.number) as MailboxRow | undefined;
        if (!row) {
          const pinHash = hashes.get(spec.number);
          // No hash: it existed when we looked and was removed since by another process; leave it removed.
          if (pinHash === undefined) continue;
          this.insertMailbox(spec, pinHash);
          done.created.push(spec.number);
          continue;
        }
        // Never the PIN: the owner may have changed it. Only what differs is written (and reported).
        const changes = changedFields(this.mailboxFromRow(row), specValues(spec));
        if (changes.length === 0) continue;
        this.patchRow(row.number, Object.fromEntries(changes.map((c) => [c.field, c.to])));
        done.updated.push({ number: spec.number, changes });
      }
      return done;
    });
    for (const number of [...report.created, ...report.updated.map((u) => u.number)]) this.announceMailbox(number);
    return report;
  }

  async updateMailbox(number: string, patch: Partial<Omit<Mailbox, 'number' | 'pinHash'>>): Promise<Mailbox> {
    const row = this.requireRow(number);
    if (patch.greetings !== undefined) throw new TypeError('greetings are changed with setGreeting');
    if (Object.hasOwn(patch, 'failedLogins') && patch.failedLogins !== 0) throw new TypeError('failedLogins can only be cleared (0): failures are counted by checkPin');
    this.write(() => this.patchRow(row.number, patch));
    this.announceMailbox(row.number);
    return this.mailboxFromRow(this.requireRow(row.number));
  }

  async deleteMailbox(numberOrAlias: string): Promise<DeletedMailbox> {
    const number = this.requireRow(numberOrAlias).number;
    // In the mailbox's deposit queue: a deposit of this process finishes first (and is deleted with the rest).
    return this.queued(number, async () => {
      if (!this.sql('SELECT 1 FROM mailboxes WHERE number = ?').get(number)) throw new NoSuchMailboxError(numberOrAlias);
      const messages = this.sql('SELECT id, mailbox FROM messages WHERE mailbox = ?').all(number) as { id: string; mailbox: string }[];
      const greetings = this.sql('SELECT COUNT(*) FROM greetings WHERE mailbox = ?').pluck().get(number) as number;
      await removeMessages(this.layout, messages, () =>
        this.write(() => {
          for (const statement of REMOVE_MAILBOX_SQL) this.sql(statement).run(number);
          this.pinFailures.clear(mailboxBackoffKey(number));
          // Both kinds: other processes' MWI sends the zero counts, their routers and directories drop the number.
          this.logChange(number, 'counts');
          this.logChange(number, 'mailbox');
        }),
      );
      await removeMailboxFiles(this.layout, number, { cachedCopies: false, logger: this.logger });
      this.announce(number);
      this.announceMailbox(number);
      return { number, messages: messages.length, greetings };
    });
  }

  async renumberMailbox(numberOrAlias: string, newNumber: string): Promise<Mailbox> {
    checkNumber(newNumber, 'mailbox number');
    const old = this.requireRow(numberOrAlias).number;
    if (newNumber === old) return this.mailboxFromRow(this.requireRow(old));
    return this.queued(old, async () => {
      const owner = this.ownerOf(newNumber);
      if (owner !== undefined && owner !== old) throw new NumberInUseError(newNumber, owner);
      await renumberFiles(this.layout, old, newNumber, {
        commitFirst: false,
        logger: this.logger,
        commit: (moveFiles) =>
          this.write(() => {
            moveFiles();
            // Checked at the commit: the mailbox's number and its children's references change together.
            this.db.pragma('defer_foreign_keys = ON');
            this.sql('DELETE FROM aliases WHERE alias = ?').run(newNumber);
            for (const statement of RENUMBER_MAILBOX_SQL) this.sql(statement).run(newNumber, old);
            this.sql(RECORD_RENUMBER_SQL).run(old, newNumber, Date.now());
            this.pinFailures.renumber(old, newNumber);
            for (const number of [old, newNumber]) {
              this.logChange(number, 'counts');
              this.logChange(number, 'mailbox');
            }
          }),
      });
      for (const number of [old, newNumber]) {
        this.announce(number);
        this.announceMailbox(number);
      }
      return this.mailboxFromRow(this.requireRow(newNumber));
    });
  }

  async importMailboxes(rows: readonly MailboxImport[]): Promise<{ created: number; updated: number }> {
    for (const row of rows) {
      checkNumber(row.number, 'mailbox number');
      if (row.pinHash !== undefined && (typeof row.fields.name !== 'string' || row.fields.name.trim() === '')) {
        throw new TypeError(`mailbox ${row.number} needs a name`);
      }
    }
    const result = this.write(() => {
      // Aliases of the mailboxes that set theirs are released first: one import may move an alias between them.
      for (const row of rows) if (row.pinHash === undefined && row.fields.aliases !== undefined) this.sql('DELETE FROM aliases WHERE mailbox = ?').run(row.number);
      let created = 0;
      for (const row of rows) {
        if (row.pinHash === undefined) {
          if (!this.sql('SELECT 1 FROM mailboxes WHERE number = ?').get(row.number)) throw new NoSuchMailboxError(row.number);
          continue;
        }
        this.insertMailbox({ number: row.number, name: row.fields.name!, pin: '' }, row.pinHash);
        created++;
      }
      for (const row of rows) this.patchRow(row.number, row.fields);
      return { created, updated: rows.length - created };
    });
    for (const row of rows) this.announceMailbox(row.number);
    return result;
  }

  async setPin(number: string, pin: string): Promise<void> {
    const row = this.requireRow(number);
    const pinHash = await hashPin(pin);
    // In the change feed (not announced: nothing in this process shows a PIN) so that the mirror copies it.
    this.write(() => {
      this.sql('UPDATE mailboxes SET pin_hash = ?, must_change_pin = 0 WHERE number = ?').run(pinHash, row.number);
      this.logChange(row.number, 'mailbox');
    });
  }

  /** The PIN back-off (pin-backoff.ts) around one scrypt check; the steps are pin-check.ts's. */
  async checkPin(attempt: PinAttempt): Promise<PinCheck> {
    return checkPinWith(
      {
        dummyHash: () => this.dummyPinHash(),
        credentials: async (number) => {
          const row = this.mailboxRow(number);
          return row && { number: row.number, pinHash: row.pin_hash, locked: row.locked !== 0 };
        },
        claim: async (keys, now, policy) => this.pinFailures.claim(keys, now, policy),
        recordFailure: async (keys, now, policy) => this.pinFailures.recordFailure(keys, now, policy),
        clear: async (key) => this.pinFailures.clear(key),
        mailbox: async (number) => this.mailboxFromRow(this.requireRow(number)),
      },
      attempt,
    );
  }

  async listSubscriptions(): Promise<StoredSubscription[]> {
    const rows = this.sql('SELECT id, mailbox, source, expires_at, data FROM mwi_subscriptions').all() as SubscriptionRow[];
    return rows.map((r) => ({ id: r.id, mailbox: r.mailbox, source: r.source, expiresAt: r.expires_at, data: r.data }));
  }

  async saveSubscriptions(put: readonly StoredSubscription[], remove: readonly string[]): Promise<void> {
    if (put.length === 0 && remove.length === 0) return;
    const upsert = this.sql('INSERT OR REPLACE INTO mwi_subscriptions (id, mailbox, source, expires_at, data) VALUES (?, ?, ?, ?, ?)');
    const del = this.sql('DELETE FROM mwi_subscriptions WHERE id = ?');
    this.write(() => {
      for (const s of put) upsert.run(s.id, s.mailbox, s.source, s.expiresAt, s.data);
      for (const id of remove) del.run(id);
    });
  }

  async counters(): Promise<Record<string, number>> {
    return this.pinFailures.counters();
  }

  async setGreeting(number: string, kind: GreetingKind, audioFile: string | undefined, until?: number): Promise<void> {
    const row = this.requireRow(number);
    const path = greetingPath(this.layout, row.number, kind);
    if (audioFile !== undefined) {
      await placeFile(audioFile, path, false);
      await fsyncDir(dirname(path));
      this.write(() => {
        this.sql('INSERT OR IGNORE INTO greetings (mailbox, kind) VALUES (?, ?)').run(row.number, kind);
        if (kind === 'temporary') this.sql('UPDATE mailboxes SET temporary_greeting_until = ? WHERE number = ?').run(until ?? null, row.number);
        this.logChange(row.number, 'mailbox');
      });
      this.announceMailbox(row.number);
      return;
    }
    // Row first, then the file: never a row without its audio.
    this.write(() => {
      this.sql('DELETE FROM greetings WHERE mailbox = ? AND kind = ?').run(row.number, kind);
      if (kind === 'temporary') this.sql('UPDATE mailboxes SET temporary_greeting_until = NULL WHERE number = ?').run(row.number);
      this.logChange(row.number, 'mailbox');
    });
    this.announceMailbox(row.number);
    if (await unlinkIfExists(path)) await fsyncDir(dirname(path));
  }

  // ---- messages --------------------------------------------------------------------------------------------

  async hasRoom(number: string): Promise<boolean> {
    return this.roomFor(this.requireRow(number));
  }

  async deposit(message: NewMessage): Promise<MessageRecord> {
    const row = await this.depositRow(message.mailbox);
    if (!row) return keepForGoneMailbox(this.layout, this.logger, message);
    return this.queued(row.number, async () => {
      if (!this.roomFor(row)) throw new MailboxFullError(row.number);
      // Checked again in the insert's write transaction: another process may take the last place meanwhile.
      return this.store(row.number, message, { quota: true });
    });
  }

  async listMessages(number: string, folder?: Folder): Promise<MessageRecord[]> {
    const row = this.requireRow(number);
    const rows = (
      folder === undefined
        ? this.sql(`SELECT * FROM messages WHERE mailbox = ? AND ${IN_BOX} ${PLAY_ORDER}`).all(row.number)
        : this.sql(`SELECT * FROM messages WHERE mailbox = ? AND folder = ? ${PLAY_ORDER}`).all(row.number, folder)
    ) as MessageRow[];
    return rows.map((r) => toMessage(r, this.layout));
  }

  async getMessage(id: string): Promise<MessageRecord | undefined> {
    const row = this.messageRow(id);
    return row && toMessage(row, this.layout);
  }

  async setFolder(id: string, folder: Folder): Promise<void> {
    if (folder !== 'new' && folder !== 'saved' && folder !== 'deleted') throw new TypeError(`no folder "${String(folder)}"`);
    const row = this.requireMessage(id);
    // Moving a message back to 'new' marks it unheard: 'new' means "not yet listened to".
    const sql = folder === 'new' ? 'UPDATE messages SET folder = ?, heard = 0 WHERE id = ?' : 'UPDATE messages SET folder = ? WHERE id = ?';
    this.countsChange(row.folder !== folder, row.mailbox, () => this.sql(sql).run(folder, id));
  }

  async markHeard(id: string): Promise<void> {
    const row = this.requireMessage(id);
    this.countsChange(row.folder === 'new', row.mailbox, () =>
      this.sql("UPDATE messages SET heard = 1, folder = CASE folder WHEN 'new' THEN 'saved' ELSE folder END WHERE id = ?").run(id),
    );
  }

  async setUrgent(id: string, urgent: boolean): Promise<void> {
    const row = this.requireMessage(id);
    this.countsChange(Boolean(row.urgent) !== urgent && row.folder !== 'deleted', row.mailbox, () =>
      this.sql('UPDATE messages SET urgent = ? WHERE id = ?').run(urgent ? 1 : 0, id),
    );
  }

  async purgeDeleted(number: string): Promise<number> {
    const row = this.requireRow(number);
    const rows = this.sql("SELECT * FROM messages WHERE mailbox = ? AND folder = 'deleted'").all(row.number) as MessageRow[];
    await this.remove(rows);
    return rows.length;
  }

  async expire(newMaxAgeMs: number, savedMaxAgeMs: number): Promise<number> {
    const now = Date.now();
    const rows = this
      .sql(
        `SELECT * FROM messages WHERE (folder = 'new' AND ? > 0 AND received_at < ?) OR (folder = 'saved' AND ? > 0 AND received_at < ?)`,
      )
      .all(newMaxAgeMs, now - newMaxAgeMs, savedMaxAgeMs, now - savedMaxAgeMs) as MessageRow[];
    await this.remove(rows);
    return rows.length;
  }

  async counts(number: string): Promise<MessageCounts> {
    return this.countsOf(this.requireRow(number).number);
  }

  async repair(): Promise<RepairReport> {
    return this.announced(await repairStore(this.repairHost()));
  }

  // ---- call records ----------------------------------------------------------------------------------------

  async addCallRecords(records: readonly CallRecord[]): Promise<void> {
    this.callRecords.add(records);
  }

  async listCallRecords(query: CallRecordQuery): Promise<CallRecord[]> {
    return this.callRecords.list(query);
  }

  async purgeCallRecords(before: number): Promise<number> {
    return this.callRecords.purge(before);
  }

  async trimRenumbers(before: number): Promise<number> {
    return this.write(() => this.sql(TRIM_RENUMBERS_SQL).run(before).changes);
  }

  // ---- one caller's data (access and erasure) ------------------------------------------------------------

  async callerData(caller: string): Promise<CallerData> {
    return {
      messages: this.callerMessageRows(caller).map((r) => toMessage(r, this.layout)),
      callRecords: this.callRecords.list(callerRecordsQuery(caller)),
    };
  }

  async eraseCaller(caller: string): Promise<CallerErasure> {
    const rows = this.callerMessageRows(caller);
    // Emails first, so that the sender does not claim one whose audio is about to go.
    const queuedEmails = this.mailQueue.dropForMessages(rows.map((r) => r.id));
    await this.remove(rows);
    return { messages: rows.length, queuedEmails, callRecords: this.callRecords.eraseCaller(caller) };
  }

  private callerMessageRows(caller: string): MessageRow[] {
    return this.sql('SELECT * FROM messages WHERE caller = ? ORDER BY received_at').all(caller) as MessageRow[];
  }

  // ---- email queue (mail-queue-table.ts) ----------------------------------------------------------------------

  async enqueueMail(job: NewMailJob, maxQueued: number): Promise<number> {
    return this.mailQueue.enqueue(job, maxQueued);
  }

  async claimMail(claimant: string, now: number, leaseMs: number): Promise<MailJob | undefined> {
    return this.mailQueue.claim(claimant, now, leaseMs);
  }

  async finishMail(id: number): Promise<void> {
    this.mailQueue.finish(id);
  }

  async retryMail(id: number, notBefore: number, error: string): Promise<void> {
    this.mailQueue.retry(id, notBefore, error);
  }

  // ---- the leader's jobs: directory ownership, IMAP appends (leader-tables.ts) --------------------------------

  async listDirectoryOwned(): Promise<DirectoryOwned[]> {
    return this.leaderTables.listOwned();
  }

  async saveDirectoryOwned(put: readonly DirectoryOwned[], remove: readonly string[]): Promise<void> {
    this.leaderTables.saveOwned(put, remove);
  }

  async enqueueImapAppend(messageId: string, mailbox: string): Promise<void> {
    this.leaderTables.enqueueAppend(messageId, mailbox);
  }

  async claimImapAppend(claimant: string, now: number, leaseMs: number): Promise<ImapAppendJob | undefined> {
    return this.leaderTables.claimAppend(claimant, now, leaseMs);
  }

  async renewImapAppend(messageId: string, claimant: string, until: number): Promise<boolean> {
    return this.leaderTables.renewAppend(messageId, claimant, until);
  }

  async finishImapAppend(messageId: string): Promise<void> {
    this.leaderTables.finishAppend(messageId);
  }

  async retryImapAppend(messageId: string, notBefore: number, error: string): Promise<void> {
    this.leaderTables.retryAppend(messageId, notBefore, error);
  }

  async countImapAppends(): Promise<number> {
    return this.leaderTables.countAppends();
  }

  async imapAppendQueueStats(): Promise<ImapAppendQueueStats> {
    return this.leaderTables.appendQueueStats();
  }

  // ---- what each PBX acknowledged of MWI (mwi-acked.ts) -------------------------------------------------------

  async listMwiAcked(): Promise<MwiAckRow[]> {
    return (this.sql(LIST_MWI_ACKED_SQL).all() as MwiAckedDbRow[]).map(toMwiAck);
  }

  async saveMwiAcked(rows: readonly MwiAckRow[]): Promise<void> {
    if (rows.length === 0) return;
    const now = Date.now();
    this.write(() => {
      for (const row of rows) this.sql(PUT_MWI_ACKED_SQL).run(...mwiAckValues(row, now));
    });
  }

  async recoverRecordings(): Promise<RepairReport> {
    return this.announced(await recoverRecordings(this.repairHost()));
  }

  /** The whole store as a replica (replica/: store copy, the mirror), on this connection; its close() closes the store. */
  replica(): StoreReplica {
    return new SqliteReplica({
      layout: this.layout,
      sql: (text) => this.sql(text),
      write: (fn) => this.write(fn),
      logChange: (mailbox, kind) => this.logChange(mailbox, kind),
      close: () => this.close(),
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watcher?.stop();
    await this.depositQueue.settled();
    this.db.close();
  }

  // ---- internals -------------------------------------------------------------------------------------------

  private dummyPinHash(): Promise<string> {
    this.dummyHash ??= hashPin(randomBytes(8).toString('hex'));
    return this.dummyHash;
  }

  /** What repair.ts needs from this store. */
  private repairHost(): RepairHost {
    return {
      layout: this.layout,
      logger: this.logger,
      mailboxOf: (numberOrAlias) => this.mailboxRow(numberOrAlias)?.number,
      depositMailboxOf: (number) => followRenumbers(number, this.renumberLookup()),
      hasMessage: (id) => this.messageRow(id) !== undefined,
      // A recording cut short by a crash: the caller was let in to record, so the quota is not asked again.
      deposit: (mailbox, message) => this.queued(mailbox, () => this.store(mailbox, message)),
      attach: (meta) => this.insertMessage(meta),
      liveMessages: () => this.sql(`SELECT id, mailbox FROM messages WHERE ${IN_BOX}`).all() as { id: string; mailbox: string }[],
      markDeleted: (id) => {
        const row = this.requireMessage(id);
        this.countsChange(false, row.mailbox, () => this.sql("UPDATE messages SET folder = 'deleted' WHERE id = ?").run(id));
      },
    };
  }

  /** Tells listeners about the mailboxes a repair changed; the report without them. */
  private announced(report: RepairResult): RepairReport {
    for (const mailbox of report.changedMailboxes) this.announce(mailbox);
    const { changedMailboxes: _changed, ...result } = report;
    return result;
  }

  /** A prepared statement, prepared once per SQL text. */
  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  private mailboxRow(numberOrAlias: string): MailboxRow | undefined {
    return (this.sql('SELECT * FROM mailboxes WHERE number = ?').get(numberOrAlias) ??
      this.sql('SELECT m.* FROM mailboxes m JOIN aliases a ON a.mailbox = m.number WHERE a.alias = ?').get(numberOrAlias)) as
      | MailboxRow
      | undefined;
  }

  private requireRow(numberOrAlias: string): MailboxRow {
    const row = this.mailboxRow(numberOrAlias);
    if (!row) throw new NoSuchMailboxError(numberOrAlias);
    return row;
  }

  private mailboxFromRow(row: MailboxRow): Mailbox {
    const aliases = (this.sql('SELECT alias FROM aliases WHERE mailbox = ? ORDER BY alias').pluck().all(row.number) as string[]);
    const kinds = this.sql('SELECT kind FROM greetings WHERE mailbox = ? ORDER BY kind').pluck().all(row.number) as GreetingKind[];
    // Failures are the PIN back-off's count for the mailbox (pin-failure-table.ts), not the version 1 column.
    return { ...toMailbox(row, aliases, kinds, this.layout), failedLogins: this.pinFailures.failures(mailboxBackoffKey(row.number)) };
  }

  private messageRow(id: string): MessageRow | undefined {
    return this.sql('SELECT * FROM messages WHERE id = ?').get(id) as MessageRow | undefined;
  }

  private requireMessage(id: string): MessageRow {
    const row = this.messageRow(id);
    if (!row) throw new NoSuchMessageError(id);
    return row;
  }

  /** Who has this number already, as a mailbox number or an alias. */
  private ownerOf(number: string): string | undefined {
    if (this.sql('SELECT 1 FROM mailboxes WHERE number = ?').get(number)) return number;
    return this.sql('SELECT mailbox FROM aliases WHERE alias = ?').pluck().get(number) as string | undefined;
  }

  /** Inside a transaction. */
  private insertMailbox(spec: MailboxSpec, pinHash: string): void {
    const owner = this.ownerOf(spec.number);
    if (owner !== undefined) throw new NumberInUseError(spec.number, owner);
    this
      .sql('INSERT INTO mailboxes (number, name, email, pin_hash, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(spec.number, spec.name, spec.email ?? null, pinHash, Date.now());
    const { name: _name, email: _email, ...rest } = specValues(spec);
    this.patchRow(spec.number, rest);
  }

  /**
   * Inside a transaction: sets the fields of `patch` on an existing mailbox (aliases replaced whole;
   * failedLogins: 0 clears the PIN back-off) and records the change for other processes.
   */
  private patchRow(number: string, patch: Partial<Omit<Mailbox, 'number' | 'pinHash'>>): void {
    const sets: string[] = [];
    const values: (string | number | null)[] = [];
    for (const [key, [column, convert]] of Object.entries(MAILBOX_PATCH_COLUMNS)) {
      if (!Object.hasOwn(patch, key)) continue;
      sets.push(`${column} = ?`);
      values.push(convert((patch as Record<string, unknown>)[key]));
    }
    if (sets.length > 0) this.sql(`UPDATE mailboxes SET ${sets.join(', ')} WHERE number = ?`).run(...values, number);
    if (patch.failedLogins === 0) this.pinFailures.clear(mailboxBackoffKey(number));
    if (patch.aliases !== undefined) {
      for (const alias of patch.aliases) checkNumber(alias, 'alias');
      this.replaceAliases(number, patch.aliases);
    }
    this.logChange(number, 'mailbox');
  }

  /** Inside a transaction. Rejects an alias that is another mailbox's number or alias. */
  private replaceAliases(number: string, aliases: readonly string[]): void {
    this.sql('DELETE FROM aliases WHERE mailbox = ?').run(number);
    for (const alias of new Set(aliases)) {
      const owner = this.ownerOf(alias);
      if (owner !== undefined) throw new NumberInUseError(alias, owner);
      this.sql('INSERT INTO aliases (alias, mailbox) VALUES (?, ?)').run(alias, number);
    }
  }

  private roomFor(row: MailboxRow): boolean {
    const limits = quotaOf(row, this.opts);
    if (limits.maxMessages === 0 && limits.maxMs === 0) return true;
    const used = this.sql(`SELECT COUNT(*) AS n, COALESCE(SUM(duration_ms), 0) AS ms FROM messages WHERE mailbox = ? AND ${IN_BOX}`).get(row.number) as {
      n: number;
      ms: number;
    };
    return roomLeft(limits, used);
  }

  /** The mailbox a deposit for `number` goes to (renumbered since the call began: the new one). */
  private async depositRow(number: string): Promise<MailboxRow | undefined> {
    const row = this.mailboxRow(number);
    if (row) return row;
    const now = await renumberedDuringCall(number, this.renumberLookup(), this.logger);
    return now === undefined ? undefined : this.mailboxRow(now);
  }

  private renumberLookup(): RenumberLookup {
    return {
      mailboxNumber: (n) => this.mailboxRow(n)?.number,
      renumberedTo: (n) => this.sql(RENUMBERED_TO_SQL).pluck().get(n) as string | undefined,
    };
  }

  /** Runs deposits for one mailbox one after the other. */
  private queued<T>(mailbox: string, task: () => Promise<T>): Promise<T> {
    return this.depositQueue.run(mailbox, task);
  }

  /** The durable deposit (types.ts; the file steps are message-files.ts), then the row. */
  private async store(mailbox: string, message: NewMessage, opts: { quota?: boolean } = {}): Promise<MessageRecord> {
    if (this.closed) throw new Error('the store is closed');
    const meta = await placeMessage(this.layout, mailbox, message);
    // If this throws (database busy beyond its retries, disk full) the audio and sidecar stay: nothing is lost,
    // and repair() attaches the message at the next start.
    let stored = meta;
    try {
      this.insertMessage(meta, opts.quota === true);
    } catch (err) {
      if (err instanceof MailboxFullError) {
        // Another process took the last place since deposit() looked: the recording goes back where it was (the
        // caller's rule for a full mailbox applies to it, as when deposit() finds it full).
        await unplaceMessage(this.layout, meta, message);
        throw err;
      }
      // Another process starting (a cluster worker restarted) may have repaired the store between the placing
      // and this insert, found this audio with its sidecar and no row, and attached it: it is stored either way.
      // Or another process renumbered or deleted the mailbox in between (mailbox-gone.ts).
      if (this.messageRow(meta.id)?.mailbox !== mailbox) {
        if (this.mailboxRow(mailbox)) throw err;
        stored = await this.placedForChangedMailbox(meta);
      }
    }
    await forgetRecording(this.layout, message);
    this.announce(stored.mailbox);
    return toMessage(this.requireMessage(meta.id), this.layout);
  }

  /** A placed deposit whose mailbox another process renumbered (inserted under the new number) or deleted (kept). */
  private async placedForChangedMailbox(meta: MessageSidecar): Promise<MessageSidecar> {
    const to = await renumberedDuringCall(meta.mailbox, this.renumberLookup(), this.logger);
    if (to === undefined) return keepPlacedForGoneMailbox(this.layout, this.logger, meta);
    const moved = await moveToRenumbered(this.layout, meta, to);
    this.insertMessage(moved);
    return moved;
  }

  /** The row, its change-feed entry and its new-message mail (deposit-mail.ts), in one transaction. */
  private insertMessage(meta: MessageSidecar, quota = false): void {
    const insert = this.sql(
      `INSERT INTO messages (id, mailbox, folder, caller, caller_name, received_at, duration_ms, urgent, heard, reason, forwarded_from)
       VALUES (?, ?, 'new', ?, ?, ?, ?, ?, 0, ?, ?)`,
    );
    let mailQueued = false;
    this.countsChange(false, meta.mailbox, () => {
      // Under the write lock: one process's deposit counts every other's (cluster workers share the file).
      const row = quota ? this.mailboxRow(meta.mailbox) : undefined;
      if (row && !this.roomFor(row)) throw new MailboxFullError(meta.mailbox);
      insert.run(meta.id, meta.mailbox, meta.from, meta.fromName, meta.receivedAt, meta.durationMs, meta.urgent ? 1 : 0, meta.reason, meta.forwardedFrom ?? null);
      mailQueued = this.queueDepositMail(meta);
      // Unified messaging: the append is queued exactly when the message is, whichever path commits it.
      if (this.opts.depositImapAppend) this.leaderTables.enqueueAppend(meta.id, meta.mailbox);
    });
    // Committed: the sender may claim it now.
    if (mailQueued) this.emitSafely('mailQueued', [meta.mailbox]);
  }

  /** Inside the deposit's transaction: its mail, when mail is on and the mailbox has an address. Whether one was queued. */
  private queueDepositMail(meta: MessageSidecar): boolean {
    const mail = this.opts.depositMail;
    if (!mail || !this.sql("SELECT 1 FROM mailboxes WHERE number = ? AND COALESCE(email, '') <> ''").get(meta.mailbox)) return false;
    const dropped = this.mailQueue.enqueue(depositMailJob(meta), mail.maxQueued);
    if (dropped > 0) this.logger?.error({ dropped }, 'notification queue full; oldest mail dropped');
    return true;
  }

  /** Removes messages for good: rows and files (message-files.ts says in which order). */
  private async remove(rows: MessageRow[]): Promise<void> {
    if (rows.length === 0) return;
    const del = this.sql('DELETE FROM messages WHERE id = ?');
    await removeMessages(this.layout, rows, () =>
      this.write(() => {
        for (const r of rows) del.run(r.id);
        for (const mailbox of new Set(rows.map((r) => r.mailbox))) this.logChange(mailbox, 'counts');
      }),
    );
    for (const mailbox of new Set(rows.map((r) => r.mailbox))) this.announce(mailbox);
  }

  private countsOf(mailbox: string): MessageCounts {
    const rows = this
      .sql(`SELECT folder, urgent, COUNT(*) AS n FROM messages WHERE mailbox = ? AND ${IN_BOX} GROUP BY folder, urgent`)
      .all(mailbox) as { folder: 'new' | 'saved'; urgent: number; n: number }[];
    const counts: MessageCounts = { new: 0, saved: 0, urgentNew: 0, urgentSaved: 0 };
    for (const r of rows) {
      counts[r.folder] += r.n;
      if (r.urgent) counts[r.folder === 'new' ? 'urgentNew' : 'urgentSaved'] += r.n;
    }
    return counts;
  }

  /**
   * Runs a statement that changes a mailbox's counts together with its change-feed entry, in one transaction;
   * with `announce`, tells this process's listeners at once (callers that announce later pass false).
   */
  private countsChange(announce: boolean, mailbox: string, change: () => unknown): void {
    this.write(() => {
      change();
      this.logChange(mailbox, 'counts');
    });
    if (announce) this.announce(mailbox);
  }

  /** A write transaction (write-transaction.ts: IMMEDIATE, tried again while the database stays locked). */
  private write<T>(fn: () => T): T {
    return writeTransaction(this.db, fn, this.logger);
  }

  /** Inside a transaction: appends the change to the cross-process feed (change-feed.ts). */
  private logChange(mailbox: string, kind: ChangeKind): void {
    this.sql(RECORD_CHANGE_SQL).run(mailbox, kind, this.origin, Date.now());
  }

  /** Emits 'mailbox' to this process's listeners (the attendant's directory cache). */
  private announceMailbox(number: string): void {
    this.emitSafely('mailbox', [number]);
  }

  /** Emits 'counts'; a listener that throws is logged and does not stop the others or the caller. */
  private announce(mailbox: string): void {
    this.emitSafely('counts', [mailbox, this.countsOf(mailbox)]);
  }

  /** A listener that throws is logged and does not stop the others or the caller. */
  private emitSafely<K extends keyof StoreEvents>(event: K, args: StoreEvents[K]): void {
    emitSafely(this.events, event, args, (err) => this.logger?.error({ err, mailbox: args[0] }, `a '${event}' listener threw`));
  }
}
