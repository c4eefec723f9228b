/**
 * Deposits into the PostgreSQL store (postgres.ts says what a deposit is): the commit straight from the
 * recording, the durable local placement when the database cannot be reached, the retries of kept deposits,
 * and the commit of a placed deposit (kept, or interrupted by a crash) for repair.
 *
 * Not here: the mailbox look-up and quota (postgres.ts deposit()), the files' order (message-files.ts).
 */
import { mkdir, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type pg from 'pg';
import type { Logger } from 'pino';
import { unlinkIfExists } from '../audio-files.js';
import { depositMailJob, type DepositMailOptions } from '../deposit-mail.js';
import { enqueueAppend } from './leader-tables.js';
import { messageAudioPath, messageSidecarPath, type StoreLayout } from '../layout.js';
import { depositMeta, forgetRecording, placeMessage } from '../message-files.js';
import { readMessageSidecar, type MessageSidecar } from '../message-sidecar.js';
import { quarantine, type RepairResult } from '../repair.js';
import { sidecarRow, toMessage, type MessageRow } from '../rows.js';
import type { KeyedQueue } from '../store-rules.js';
import { MailboxFullError, type MessageRecord, type NewMessage } from '../types.js';
import { cacheFile, insertAudio, readRecording, sha256Hex } from './audio.js';
import { inTransaction, isConnectionError } from './connection.js';
import { enqueueMailIn } from './mail-queue.js';
import { lockedRoomIn, type QuotaLimits } from './quota.js';

/** What deposits need from the store. */
export interface DepositHost {
  pool: pg.Pool;
  layout: StoreLayout;
  logger: Logger | undefined;
  /** The store's origin in change rows. */
  origin: string;
  /** The store's per-mailbox queue: deposits and commits of one mailbox one after the other. */
  queue: KeyedQueue;
  /** How often kept deposits are tried again, ms. Default 2000. */
  retryKeptMs?: number;
  /** Queue each deposit's new-message mail in its commit (deposit-mail.ts). Default: no mail queued. */
  depositMail?: DepositMailOptions;
  /** Queue each deposit's IMAP append in its commit (unified messaging on: unified/append-drain.ts). Default false. */
  depositImapAppend?: boolean;
  mailboxNumber(numberOrAlias: string): Promise<string | undefined>;
  /** Emits the mailbox's counts (awaited: listeners have heard when a deposit resolves). */
  announce(mailbox: string): Promise<void>;
  /** Emits 'mailQueued': a commit queued the mailbox's new-message mail (types.ts StoreEvents). */
  mailQueued(mailbox: string): void;
}

export class PgDeposits {
  /** Deposits placed but not committed because the database was unreachable: "<folder>/<id>". */
  private readonly kept = new Set<string>();
  private keptTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly host: DepositHost) {}

  /** Deposits kept on this host's disk, waiting for the database. */
  get keptCount(): number {
    return this.kept.size;
  }

  /**
   * This host renumbered a mailbox (in its deposit queue): its folder moved, kept deposits with it (their sidecars
   * relabelled, mailbox-renumber.ts), so they are tried under the new number.
   */
  renumbered(from: string, to: string): void {
    for (const key of [...this.kept]) {
      const [folder, id] = key.split('/') as [string, string];
      if (folder !== from) continue;
      this.kept.delete(key);
      this.kept.add(`${to}/${id}`);
    }
  }

  /** This host deleted a mailbox: its kept deposits were moved to orphans/ with its folder (mailbox-removal.ts). */
  mailboxRemoved(number: string): void {
    for (const key of [...this.kept]) if (key.startsWith(`${number}/`)) this.kept.delete(key);
  }

  /** Stops retrying kept deposits (they stay on disk: repair commits them at the next start). */
  stop(): void {
    this.stopped = true;
    clearInterval(this.keptTimer);
  }

  /**
   * The deposit: the recording's audio and row committed in one transaction, then the recording becomes this
   * host's cached copy (no local fsync: the database holds the message). When the database cannot be reached,
   * the message is placed durably with its sidecar (message-files.ts) and kept for later. `opts.kept`: do not
   * try the database now (it was just found unreachable). `opts.dedupe` (repair): a recording already stored (a
   * crash after the commit, before its sidecar in tmp/ was removed) is not stored twice. `opts.quota`: checked in
   * the commit under the mailbox's row lock (pg/quota.ts); a full mailbox rejects with MailboxFullError.
   */
  async store(folder: string, message: NewMessage, opts: { kept?: Error; dedupe?: boolean; quota?: QuotaLimits } = {}): Promise<MessageRecord> {
    const meta = depositMeta(folder, message);
    const data = await readRecording(message.audioFile);
    let unreachable = opts.kept;
    if (!unreachable) {
      try {
        const stored = opts.dedupe ? await this.storedAlready(meta, data) : undefined;
        if (stored) {
          if (!message.keepAudioFile) await unlinkIfExists(message.audioFile);
          await forgetRecording(this.host.layout, message);
          return stored;
        }
        await this.commit(meta, data, opts.quota);
      } catch (err) {
        // Any other error: the recording stays in tmp/ with its sidecar, and repair delivers it at the next start.
        if (!isConnectionError(err)) throw err;
        unreachable = err as Error;
      }
    }
    if (unreachable) {
      await placeMessage(this.host.layout, folder, message, meta.id);
      await forgetRecording(this.host.layout, message);
      this.keep(folder, meta.id, unreachable);
      return toMessage(sidecarRow(meta), this.host.layout);
    }
    await cacheFile(message.audioFile, messageAudioPath(this.host.layout, folder, meta.id), message.keepAudioFile === true).catch((err: unknown) =>
      // Stored all the same; the cache is fetched again when needed (and repair removes a loose recording).
      this.host.logger?.warn({ err, id: meta.id }, 'recording not kept as the cached copy'),
    );
    await forgetRecording(this.host.layout, message);
    await this.host.announce(folder);
    return toMessage(sidecarRow(meta), this.host.layout);
  }

  /** The message a recording was already stored as: same mailbox, same start, same audio (its SHA-256). */
  private async storedAlready(meta: MessageSidecar, data: Buffer): Promise<MessageRecord | undefined> {
    const row = (
      await this.host.pool.query<MessageRow>(
        'SELECT m.* FROM messages m JOIN audio a ON a.id = m.audio_id WHERE m.mailbox = $1 AND m.received_at = $2 AND a.sha256 = $3 LIMIT 1',
        [meta.mailbox, meta.receivedAt, sha256Hex(data)],
      )
    ).rows[0];
    return row && toMessage(row, this.host.layout);
  }

  /**
   * Stores a message's audio and row with its change row and its new-message mail (deposit-mail.ts), in one
   * transaction; does nothing when the message is already stored (a retried commit: its mail was queued then).
   * The metadata's mailbox must be a mailbox number.
   */
  private async commit(meta: MessageSidecar, data: Buffer, quota?: QuotaLimits): Promise<void> {
    // The mails dropped to make room (the queue's cap), or undefined when no mail was queued.
    const dropped = await inTransaction(this.host.pool, async (db): Promise<number | undefined> => {
      if (quota && !(await lockedRoomIn(db, meta.mailbox, quota))) throw new MailboxFullError(meta.mailbox);
      if (!(await insertAudio(db, meta.id, data))) return undefined;
      const r = sidecarRow(meta);
      await db.query(
        `WITH m AS (
           INSERT INTO messages (id, mailbox, folder, caller, caller_name, received_at, duration_ms, urgent, heard, reason, forwarded_from, audio_id)
           VALUES ($1, $2, 'new', $3, $4, $5, $6, $7, 0, $8, $9, $1) RETURNING mailbox)
         INSERT INTO mailbox_changes (mailbox, kind, origin) SELECT mailbox, 'counts', $10 FROM m`,
        [r.id, r.mailbox, r.caller, r.caller_name, r.received_at, r.duration_ms, r.urgent, r.reason, r.forwarded_from, this.host.origin],
      );
      // Unified messaging: the append is queued exactly when the message is, whichever path commits it.
      if (this.host.depositImapAppend) await enqueueAppend(db, meta.id, meta.mailbox);
      const mail = this.host.depositMail;
      if (!mail || (await db.query("SELECT 1 FROM mailboxes WHERE number = $1 AND COALESCE(email, '') <> ''", [meta.mailbox])).rowCount === 0) return undefined;
      return enqueueMailIn(db, depositMailJob(meta), mail.maxQueued);
    });
    if (dropped) this.host.logger?.error({ dropped }, 'notification queue full; oldest mail dropped');
    // Committed: the sender may claim it now.
    if (dropped !== undefined) this.host.mailQueued(meta.mailbox);
  }

  /** A deposit placed but not committed (the database unreachable): tried again every retryKeptMs. */
  private keep(folder: string, id: string, err: Error): void {
    this.host.logger?.warn({ err: err.message, id, mailbox: folder }, 'store unreachable; message kept on this host until it is back');
    this.kept.add(`${folder}/${id}`);
    if (this.keptTimer) return;
    this.keptTimer = setInterval(() => void this.commitKept(), this.host.retryKeptMs ?? 2000);
    this.keptTimer.unref();
  }

  private async commitKept(): Promise<void> {
    for (const key of [...this.kept]) {
      if (this.stopped) return;
      const [folder, id] = key.split('/') as [string, string];
      try {
        // In the mailbox's queue, behind a renumber of it on this host, which moves the key (renumbered()).
        await this.host.queue.run(folder, async () => {
          if (this.kept.has(key)) await this.commitPlaced(folder, id, undefined);
        });
        this.kept.delete(key);
        this.host.logger?.info({ id, mailbox: folder }, 'kept message committed');
      } catch (err) {
        if (isConnectionError(err)) return; // still down: the next tick tries again
        this.kept.delete(key);
        this.host.logger?.error({ err, id, mailbox: folder }, 'kept message not committed; left for repair at the next start');
      }
    }
    if (this.kept.size === 0) {
      clearInterval(this.keptTimer);
      this.keptTimer = undefined;
    }
  }

  /**
   * Commits a message placed under messages/<folder>/ with its sidecar (a kept deposit, or one a crash
   * interrupted): the sidecar's number is resolved (it may be an alias), the cached audio moved under the
   * mailbox's number, the sidecar removed. A message for no mailbox is quarantined. Returns the mailbox.
   */
  async commitPlaced(folder: string, id: string, result: RepairResult | undefined): Promise<string | undefined> {
    const wav = messageAudioPath(this.host.layout, folder, id);
    const sidecar = messageSidecarPath(this.host.layout, folder, id);
    const meta = await readMessageSidecar(sidecar);
    const mailbox = meta && meta.id === id ? await this.host.mailboxNumber(meta.mailbox) : undefined;
    if (!meta || mailbox === undefined) {
      const moved = await quarantine(this.host, folder, wav, `${id}.wav`);
      await quarantine(this.host, folder, sidecar, `${id}.json`).catch(() => undefined);
      result?.quarantined.push(moved);
      this.host.logger?.error({ file: wav, mailbox: meta?.mailbox ?? folder }, 'message for no mailbox quarantined');
      return undefined;
    }
    await this.commit({ ...meta, mailbox }, await readRecording(wav));
    if (mailbox !== folder) {
      const dest = messageAudioPath(this.host.layout, mailbox, id);
      await mkdir(dirname(dest), { recursive: true });
      await rename(wav, dest);
    }
    await unlinkIfExists(sidecar);
    await this.host.announce(mailbox);
    return mailbox;
  }
}
