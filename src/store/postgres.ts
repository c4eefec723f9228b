/**
 * The MessageStore (types.ts) in PostgreSQL, for several hosts on one store (issue 10): mailboxes, PINs and
 * their back-off, messages, greetings, MWI subscriptions and counters in tables (pg/schema.ts), and the audio
 * too, chunked (pg/audio.ts), so that one engine's backup and replication cover everything.
 *
 * Local files under storage.dir, per host (layout.ts as for SQLite):
 *   tmp/<owner>/                  recordings in progress, as with SQLite (repair.ts delivers a crash's)
 *   messages/<mailbox>/<id>.wav   a message's audio: the cache of what is in the database, or, with
 *   messages/<mailbox>/<id>.json  its sidecar beside it, a deposit not yet committed
 *   greetings/<mailbox>/<kind>-<audio id>.wav   cached greetings (the audio id changes when one is re-recorded,
 *                                 so a host never plays another host's outdated copy)
 * audioPath and greeting paths are these files; they are fetched from the database when missing
 * (listMessages, getMessage and every Mailbox returned); with watchChanges, cached copies of
 * messages another host removed go when its change is heard (pg/cache-trim.ts), else at the next repair.
 *
 * A deposit: one transaction stores the recording's audio, the row and a change row (whose trigger NOTIFYs
 * every host); then the recording becomes the cached copy and its sidecar in tmp/ goes. Until then the
 * recording and its sidecar are in tmp/, where repair finds them after a crash; repair does not store twice a
 * recording whose commit was done (same mailbox, start time and audio SHA-256). When the database cannot be
 * reached, the message is placed durably in messages/ with a sidecar (message-files.ts, as SQLite does) and
 * committed by a retry timer when the database is back, or by repair at the next start; deposit() then
 * resolves (the message is safe on this host's disk). The commit is idempotent (the message id is the audio
 * id): a commit retried after a lost connection stores one message. Other errors reject and leave the
 * recording for repair. hasRoom() answers true when the database cannot be reached (take the message).
 * With watchChanges, findMailbox() and deposit() then use the mailboxes as last read (pg/mailbox-cache.ts, only
 * when the database cannot be reached), so that a call that begins during an outage leaves its message too.
 *
 * Events: this instance's own changes are announced when made; with watchChanges, other processes' and
 * hosts' changes are heard through LISTEN/NOTIFY (pg/change-listener.ts).
 *
 * Semantics are sqlite.ts's (folders and heard, quotas, aliases); shared rules are store-rules.ts and
 * pin-check.ts. The quota is checked again in the deposit's commit under the mailbox's row lock (pg/quota.ts), so
 * two hosts cannot both take a mailbox's last place.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import type { Logger } from 'pino';
import { fsyncDir, placeFile, unlinkIfExists } from './audio-files.js';
import type { ChangeKind } from './change-feed.js';
import { NoSuchMessageError, NumberInUseError, StoreUnavailableError } from './errors.js';
import { messageAudioPath, type StoreLayout } from './layout.js';
import { changedFields, specValues } from './mailbox-diff.js';
import { REMOVE_MAILBOX_SQL, removeMailboxFiles } from './mailbox-removal.js';
import { LIST_MWI_ACKED_SQL, mwiAckValues, PUT_MWI_ACKED_SQL, toMwiAck, type MwiAckedDbRow } from './mwi-acked.js';
import { followRenumbers, RECORD_RENUMBER_SQL, renumberedDuringCall, RENUMBERED_TO_SQL, renumberFiles, TRIM_RENUMBERS_SQL, type RenumberLookup } from './mailbox-renumber.js';
import { keepForGoneMailbox } from './mailbox-gone.js';
import { newMessageId } from './message-id.js';
import { prepareLocalFolders } from './owner.js';
import type { DepositMailOptions } from './deposit-mail.js';
import { hashPin } from './pin.js';
import { mailboxBackoffKey } from './pin-backoff.js';
import { checkPinWith } from './pin-check.js';
import { recoverRecordings, type RepairResult } from './repair.js';
import { MAILBOX_PATCH_COLUMNS, toMailbox, toMessage, type MailboxRow, type MessageRow } from './rows.js';
import { emitSafely } from './safe-emit.js';
import { checkNumber, checkSpec, groupBy, IN_BOX, KeyedQueue, PLAY_ORDER, quotaOf, type QuotaDefaults } from './store-rules.js';
import { insertAudio, materialise, readRecording } from './pg/audio.js';
import { roomIn } from './pg/quota.js';
import { trimCachedCopies } from './pg/cache-trim.js';
import { ChangeListener } from './pg/change-listener.js';
import { MailboxCache } from './pg/mailbox-cache.js';
import { PgDeposits } from './pg/deposits.js';
import { clientConfig, createPool, inTransaction, isConnectionError, redactUrl, type PgConnectOptions, type Queryable } from './pg/connection.js';
import { PgPinFailures } from './pg/pin-failures.js';
import { repairPgStore, type PgRepairHost } from './pg/repair.js';
import { migratePg } from './pg/schema.js';
import { numbered } from './pg/sql.js';
import { callerRecordsQuery } from './call-record-table.js';
import { addCallRecords, eraseCallerRecords, listCallRecords, purgeCallRecords } from './pg/call-records.js';
import { claimMail, dropMailForMessages, enqueueMail, finishMail, retryMail } from './pg/mail-queue.js';
import * as leaderTables from './pg/leader-tables.js';
import {
  MailboxFullError,
  NoSuchMailboxError,
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
  type DeletedMailbox,
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

export interface PostgresStoreOptions extends QuotaDefaults, PgConnectOptions {
  /** Where repair findings, kept deposits and listener failures are logged. Default: not logged. */
  logger?: Logger;
  /** Hear other processes' and hosts' changes (LISTEN/NOTIFY) and announce them as events. Default false. */
  watchChanges?: boolean;
  /** How often deposits kept while the database was unreachable are tried again, ms. Default 2000. */
  retryKeptMs?: number;
  /** Queue each deposit's new-message mail in its commit (deposit-mail.ts). Default: no mail queued. */
  depositMail?: DepositMailOptions;
  /** Queue each deposit's IMAP append in its commit (unified messaging on: unified/append-drain.ts). Default false. */
  depositImapAppend?: boolean;
}

/** A mailbox row with its failures (the PIN back-off's count, as failed_logins), aliases and greetings. */
type FullMailboxRow = MailboxRow & { aliases: string[]; greetings: { kind: GreetingKind; audio: string }[] };

/** Greetings and messages fetched from the database at once, at most. */
const FETCH_CONCURRENCY = 8;
/** The advisory lock (single bigint key; pg/schema.ts's migration lock is the one before it) that serialises provision() across hosts. */
const PROVISION_LOCK = 0x766d70696c6f75;

const MAILBOX_SELECT = `
  SELECT m.*, COALESCE(p.failures, 0) AS failed_logins,
    ARRAY(SELECT alias FROM aliases a WHERE a.mailbox = m.number ORDER BY alias) AS aliases,
    COALESCE((SELECT json_agg(json_build_object('kind', g.kind, 'audio', g.audio_id) ORDER BY g.kind) FROM greetings g WHERE g.mailbox = m.number), '[]') AS greetings
  FROM mailboxes m LEFT JOIN pin_failures p ON p.key = 'mailbox:' || m.number`;

/** Opens the store at `url` (migrating its schema), with local files under `dir`. */
export async function openPostgresStore(url: string, dir: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
  const { layout, tmpDir } = await prepareLocalFolders(dir);
  const pool = createPool(url, opts);
  // An idle client's connection failing is an event; unheard, it would end the process.
  pool.on('error', (err) => opts.logger?.warn({ err: err.message }, 'PostgreSQL connection lost (idle)'));
  let store: PostgresStore | undefined;
  try {
    try {
      await pool.query('SELECT 1');
    } catch (err) {
      throw new StoreUnavailableError(`cannot reach the PostgreSQL store at ${redactUrl(url)}: ${(err as Error).message}`);
    }
    await migratePg(pool);
    store = new PostgresStore(pool, clientConfig(url, opts), layout, tmpDir, opts);
    await store.startListening();
    return store;
  } catch (err) {
    if (store) await store.close();
    else await pool.end().catch(() => undefined);
    throw err;
  }
}

async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export class PostgresStore implements MessageStore {
  readonly events = new EventEmitter<StoreEvents>();
  readonly tmpDir: string;
  private closed = false;
  private readonly depositQueue = new KeyedQueue();
  private readonly logger: Logger | undefined;
  /** Names this instance's change rows (its own changes are announced when made, not heard back). */
  private readonly origin = randomUUID();
  private readonly listener: ChangeListener | undefined;
  private readonly pinFailures: PgPinFailures;
  private dummyHash: Promise<string> | undefined;
  private readonly deposits: PgDeposits;
  /** The mailboxes as last read, for when the database cannot be reached (only with watchChanges: kept current). */
  private readonly mailboxCache: MailboxCache<FullMailboxRow> | undefined;
  private cacheReload: Promise<void> = Promise.resolve();

  /** Use openPostgresStore. */
  constructor(
    private readonly pool: pg.Pool,
    /** Settings for dedicated connections (the change listener). */
    client: pg.ClientConfig,
    readonly layout: StoreLayout,
    tmpDir: string,
    private readonly opts: PostgresStoreOptions,
  ) {
    this.tmpDir = tmpDir;
    this.logger = opts.logger;
    this.pinFailures = new PgPinFailures(pool);
    this.deposits = new PgDeposits({
      pool,
      layout,
      logger: opts.logger,
      origin: this.origin,
      queue: this.depositQueue,
      retryKeptMs: opts.retryKeptMs,
      depositMail: opts.depositMail,
      depositImapAppend: opts.depositImapAppend,
      mailboxNumber: (n) => this.depositMailboxOf(n),
      announce: (m) => this.announce(m),
      mailQueued: (m) => this.emitSafely('mailQueued', [m]),
    });
    if (opts.watchChanges) {
      this.mailboxCache = new MailboxCache();
      this.listener = new ChangeListener({
        client,
        origin: this.origin,
        logger: opts.logger,
        onConnected: () => this.reloadMailboxCache(),
        onChanges: (changes) => {
          for (const c of changes) {
            if (c.kind === 'counts') {
              void this.announce(c.mailbox);
              this.trimCache(c.mailbox);
            } else this.announceMailbox(c.mailbox);
          }
        },
      });
    }
  }

  /** openPostgresStore's: the change listener's first connection. */
  async startListening(): Promise<void> {
    await this.listener?.start();
    // Read once before the server takes calls: an outage right after the start finds the mailboxes too.
    await this.cacheReload;
  }

  /** Reads every mailbox into the cache (at each listener connection); a failure is logged, the next one retries. */
  private reloadMailboxCache(): void {
    const cache = this.mailboxCache;
    if (!cache) return;
    this.cacheReload = cache
      .reload(async () => (await this.pool.query<FullMailboxRow>(MAILBOX_SELECT)).rows)
      .catch((err: unknown) => this.logger?.warn({ err: (err as Error).message }, 'mailbox cache not read; kept as it was'));
  }

  /**
   * Another host changed a mailbox's messages (it may have removed some): this host's cached copies of removed
   * ones go (pg/cache-trim.ts). In the mailbox's deposit queue: never beside a deposit of this host placing its
   * files. A failure is logged; the next change or the next start's repair trims again.
   */
  private trimCache(mailbox: string): void {
    if (this.closed) return;
    void this.depositQueue
      .run(mailbox, () => trimCachedCopies(join(this.layout.messagesDir, mailbox), (ids) => this.existingMessages(ids)))
      .then(
        (removed) => removed > 0 && this.logger?.debug({ mailbox, removed }, 'cached copies of removed messages deleted'),
        (err: unknown) => this.logger?.debug({ err: (err as Error).message, mailbox }, 'cached copies not trimmed'),
      );
  }

  private async existingMessages(ids: string[]): Promise<Set<string>> {
    return new Set((await this.pool.query<{ id: string }>('SELECT id FROM messages WHERE id = ANY($1)', [ids])).rows.map((r) => r.id));
  }

  /** Reads one mailbox into the cache again (a 'mailbox' change, here or on another host). */
  private refreshCachedMailbox(number: string): void {
    void this.mailboxCache
      ?.refresh(number, async () => (await this.pool.query<FullMailboxRow>(`${MAILBOX_SELECT} WHERE m.number = $1`, [number])).rows[0])
      .catch((err: unknown) => this.logger?.debug({ err: (err as Error).message, mailbox: number }, 'cached mailbox not read again'));
  }

  /** How often the change listener re-connected (a restarted PostgreSQL, a network cut). */
  get listenerReconnects(): number {
    return this.listener?.reconnects ?? 0;
  }

  /** Deposits kept on this host's disk, waiting for the database. */
  get keptDeposits(): number {
    return this.deposits.keptCount;
  }

  // ---- mailboxes -------------------------------------------------------------------------------------------

  async findMailbox(numberOrAlias: string): Promise<Mailbox | undefined> {
    let row: FullMailboxRow | undefined;
    try {
      row = await this.mailboxRow(numberOrAlias);
    } catch (err) {
      const cache = this.mailboxCache;
      if (!isConnectionError(err) || !cache?.loaded) throw err;
      // Unreachable: the mailbox as last read (a number missing from a loaded cache is no mailbox).
      const cached = cache.find(numberOrAlias);
      this.logger?.warn({ err: (err as Error).message, mailbox: numberOrAlias, found: cached !== undefined }, 'store unreachable; mailbox as last read');
      return cached && this.withCachedGreetings(cached);
    }
    return row && this.withGreetings(row);
  }

  async listMailboxes(): Promise<Mailbox[]> {
    const rows = (await this.pool.query<MailboxRow>(
      "SELECT m.*, COALESCE(p.failures, 0) AS failed_logins FROM mailboxes m LEFT JOIN pin_failures p ON p.key = 'mailbox:' || m.number ORDER BY m.number",
    )).rows;
    const aliases = groupBy((await this.pool.query<{ mailbox: string; value: string }>('SELECT mailbox, alias AS value FROM aliases ORDER BY alias')).rows);
    const greetings = new Map<string, FullMailboxRow['greetings']>();
    for (const g of (await this.pool.query<{ mailbox: string; kind: GreetingKind; audio: string }>('SELECT mailbox, kind, audio_id AS audio FROM greetings ORDER BY kind')).rows) {
      greetings.set(g.mailbox, [...(greetings.get(g.mailbox) ?? []), { kind: g.kind, audio: g.audio }]);
    }
    const full = rows.map((r): FullMailboxRow => ({ ...r, aliases: aliases.get(r.number) ?? [], greetings: greetings.get(r.number) ?? [] }));
    const out: Mailbox[] = new Array(full.length);
    await eachLimited(full.map((r, i) => [r, i] as const), FETCH_CONCURRENCY, async ([r, i]) => {
      out[i] = await this.withGreetings(r);
    });
    return out;
  }

  async searchMailboxes(query: MailboxQuery): Promise<{ total: number; mailboxes: Mailbox[] }> {
    // ILIKE: case-insensitive as SQLite's LIKE is for ASCII; the pattern's own % and _ are escaped.
    const needle = query.search?.trim() ?? '';
    const pattern = `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const where =
      needle === ''
        ? ''
        : `WHERE m.number ILIKE $3 OR m.name ILIKE $3 OR m.email ILIKE $3 OR m.number IN (SELECT mailbox FROM aliases WHERE alias ILIKE $3)`;
    const rows = (
      await this.pool.query<FullMailboxRow>(`${MAILBOX_SELECT} ${where} ORDER BY m.number LIMIT $1 OFFSET $2`, needle === '' ? [query.limit, query.offset] : [query.limit, query.offset, pattern])
    ).rows;
    const total = (await this.pool.query<{ n: number }>(`SELECT COUNT(*) AS n FROM mailboxes m ${where.replaceAll('$3', '$1')}`, needle === '' ? [] : [pattern])).rows[0]!.n;
    const mailboxes: Mailbox[] = [];
    for (const row of rows) mailboxes.push(await this.withGreetings(row));
    return { total, mailboxes };
  }

  async importMailboxes(rows: readonly MailboxImport[]): Promise<{ created: number; updated: number }> {
    for (const row of rows) {
      checkNumber(row.number, 'mailbox number');
      if (row.pinHash !== undefined && (typeof row.fields.name !== 'string' || row.fields.name.trim() === '')) {
        throw new TypeError(`mailbox ${row.number} needs a name`);
      }
    }
    const result = await this.write(async (db) => {
      // Aliases of the mailboxes that set theirs are released first: one import may move an alias between them.
      for (const row of rows) {
        if (row.pinHash === undefined && row.fields.aliases !== undefined) await db.query('DELETE FROM aliases WHERE mailbox = $1', [row.number]);
      }
      let created = 0;
      for (const row of rows) {
        if (row.pinHash === undefined) {
          if ((await db.query('SELECT 1 FROM mailboxes WHERE number = $1', [row.number])).rowCount === 0) throw new NoSuchMailboxError(row.number);
          continue;
        }
        await this.insertMailbox(db, { number: row.number, name: row.fields.name!, pin: '' }, row.pinHash);
        created++;
      }
      for (const row of rows) await this.patchRow(db, row.number, row.fields);
      return { created, updated: rows.length - created };
    });
    for (const row of rows) this.announceMailbox(row.number);
    return result;
  }

  async createMailbox(spec: MailboxSpec): Promise<Mailbox> {
    checkSpec(spec);
    const pinHash = await hashPin(spec.pin);
    await this.write((db) => this.insertMailbox(db, spec, pinHash));
    this.announceMailbox(spec.number);
    return this.requireMailbox(spec.number);
  }

  async provision(specs: readonly MailboxSpec[]): Promise<ProvisionReport> {
    for (const spec of specs) checkSpec(spec);
    const existing = new Set(
      (await this.pool.query<{ number: string }>('SELECT number FROM mailboxes WHERE number = ANY($1)', [specs.map((s) => s.number)])).rows.map((r) => r.number),
    );
    // Hash outside the transaction (scrypt runs on the thread pool); only for mailboxes that are new.
    const hashes = new Map<string, string>();
    for (const spec of specs) if (!existing.has(spec.number)) hashes.set(spec.number, await hashPin(spec.pin));
    const report = await this.write(async (db): Promise<ProvisionReport> => {
      // Hosts of one site start together and provision the same config: without this lock both see a mailbox
      // missing (the other's insert is not committed yet) and the second insert fails the host's start. Under the
      // lock the second host's SELECT ... FOR UPDATE (READ COMMITTED) sees the first host's committed rows.
      await db.query('SELECT pg_advisory_xact_lock($1)', [PROVISION_LOCK]);
      const done: ProvisionReport = { created: [], updated: [] };
      for (const spec of specs) {
        const row = (await db.query<FullMailboxRow>(`${MAILBOX_SELECT} WHERE m.number = $1 FOR UPDATE OF m`, [spec.number])).rows[0];
        if (!row) {
          const pinHash = hashes.get(spec.number);
          // No hash: it existed when we looked and was removed since by another host; leave it removed.
          if (pinHash === undefined) continue;
          await this.insertMailbox(db, spec, pinHash);
          done.created.push(spec.number);
          continue;
        }
        // Never the PIN: the owner may have changed it. Only what differs is written (and reported).
        const changes = changedFields(toMailbox(row, row.aliases, [], this.layout), specValues(spec));
        if (changes.length === 0) continue;
        await this.patchRow(db, row.number, Object.fromEntries(changes.map((c) => [c.field, c.to])));
        done.updated.push({ number: spec.number, changes });
      }
      return done;
    });
    for (const number of [...report.created, ...report.updated.map((u) => u.number)]) this.announceMailbox(number);
    return report;
  }

  async updateMailbox(number: string, patch: Partial<Omit<Mailbox, 'number' | 'pinHash'>>): Promise<Mailbox> {
    const row = await this.requireRow(number);
    if (patch.greetings !== undefined) throw new TypeError('greetings are changed with setGreeting');
    if (Object.hasOwn(patch, 'failedLogins') && patch.failedLogins !== 0) throw new TypeError('failedLogins can only be cleared (0): failures are counted by checkPin');
    await this.write((db) => this.patchRow(db, row.number, patch));
    this.announceMailbox(row.number);
    return this.requireMailbox(row.number);
  }

  async deleteMailbox(numberOrAlias: string): Promise<DeletedMailbox> {
    const number = (await this.requireRow(numberOrAlias)).number;
    // In the mailbox's deposit queue: a deposit of this process finishes first (and is deleted with the rest).
    return this.depositQueue.run(number, async () => {
      const deleted = await this.write(async (db): Promise<DeletedMailbox> => {
        if ((await db.query('SELECT 1 FROM mailboxes WHERE number = $1 FOR UPDATE', [number])).rowCount === 0) throw new NoSuchMailboxError(numberOrAlias);
        const count = async (table: string): Promise<number> =>
          (await db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table} WHERE mailbox = $1`, [number])).rows[0]!.n;
        const result = { number, messages: await count('messages'), greetings: await count('greetings') };
        // Their audio goes by trigger (schema.ts).
        for (const statement of REMOVE_MAILBOX_SQL) await db.query(numbered(statement), [number]);
        await this.pinFailures.clear(mailboxBackoffKey(number), db);
        // Both kinds: other hosts' MWI sends the zero counts, their routers and directories drop the number.
        await this.logChange(db, number, 'counts');
        await this.logChange(db, number, 'mailbox');
        return result;
      });
      // This host's cached copies; other hosts' go at their next repair (a cached file without a row).
      await removeMailboxFiles(this.layout, number, { cachedCopies: true, logger: this.logger });
      this.deposits.mailboxRemoved(number);
      await this.announce(number);
      this.announceMailbox(number);
      return deleted;
    });
  }

  async renumberMailbox(numberOrAlias: string, newNumber: string): Promise<Mailbox> {
    checkNumber(newNumber, 'mailbox number');
    const old = (await this.requireRow(numberOrAlias)).number;
    if (newNumber === old) return this.requireMailbox(old);
    return this.depositQueue.run(old, async () => {
      // The commit, then this host's cached copies and kept deposits follow (journaled: mailbox-renumber.ts).
      await renumberFiles(this.layout, old, newNumber, {
        commitFirst: true,
        logger: this.logger,
        commit: () =>
          this.write(async (db) => {
            const owner = await this.ownerOf(db, newNumber);
            if (owner !== undefined && owner !== old) throw new NumberInUseError(newNumber, owner);
            await db.query('DELETE FROM aliases WHERE alias = $1', [newNumber]);
            // Messages, greetings and aliases follow by ON UPDATE CASCADE (schema.ts).
            await this.uniquely(newNumber, () => db.query('UPDATE mailboxes SET number = $1 WHERE number = $2', [newNumber, old]));
            await this.pinFailures.renumber(old, newNumber, db);
            await db.query(numbered(RECORD_RENUMBER_SQL), [old, newNumber, Date.now()]);
            for (const number of [old, newNumber]) {
              await this.logChange(db, number, 'counts');
              await this.logChange(db, number, 'mailbox');
            }
          }),
      });
      this.deposits.renumbered(old, newNumber);
      for (const number of [old, newNumber]) {
        await this.announce(number);
        this.announceMailbox(number);
      }
      return this.requireMailbox(newNumber);
    });
  }

  async setPin(number: string, pin: string): Promise<void> {
    const row = await this.requireRow(number);
    const pinHash = await hashPin(pin);
    // In the change feed (not announced: nothing shows a PIN) so that the mirror copies it.
    await this.write(async (db) => {
      await db.query('UPDATE mailboxes SET pin_hash = $1, must_change_pin = 0 WHERE number = $2', [pinHash, row.number]);
      await this.logChange(db, row.number, 'mailbox');
    });
    this.refreshCachedMailbox(row.number);
  }

  /** The PIN back-off (pin-backoff.ts) around one scrypt check; each step one transaction (pg/pin-failures.ts). */
  async checkPin(attempt: PinAttempt): Promise<PinCheck> {
    return checkPinWith(
      {
        dummyHash: () => (this.dummyHash ??= hashPin(randomBytes(8).toString('hex'))),
        credentials: async (number) => {
          const row = await this.mailboxRow(number);
          return row && { number: row.number, pinHash: row.pin_hash, locked: row.locked !== 0 };
        },
        claim: (keys, now, policy) => this.pinFailures.claim(keys, now, policy),
        recordFailure: (keys, now, policy) => this.pinFailures.recordFailure(keys, now, policy),
        clear: (key) => this.pinFailures.clear(key),
        mailbox: (number) => this.requireMailbox(number),
      },
      attempt,
    );
  }

  async listSubscriptions(): Promise<StoredSubscription[]> {
    const result = await this.pool.query<{ id: string; mailbox: string; source: string; expires_at: number; data: string }>(
      'SELECT id, mailbox, source, expires_at, data FROM mwi_subscriptions',
    );
    return result.rows.map((r) => ({ id: r.id, mailbox: r.mailbox, source: r.source, expiresAt: r.expires_at, data: r.data }));
  }

  async saveSubscriptions(put: readonly StoredSubscription[], remove: readonly string[]): Promise<void> {
    if (put.length === 0 && remove.length === 0) return;
    await this.write(async (db) => {
      for (const s of put) {
        await db.query(
          `INSERT INTO mwi_subscriptions (id, mailbox, source, expires_at, data) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (id) DO UPDATE SET mailbox = excluded.mailbox, source = excluded.source, expires_at = excluded.expires_at, data = excluded.data`,
          [s.id, s.mailbox, s.source, s.expiresAt, s.data],
        );
      }
      if (remove.length > 0) await db.query('DELETE FROM mwi_subscriptions WHERE id = ANY($1)', [remove]);
    });
  }

  async counters(): Promise<Record<string, number>> {
    return this.pinFailures.counters();
  }

  async setGreeting(number: string, kind: GreetingKind, audioFile: string | undefined, until?: number): Promise<void> {
    const row = await this.requireRow(number);
    if (audioFile !== undefined) {
      const audioId = newMessageId();
      const data = await readRecording(audioFile);
      await this.write(async (db) => {
        await insertAudio(db, audioId, data);
        // The trigger drops the audio this replaces (schema.ts).
        await db.query(
          'INSERT INTO greetings (mailbox, kind, audio_id) VALUES ($1, $2, $3) ON CONFLICT (mailbox, kind) DO UPDATE SET audio_id = excluded.audio_id',
          [row.number, kind, audioId],
        );
        if (kind === 'temporary') await db.query('UPDATE mailboxes SET temporary_greeting_until = $1 WHERE number = $2', [until ?? null, row.number]);
        await this.logChange(db, row.number, 'mailbox');
      });
      // The recording becomes this host's cached copy.
      const cached = this.greetingFile(row.number, kind, audioId);
      await placeFile(audioFile, cached, false);
      await this.dropStaleGreetings(row.number, kind, cached);
    } else {
      await this.write(async (db) => {
        await db.query('DELETE FROM greetings WHERE mailbox = $1 AND kind = $2', [row.number, kind]);
        if (kind === 'temporary') await db.query('UPDATE mailboxes SET temporary_greeting_until = NULL WHERE number = $1', [row.number]);
        await this.logChange(db, row.number, 'mailbox');
      });
      await this.dropStaleGreetings(row.number, kind, undefined);
    }
    this.announceMailbox(row.number);
  }

  // ---- messages --------------------------------------------------------------------------------------------

  async hasRoom(number: string): Promise<boolean> {
    try {
      return await this.roomFor(await this.requireRow(number));
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      // The message will be kept on this host until the database is back (deposit): take it.
      this.logger?.warn({ err: (err as Error).message, mailbox: number }, 'store unreachable; quota not checked');
      return true;
    }
  }

  async deposit(message: NewMessage): Promise<MessageRecord> {
    if (this.closed) throw new Error('the store is closed');
    let row: MailboxRow | undefined;
    try {
      row = await this.mailboxRow(message.mailbox);
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      // The number cannot be checked now: kept under its number as last read, else under the number dialled,
      // resolved when committed.
      checkNumber(message.mailbox, 'mailbox number');
      const folder = this.mailboxCache?.find(message.mailbox)?.number ?? message.mailbox;
      return this.depositQueue.run(folder, () => this.deposits.store(folder, message, { kept: err as Error }));
    }
    row ??= await this.renumberedRow(message.mailbox);
    if (!row) return keepForGoneMailbox(this.layout, this.logger, message);
    const mailbox = row;
    try {
      return await this.depositQueue.run(mailbox.number, async () => {
        if (!(await this.hasRoomFor(mailbox))) throw new MailboxFullError(mailbox.number);
        // Checked again in the commit, under the mailbox's row lock: another host may take the last place meanwhile.
        return this.deposits.store(mailbox.number, message, { quota: quotaOf(mailbox, this.opts) });
      });
    } catch (err) {
      // A foreign key violation: another host renumbered or deleted the mailbox between the look-up and the
      // commit (the recording is still in tmp/). Once more, with the mailbox as it is now.
      if ((err as { code?: string }).code !== '23503' || (await this.mailboxRow(mailbox.number))) throw err;
      const now = await this.renumberedRow(mailbox.number);
      if (!now) return keepForGoneMailbox(this.layout, this.logger, message);
      return this.depositQueue.run(now.number, () => this.deposits.store(now.number, message));
    }
  }

  /** A mailbox renumbered since the call began: the new one (mailbox-renumber.ts). */
  private async renumberedRow(number: string): Promise<MailboxRow | undefined> {
    const now = await renumberedDuringCall(number, this.renumberLookup(), this.logger);
    return now === undefined ? undefined : this.mailboxRow(now);
  }

  /** The mailbox number a deposit for `number` goes to, following renumbers. */
  private depositMailboxOf(number: string): Promise<string | undefined> {
    return followRenumbers(number, this.renumberLookup());
  }

  private renumberLookup(): RenumberLookup {
    return {
      mailboxNumber: (n) => this.mailboxNumber(n),
      renumberedTo: async (n) => (await this.pool.query<{ new: string }>(numbered(RENUMBERED_TO_SQL), [n])).rows[0]?.new,
    };
  }

  async listMessages(number: string, folder?: Folder): Promise<MessageRecord[]> {
    const row = await this.requireRow(number);
    const rows = (
      folder === undefined
        ? await this.pool.query<MessageRow & { audio_id: string }>(`SELECT * FROM messages WHERE mailbox = $1 AND ${IN_BOX} ${PLAY_ORDER}`, [row.number])
        : await this.pool.query<MessageRow & { audio_id: string }>(`SELECT * FROM messages WHERE mailbox = $1 AND folder = $2 ${PLAY_ORDER}`, [row.number, folder])
    ).rows;
    const messages = rows.map((r) => toMessage(r, this.layout));
    await eachLimited(rows, FETCH_CONCURRENCY, (r) => this.cacheMessage(r));
    return messages;
  }

  async getMessage(id: string): Promise<MessageRecord | undefined> {
    const row = await this.messageRow(id);
    if (!row) return undefined;
    await this.cacheMessage(row);
    return toMessage(row, this.layout);
  }

  async setFolder(id: string, folder: Folder): Promise<void> {
    if (folder !== 'new' && folder !== 'saved' && folder !== 'deleted') throw new TypeError(`no folder "${String(folder)}"`);
    // Moving a message back to 'new' marks it unheard: 'new' means "not yet listened to".
    await this.changeMessage(id, folder === 'new' ? "folder = 'new', heard = 0" : 'folder = $3', folder === 'new' ? [] : [folder]);
  }

  async markHeard(id: string): Promise<void> {
    await this.changeMessage(id, "heard = 1, folder = CASE folder WHEN 'new' THEN 'saved' ELSE folder END", []);
  }

  async setUrgent(id: string, urgent: boolean): Promise<void> {
    await this.changeMessage(id, 'urgent = $3', [urgent ? 1 : 0]);
  }

  async purgeDeleted(number: string): Promise<number> {
    const row = await this.requireRow(number);
    return this.removeWhere("mailbox = $2 AND folder = 'deleted'", [row.number]);
  }

  async expire(newMaxAgeMs: number, savedMaxAgeMs: number): Promise<number> {
    const now = Date.now();
    return this.removeWhere(
      "(folder = 'new' AND $2::bigint > 0 AND received_at < $3) OR (folder = 'saved' AND $4::bigint > 0 AND received_at < $5)",
      [newMaxAgeMs, now - newMaxAgeMs, savedMaxAgeMs, now - savedMaxAgeMs],
    );
  }

  async counts(number: string): Promise<MessageCounts> {
    return this.countsOf((await this.requireRow(number)).number);
  }

  async addCallRecords(records: readonly CallRecord[]): Promise<void> {
    await addCallRecords(this.pool, records);
  }

  async listCallRecords(query: CallRecordQuery): Promise<CallRecord[]> {
    return listCallRecords(this.pool, query);
  }

  async purgeCallRecords(before: number): Promise<number> {
    return purgeCallRecords(this.pool, before);
  }

  async trimRenumbers(before: number): Promise<number> {
    return (await this.pool.query(numbered(TRIM_RENUMBERS_SQL), [before])).rowCount ?? 0;
  }

  // ---- one caller's data (access and erasure) ------------------------------------------------------------

  async callerData(caller: string): Promise<CallerData> {
    const rows = (await this.pool.query<MessageRow & { audio_id: string }>('SELECT * FROM messages WHERE caller = $1 ORDER BY received_at', [caller])).rows;
    await eachLimited(rows, FETCH_CONCURRENCY, (r) => this.cacheMessage(r));
    return { messages: rows.map((r) => toMessage(r, this.layout)), callRecords: await listCallRecords(this.pool, callerRecordsQuery(caller)) };
  }

  async eraseCaller(caller: string): Promise<CallerErasure> {
    const ids = (await this.pool.query<{ id: string }>('SELECT id FROM messages WHERE caller = $1', [caller])).rows.map((r) => r.id);
    // Emails first, so that no host's sender claims one whose audio is about to go.
    const queuedEmails = await dropMailForMessages(this.pool, ids);
    const messages = await this.removeWhere('caller = $2', [caller]);
    return { messages, queuedEmails, callRecords: await eraseCallerRecords(this.pool, caller) };
  }

  // ---- email queue (pg/mail-queue.ts) -------------------------------------------------------------------------

  async enqueueMail(job: NewMailJob, maxQueued: number): Promise<number> {
    return enqueueMail(this.pool, job, maxQueued);
  }

  async claimMail(claimant: string, now: number, leaseMs: number): Promise<MailJob | undefined> {
    return claimMail(this.pool, claimant, now, leaseMs);
  }

  async finishMail(id: number): Promise<void> {
    await finishMail(this.pool, id);
  }

  async retryMail(id: number, notBefore: number, error: string): Promise<void> {
    await retryMail(this.pool, id, notBefore, error);
  }

  // ---- the leader's jobs: directory ownership, IMAP appends (pg/leader-tables.ts) -----------------------------

  async listDirectoryOwned(): Promise<DirectoryOwned[]> {
    return leaderTables.listOwned(this.pool);
  }

  async saveDirectoryOwned(put: readonly DirectoryOwned[], remove: readonly string[]): Promise<void> {
    await leaderTables.saveOwned(this.pool, put, remove);
  }

  async enqueueImapAppend(messageId: string, mailbox: string): Promise<void> {
    await leaderTables.enqueueAppend(this.pool, messageId, mailbox);
  }

  async claimImapAppend(claimant: string, now: number, leaseMs: number): Promise<ImapAppendJob | undefined> {
    return leaderTables.claimAppend(this.pool, claimant, now, leaseMs);
  }

  async renewImapAppend(messageId: string, claimant: string, until: number): Promise<boolean> {
    return leaderTables.renewAppend(this.pool, messageId, claimant, until);
  }

  async finishImapAppend(messageId: string): Promise<void> {
    await leaderTables.finishAppend(this.pool, messageId);
  }

  async retryImapAppend(messageId: string, notBefore: number, error: string): Promise<void> {
    await leaderTables.retryAppend(this.pool, messageId, notBefore, error);
  }

  async countImapAppends(): Promise<number> {
    return leaderTables.countAppends(this.pool);
  }

  async imapAppendQueueStats(): Promise<ImapAppendQueueStats> {
    return leaderTables.appendQueueStats(this.pool);
  }

  async listMwiAcked(): Promise<MwiAckRow[]> {
    return (await this.pool.query<MwiAckedDbRow>(LIST_MWI_ACKED_SQL)).rows.map(toMwiAck);
  }

  async saveMwiAcked(rows: readonly MwiAckRow[]): Promise<void> {
    if (rows.length === 0) return;
    const now = Date.now();
    await inTransaction(this.pool, async (db) => {
      for (const row of rows) await db.query(numbered(PUT_MWI_ACKED_SQL), mwiAckValues(row, now));
    });
  }

  async repair(): Promise<RepairReport> {
    return this.announced(await repairPgStore(this.repairHost()));
  }

  async recoverRecordings(): Promise<RepairReport> {
    return this.announced(await recoverRecordings(this.repairHost()));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.deposits.stop();
    await this.listener?.stop();
    await this.depositQueue.settled();
    await this.pool.end();
  }

  // ---- repair ----------------------------------------------------------------------------------------------

  private repairHost(): PgRepairHost {
    return {
      layout: this.layout,
      logger: this.logger,
      mailboxOf: (numberOrAlias) => this.mailboxNumber(numberOrAlias),
      depositMailboxOf: (number) => this.depositMailboxOf(number),
      hasMessage: async (id) => (await this.messageRow(id)) !== undefined,
      existingMessages: (ids) => this.existingMessages(ids),
      // A recording cut short by a crash: the caller was let in to record, so the quota is not asked again.
      deposit: (mailbox, message) => this.depositQueue.run(mailbox, () => this.deposits.store(mailbox, message, { dedupe: true })),
      commitPlaced: (folder, id, result) => this.deposits.commitPlaced(folder, id, result),
      // repair.ts's file-store passes (b) and (c) are not run for PostgreSQL (pg/repair.ts replaces them).
      attach: () => Promise.reject(new Error('not used by the PostgreSQL store')),
      liveMessages: () => [],
      markDeleted: () => undefined,
    };
  }

  private announced(report: RepairResult): RepairReport {
    for (const mailbox of report.changedMailboxes) void this.announce(mailbox);
    const { changedMailboxes: _changed, ...result } = report;
    return result;
  }

  // ---- internals -------------------------------------------------------------------------------------------

  private write<T>(fn: (db: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, fn);
  }

  private async mailboxRow(numberOrAlias: string, db: Queryable = this.pool): Promise<FullMailboxRow | undefined> {
    const result = await db.query<FullMailboxRow>(
      `${MAILBOX_SELECT} WHERE m.number = $1 OR m.number = (SELECT mailbox FROM aliases WHERE alias = $1) LIMIT 1`,
      [numberOrAlias],
    );
    return result.rows[0];
  }

  private async mailboxNumber(numberOrAlias: string): Promise<string | undefined> {
    const result = await this.pool.query<{ number: string }>(
      'SELECT number FROM mailboxes WHERE number = $1 UNION ALL SELECT mailbox FROM aliases WHERE alias = $1 LIMIT 1',
      [numberOrAlias],
    );
    return result.rows[0]?.number;
  }

  private async requireRow(numberOrAlias: string): Promise<FullMailboxRow> {
    const row = await this.mailboxRow(numberOrAlias);
    if (!row) throw new NoSuchMailboxError(numberOrAlias);
    return row;
  }

  private async requireMailbox(numberOrAlias: string): Promise<Mailbox> {
    return this.withGreetings(await this.requireRow(numberOrAlias));
  }

  private greetingFile(mailbox: string, kind: GreetingKind, audioId: string): string {
    return join(this.layout.greetingsDir, mailbox, `${kind}-${audioId}.wav`);
  }

  /** The record, its greetings fetched to this host's cache. */
  private async withGreetings(row: FullMailboxRow): Promise<Mailbox> {
    const mailbox = toMailbox(row, row.aliases, [], this.layout);
    for (const { kind, audio } of row.greetings) {
      const path = this.greetingFile(row.number, kind, audio);
      mailbox.greetings[kind] = path;
      try {
        if (await materialise(this.pool, audio, path)) await this.dropStaleGreetings(row.number, kind, path);
      } catch (err) {
        // The player falls back to the system greeting (apps/voicemail/deposit.ts) when the file is missing.
        this.logger?.error({ err, mailbox: row.number, kind }, 'greeting not fetched from the store');
      }
    }
    return mailbox;
  }

  /** A cached record with the greetings this host has cached (the player falls back when a file is missing). */
  private withCachedGreetings(row: FullMailboxRow): Mailbox {
    const mailbox = toMailbox(row, row.aliases, [], this.layout);
    for (const { kind, audio } of row.greetings) mailbox.greetings[kind] = this.greetingFile(row.number, kind, audio);
    return mailbox;
  }

  /** Removes cached copies of a greeting other than `keep` (re-recorded or deleted, here or on another host). */
  private async dropStaleGreetings(mailbox: string, kind: GreetingKind, keep: string | undefined): Promise<void> {
    const dir = join(this.layout.greetingsDir, mailbox);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (name.startsWith(`${kind}-`) && join(dir, name) !== keep) await unlinkIfExists(join(dir, name));
    }
  }

  private async messageRow(id: string): Promise<(MessageRow & { audio_id: string }) | undefined> {
    return (await this.pool.query<MessageRow & { audio_id: string }>('SELECT * FROM messages WHERE id = $1', [id])).rows[0];
  }

  /** A message's audio fetched to this host's cache when missing; failures logged (the player reports them). */
  private async cacheMessage(row: MessageRow & { audio_id: string }): Promise<void> {
    try {
      await materialise(this.pool, row.audio_id, messageAudioPath(this.layout, row.mailbox, row.id));
    } catch (err) {
      this.logger?.error({ err, id: row.id, mailbox: row.mailbox }, 'message audio not fetched from the store');
    }
  }

  /** Who has this number already, as a mailbox number or an alias. */
  private async ownerOf(db: Queryable, number: string): Promise<string | undefined> {
    const result = await db.query<{ owner: string }>(
      'SELECT number AS owner FROM mailboxes WHERE number = $1 UNION ALL SELECT mailbox FROM aliases WHERE alias = $1 LIMIT 1',
      [number],
    );
    return result.rows[0]?.owner;
  }

  private async insertMailbox(db: Queryable, spec: MailboxSpec, pinHash: string): Promise<void> {
    const owner = await this.ownerOf(db, spec.number);
    if (owner !== undefined) throw new NumberInUseError(spec.number, owner);
    await this.uniquely(spec.number, () =>
      db.query('INSERT INTO mailboxes (number, name, email, pin_hash, created_at) VALUES ($1, $2, $3, $4, $5)', [
        spec.number,
        spec.name,
        spec.email ?? null,
        pinHash,
        Date.now(),
      ]),
    );
    const { name: _name, email: _email, ...rest } = specValues(spec);
    await this.patchRow(db, spec.number, rest);
  }

  /**
   * Inside a transaction: sets the fields of `patch` on an existing mailbox (aliases replaced whole;
   * failedLogins: 0 clears the PIN back-off) and records the change for other hosts.
   */
  private async patchRow(db: Queryable, number: string, patch: Partial<Omit<Mailbox, 'number' | 'pinHash'>>): Promise<void> {
    const sets: string[] = [];
    const values: (string | number | null)[] = [];
    for (const [key, [column, convert]] of Object.entries(MAILBOX_PATCH_COLUMNS)) {
      if (!Object.hasOwn(patch, key)) continue;
      values.push(convert((patch as Record<string, unknown>)[key]));
      sets.push(`${column} = $${values.length}`);
    }
    if (sets.length > 0) await db.query(`UPDATE mailboxes SET ${sets.join(', ')} WHERE number = $${values.length + 1}`, [...values, number]);
    if (patch.failedLogins === 0) await this.pinFailures.clear(mailboxBackoffKey(number), db);
    if (patch.aliases !== undefined) {
      for (const alias of patch.aliases) checkNumber(alias, 'alias');
      await this.replaceAliases(db, number, patch.aliases);
    }
    await this.logChange(db, number, 'mailbox');
  }

  /** Rejects an alias that is another mailbox's number or alias. */
  private async replaceAliases(db: Queryable, number: string, aliases: readonly string[]): Promise<void> {
    await db.query('DELETE FROM aliases WHERE mailbox = $1', [number]);
    for (const alias of new Set(aliases)) {
      const owner = await this.ownerOf(db, alias);
      if (owner !== undefined) throw new NumberInUseError(alias, owner);
      await this.uniquely(alias, () => db.query('INSERT INTO aliases (alias, mailbox) VALUES ($1, $2)', [alias, number]));
    }
  }

  /** A unique violation (another host took the number between the check and the insert) as NumberInUseError. */
  private async uniquely(number: string, insert: () => Promise<unknown>): Promise<void> {
    try {
      await insert();
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw new NumberInUseError(number, (await this.mailboxNumber(number)) ?? number);
      throw err;
    }
  }

  private async hasRoomFor(row: MailboxRow): Promise<boolean> {
    try {
      return await this.roomFor(row);
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      return true; // kept by store() below; see hasRoom
    }
  }

  private roomFor(row: MailboxRow): Promise<boolean> {
    return roomIn(this.pool, row.number, quotaOf(row, this.opts));
  }

  /** One UPDATE of a message with its change row, in one statement; $1 is the id, $2 the origin. */
  private async changeMessage(id: string, set: string, values: unknown[]): Promise<void> {
    const result = await this.pool.query<{ mailbox: string }>(
      `WITH u AS (UPDATE messages SET ${set} WHERE id = $1 RETURNING mailbox)
       INSERT INTO mailbox_changes (mailbox, kind, origin) SELECT mailbox, 'counts', $2 FROM u RETURNING mailbox`,
      [id, this.origin, ...values],
    );
    const mailbox = result.rows[0]?.mailbox;
    if (mailbox === undefined) throw new NoSuchMessageError(id);
    await this.announce(mailbox);
  }

  /** Deletes messages (their audio goes by trigger) with their change rows, then their cached files. */
  private async removeWhere(where: string, values: unknown[]): Promise<number> {
    const result = await this.pool.query<{ id: string; mailbox: string }>(
      `WITH d AS (DELETE FROM messages WHERE ${where} RETURNING id, mailbox),
            c AS (INSERT INTO mailbox_changes (mailbox, kind, origin) SELECT DISTINCT mailbox, 'counts', $1 FROM d)
       SELECT id, mailbox FROM d`,
      [this.origin, ...values],
    );
    const folders = new Set<string>();
    for (const { id, mailbox } of result.rows) {
      if (await unlinkIfExists(messageAudioPath(this.layout, mailbox, id))) folders.add(mailbox);
    }
    for (const mailbox of folders) await fsyncDir(join(this.layout.messagesDir, mailbox)).catch(() => undefined);
    for (const mailbox of new Set(result.rows.map((r) => r.mailbox))) await this.announce(mailbox);
    return result.rows.length;
  }

  private async countsOf(mailbox: string): Promise<MessageCounts> {
    const rows = (await this.pool.query<{ folder: 'new' | 'saved'; urgent: number; n: number }>(
      `SELECT folder, urgent, COUNT(*) AS n FROM messages WHERE mailbox = $1 AND ${IN_BOX} GROUP BY folder, urgent`,
      [mailbox],
    )).rows;
    const counts: MessageCounts = { new: 0, saved: 0, urgentNew: 0, urgentSaved: 0 };
    for (const r of rows) {
      counts[r.folder] += r.n;
      if (r.urgent) counts[r.folder === 'new' ? 'urgentNew' : 'urgentSaved'] += r.n;
    }
    return counts;
  }

  private async logChange(db: Queryable, mailbox: string, kind: ChangeKind): Promise<void> {
    await db.query('INSERT INTO mailbox_changes (mailbox, kind, origin) VALUES ($1, $2, $3)', [mailbox, kind, this.origin]);
  }

  /** A mailbox created, changed or removed, here or on another host: announced, and read again into the cache. */
  private announceMailbox(number: string): void {
    this.refreshCachedMailbox(number);
    this.emitSafely('mailbox', [number]);
  }

  /**
   * Emits 'counts' with fresh counts, when anyone listens (a count query per change otherwise wasted). Never
   * rejects. Awaited by the method that made the change: its listeners have heard of it when it resolves, as
   * with SQLite.
   */
  private async announce(mailbox: string): Promise<void> {
    if (this.events.listenerCount('counts') === 0) return;
    try {
      this.emitSafely('counts', [mailbox, await this.countsOf(mailbox)]);
    } catch (err) {
      this.logger?.warn({ err, mailbox }, 'counts not read for an event');
    }
  }

  private emitSafely<K extends keyof StoreEvents>(event: K, args: StoreEvents[K]): void {
    emitSafely(this.events, event, args, (err) => this.logger?.error({ err, mailbox: args[0] }, `a '${event}' listener threw`));
  }
}
