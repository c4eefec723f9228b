/**
 * Changes made by other processes and hosts, heard through PostgreSQL LISTEN/NOTIFY (issue 10: "changes reach
 * every host"). Writers insert a mailbox_changes row in the transaction that makes a change; its trigger
 * NOTIFYs at commit (schema.ts). This listener holds one dedicated connection (not a pool client: LISTEN is
 * a session's state), reports other instances' changes, and keeps itself alive:
 *
 * - A lost connection (PostgreSQL restarted, network cut) is noticed by the error, or by a heartbeat query
 *   every heartbeatMs, and re-opened with back-off (250 ms doubling to 5 s).
 * - NOTIFYs sent while it was away are lost, so after re-connecting it reads mailbox_changes since the last
 *   database time it had seen (less CATCH_UP_SLACK_MS for transactions that wrote their row before and
 *   committed after) and reports those mailboxes: at worst a mailbox is announced twice, never missed.
 * - It trims rows older than KEEP_MS now and then (any host may; concurrent trims are harmless).
 */
import type { Logger } from 'pino';
import pg from 'pg';
import type { ChangeKind } from '../change-feed.js';
import { CHANGE_CHANNEL, DB_NOW_MS } from './schema.js';

export interface Change {
  mailbox: string;
  kind: ChangeKind;
}

export interface ChangeListenerOptions {
  /** Client settings for the dedicated connection (connection.ts clientConfig). */
  client: pg.ClientConfig;
  /** This store instance's origin: its own changes are announced when made, not heard back. */
  origin: string;
  /** Other instances' changes, deduplicated per batch. */
  onChanges(changes: readonly Change[]): void;
  /**
   * Each time the connection is (re-)opened and listening: what the process keeps from the database may have
   * missed changes older than the catch-up reaches (postgres.ts reads its mailbox cache again).
   */
  onConnected?(): void;
  logger?: Logger;
  /** Heartbeat query interval, ms. Default 5000. */
  heartbeatMs?: number;
}

/** application_name of the listener's connection. */
export const LISTENER_APPLICATION_NAME = 'vmpilot-change-listener';

/** Transactions' rows written this long before the last time seen are read again after a reconnect. */
const CATCH_UP_SLACK_MS = 10_000;
/** Change rows are kept this long. */
const KEEP_MS = 10 * 60_000;
const TRIM_EVERY_MS = 60_000;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5000;

interface Notice {
  mailbox: string;
  kind: ChangeKind;
  origin: string;
  at: number;
}

export class ChangeListener {
  private client: pg.Client | undefined;
  private stopped = false;
  /** The latest database time known to be heard up to (ms); 0 until the first connection. */
  private lastAt = 0;
  private retryMs = RETRY_MIN_MS;
  private heartbeat: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastTrim = 0;
  private pending = new Map<string, Change>();
  private flushScheduled = false;
  /** Times the connection was re-opened (tests and logs). */
  reconnects = 0;

  constructor(private readonly opts: ChangeListenerOptions) {}

  /** Connects and listens; rejects if the first connection fails (the store's open reports it). */
  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    // Named, so that an administrator (and a test) can tell it in pg_stat_activity.
    const client = new pg.Client({ ...this.opts.client, application_name: LISTENER_APPLICATION_NAME });
    // Errors on an idle connection arrive as events; without a listener they would crash the process.
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    client.on('notification', (msg) => this.heard(msg.payload));
    await client.connect();
    try {
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
      const now = await this.dbNow(client);
      if (this.lastAt > 0) await this.catchUp(client, this.lastAt - CATCH_UP_SLACK_MS);
      this.lastAt = Math.max(this.lastAt, now);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.retryMs = RETRY_MIN_MS;
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => void this.beat(client), this.opts.heartbeatMs ?? 5000);
    this.heartbeat.unref();
    this.opts.onConnected?.();
  }

  private async dbNow(client: pg.Client): Promise<number> {
    const result = await client.query<{ now: number }>(`SELECT ${DB_NOW_MS} AS now`);
    return result.rows[0]!.now;
  }

  /** Reads changes committed while no NOTIFY could reach us. */
  private async catchUp(client: pg.Client, since: number): Promise<void> {
    const result = await client.query<Change>(
      'SELECT DISTINCT mailbox, kind FROM mailbox_changes WHERE at >= $1 AND origin <> $2',
      [since, this.opts.origin],
    );
    this.opts.logger?.info({ changes: result.rows.length }, 'change feed re-connected; changes made meanwhile announced');
    if (result.rows.length > 0) this.opts.onChanges(result.rows);
  }

  private async beat(client: pg.Client): Promise<void> {
    if (client !== this.client) return;
    try {
      // The time only moves forward once every NOTIFY committed before it was delivered: notifications are
      // delivered in commit order ahead of this query's answer on the same connection.
      this.lastAt = Math.max(this.lastAt, await this.dbNow(client));
      if (this.lastAt - this.lastTrim > TRIM_EVERY_MS) {
        this.lastTrim = this.lastAt;
        await client.query('DELETE FROM mailbox_changes WHERE at < $1', [this.lastAt - KEEP_MS]);
      }
    } catch (err) {
      this.lost(client, err as Error);
    }
  }

  private heard(payload: string | undefined): void {
    let notice: Notice;
    try {
      notice = JSON.parse(payload ?? '') as Notice;
    } catch {
      return;
    }
    if (typeof notice.at === 'number') this.lastAt = Math.max(this.lastAt, notice.at);
    if (notice.origin === this.opts.origin) return;
    this.pending.set(`${notice.kind} ${notice.mailbox}`, { mailbox: notice.mailbox, kind: notice.kind });
    // A burst (a purge of many messages, several commits at once) is announced once per mailbox.
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const changes = [...this.pending.values()];
      this.pending.clear();
      this.opts.onChanges(changes);
    });
  }

  private lost(client: pg.Client, err: Error): void {
    if (client !== this.client || this.stopped) return;
    this.client = undefined;
    clearInterval(this.heartbeat);
    client.end().catch(() => undefined);
    this.opts.logger?.warn({ err: err.message }, 'change feed connection lost; re-connecting');
    this.retry();
  }

  private retry(): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.connect().then(
        () => {
          this.reconnects++;
          this.opts.logger?.info('change feed re-connected');
        },
        (err: unknown) => {
          this.opts.logger?.debug({ err: (err as Error).message }, 'change feed re-connect failed');
          this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
          this.retry();
        },
      );
    }, this.retryMs);
    this.retryTimer.unref();
  }
}
