/**
 * Leadership among hosts that share one PostgreSQL store: the leader is whoever holds a session-level advisory
 * lock (PostgreSQL §13.3.5, pg_try_advisory_lock) on a connection of its own, used for nothing else.
 *
 *  - A follower tries the lock every `retryMs` (default 1 s) on its connection; the try never waits.
 *  - The leader checks its connection every `checkMs` (default 1 s) with `SELECT 1`.
 *  - The lock lives exactly as long as the session: the leader that dies (SIGKILL, crash) loses its TCP
 *    connection, PostgreSQL ends the session and frees the lock at once, and a follower has it at its next try
 *    (takeover within retryMs).
 *  - Losing the connection (error, end, a check not answered within `stepDownMs`, default 2 s) is losing
 *    leadership: onChange(false) is told at once, before anything else, and the connection is dropped.
 *  - A leader cut off from the database by the network (no FIN, no RST) still has a session there until the
 *    server notices. So that the server frees the lock soon enough, and never before this leader has stepped
 *    down, the leader's session sets idle_session_timeout (PostgreSQL 14+) to `checkMs + stepDownMs + 1 s`.
 *    Counted from the last answer the leader had (t0): its next check leaves at t0 + checkMs at the latest and
 *    is given up stepDownMs later, so it has stepped down by t0 + checkMs + stepDownMs; the server, which has
 *    heard nothing since t0, ends the session a second after that; a follower takes the lock at its next try.
 *    A takeover within checkMs + stepDownMs + 1 s + retryMs of the cut: 5 s with the defaults.
 *
 * Not here: what the leader does (mwi/while-leader.ts), the store's own connections (store/postgres.ts).
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { Leadership, LeadershipOptions } from './leadership.js';

/**
 * The advisory lock's two keys (pg_try_advisory_lock(int4, int4)): a namespace for vmpilot's locks ("vmpi" in
 * ASCII) and the lock of the MWI sender (2 is the directory sync's: directory/sync-lock.ts). Another application's int8 locks do not collide with two-key ones.
 */
export const LOCK_NAMESPACE = 0x766d7069;
export const MWI_SENDER_LOCK = 1;

export interface PgLeadershipOptions extends LeadershipOptions {
  /** postgres://... (storage.url), or a pg client config. */
  connection: string | pg.ClientConfig;
  logger: Logger;
  /** The lock competed for. Default MWI_SENDER_LOCK. */
  lock?: number;
  /** How often a follower tries the lock, ms. Default 1000. */
  retryMs?: number;
  /** How often the leader checks its connection, ms. Default 1000. */
  checkMs?: number;
  /** The leader steps down when a check has not been answered for this long, ms. Default 2000. */
  stepDownMs?: number;
}

enum Role {
  /** Not started yet. */
  New = 'new',
  /** Trying the lock every retryMs. */
  Following = 'following',
  /** Holds the lock; checks its connection every checkMs. */
  Leading = 'leading',
  /** stop() was called; nothing runs any more. */
  Stopped = 'stopped',
}

export class PgLeadership implements Leadership {
  private role = Role.New;
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly retryMs: number;
  private readonly checkMs: number;
  private readonly stepDownMs: number;
  private readonly lock: number;
  private readonly log: Logger;
  /** The last try failed to reach PostgreSQL (warned once until a try gets through). */
  private unreachable = false;
  /** The tick in progress (stop() waits for it). */
  private running: Promise<void> | undefined;

  constructor(private readonly opts: PgLeadershipOptions) {
    this.retryMs = opts.retryMs ?? 1000;
    this.checkMs = opts.checkMs ?? 1000;
    this.stepDownMs = opts.stepDownMs ?? 2000;
    this.lock = opts.lock ?? MWI_SENDER_LOCK;
    this.log = opts.logger.child({ leadership: 'postgres', lock: this.lock });
  }

  get leader(): boolean {
    return this.role === Role.Leading;
  }

  start(): void {
    if (this.role !== Role.New) return;
    this.role = Role.Following;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    if (this.role === Role.Stopped) return;
    const wasLeader = this.leader;
    this.role = Role.Stopped;
    clearTimeout(this.timer);
    // Told before the lock is freed (the session ends below): the work stops before another host can start it.
    if (wasLeader) this.tell(false);
    await this.running;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private schedule(ms: number): void {
    if (this.role === Role.Stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
        this.schedule(this.leader ? this.checkMs : this.retryMs);
      });
    }, ms);
    this.timer.unref();
  }

  /** One try of the lock (follower) or one check of the connection (leader). Never throws. */
  private async tick(): Promise<void> {
    try {
      const client = this.client ?? (await this.connect());
      this.unreachable = false;
      if (this.role === Role.Leading) {
        await client.query('SELECT 1');
        return;
      }
      const res = await client.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS got', [LOCK_NAMESPACE, this.lock]);
      if (!res.rows[0]?.got) return;
      if (this.role !== Role.Following || client !== this.client) {
        // Stopped (or the connection dropped) while the try was out: the session's end frees what it got.
        return;
      }
      this.role = Role.Leading;
      this.log.info('leader: this host now sends MWI');
      this.tell(true);
    } catch (err) {
      this.drop(err);
    }
  }

  private async connect(): Promise<pg.Client> {
    const base = typeof this.opts.connection === 'string' ? { connectionString: this.opts.connection } : this.opts.connection;
    const client = new pg.Client({
      ...base,
      application_name: 'vmpilot-leadership',
      connectionTimeoutMillis: this.stepDownMs,
      // A check that gets no answer fails after stepDownMs (the leader steps down), instead of waiting for TCP.
      query_timeout: this.stepDownMs,
      keepAlive: true,
    });
    // An error or end while leading is losing the lock: told at once, not at the next check.
    client.on('error', (err) => this.drop(err, client));
    client.on('end', () => this.drop(new Error('connection to PostgreSQL ended'), client));
    this.client = client;
    try {
      await client.connect();
      // The server ends this session when it hears nothing for longer than the leader takes to step down.
      await client.query(`SET idle_session_timeout = ${Math.round(this.checkMs + this.stepDownMs + 1000)}`).catch((err: { code?: string }) => {
        // 42704, unrecognized configuration parameter: before PostgreSQL 14. A leader cut off by the network then
        // keeps the lock until the server's TCP keepalive gives up on it.
        if (err.code !== '42704') throw err;
        this.log.warn('PostgreSQL before 14: no idle_session_timeout; a leader cut off by the network is replaced only after TCP keepalive');
      });
    } catch (err) {
      if (this.client === client) this.client = undefined;
      client.end().catch(() => undefined);
      throw err;
    }
    return client;
  }

  /** The connection is lost or unusable: a leader stops leading now; the next tick connects again. */
  private drop(err: unknown, which?: pg.Client): void {
    const client = this.client;
    if (which !== undefined && which !== client) return;
    this.client = undefined;
    if (this.role === Role.Leading) {
      this.role = Role.Following;
      this.log.warn({ err }, 'leadership lost with the connection to PostgreSQL: this host stops sending MWI');
      this.tell(false);
    } else if (this.role === Role.Following) {
      // Once per outage at warn (no host may be sending MWI now); the retries after it at debug.
      if (!this.unreachable) this.log.warn({ err }, 'leadership: PostgreSQL not reachable; trying again every retry interval');
      else this.log.debug({ err }, 'leadership: PostgreSQL still not reachable');
      this.unreachable = true;
    }
    // Its 'error' and 'end' listeners stay: they now see a client that is no longer this.client and do nothing.
    client?.end().catch(() => undefined);
  }

  private tell(leader: boolean): void {
    try {
      this.opts.onChange(leader);
    } catch (err) {
      this.log.error({ err, leader }, 'leadership change handler failed');
    }
  }
}
