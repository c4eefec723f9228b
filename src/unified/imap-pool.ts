/**
 * A bounded pool of IMAP connections, one per IMAP user at most, each logged in and holding the watched folder
 * open. While a connection is not running a command it IDLEs (RFC 2177; imapflow starts IDLE after
 * autoIdleDelayMs), so the mailboxes used most recently hear their changes at once; a change reported there
 * (FETCH FLAGS, EXPUNGE, EXISTS) is passed to onActivity. When a new user needs a connection and the pool is
 * full, the one used least recently and not busy is logged out: the sweep (imap-sync.ts) covers the mailboxes
 * that lost their IDLE.
 *
 * Commands on one connection run one at a time (use() chains them), so a caller never interleaves its
 * SEARCH/FETCH/STORE with another's.
 *
 * once() is for the sweep: it uses the user's held connection if there is one, else a connection of its own
 * that is logged out afterwards and never enters the pool, so sweeping 10,000 mailboxes does not push the
 * recently active ones out of IDLE. The sweep bounds how many once() run at a time.
 *
 * Not here: what the commands mean (imap-sync.ts), logins (which user, which password: imap-sync.ts).
 */
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import type { Logger } from 'pino';
import type { ImapLogin, UnifiedImapConfig } from '../config/unified-schema.js';

export interface ImapPoolOptions {
  /** Idle time before IDLE starts, ms (imapflow's autoIdleDelay, default 15 s there). Default 200. */
  autoIdleDelayMs?: number;
  /** Connect, greeting and socket timeouts, ms. Default 30 000. */
  timeoutMs?: number;
}

interface Entry {
  user: string;
  client: ImapFlow;
  ready: Promise<void>;
  /** The tail of this connection's command chain. */
  tail: Promise<unknown>;
  busy: number;
  lastUsed: number;
}

export class ImapPool {
  private readonly entries = new Map<string, Entry>();
  private readonly waiters: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly config: UnifiedImapConfig,
    private readonly logger: Logger,
    /** A change was reported on this user's connection (IDLE), or the connection was lost (`lost`). */
    private readonly onActivity: (user: string, lost: boolean) => void,
    private readonly opts: ImapPoolOptions = {},
  ) {}

  /** Connections open now. */
  get size(): number {
    return this.entries.size;
  }

  /** Runs fn on this user's connection (opened if needed), after the commands queued on it. */
  async use<T>(login: ImapLogin, fn: (client: ImapFlow) => Promise<T>): Promise<T> {
    const entry = await this.acquire(login);
    entry.busy++;
    const run = entry.tail.then(async () => {
      await entry.ready;
      return fn(entry.client);
    });
    entry.tail = run.catch(() => undefined);
    try {
      return await run;
    } finally {
      entry.busy--;
      entry.lastUsed = Date.now();
      this.release();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(entries.map((e) => this.logout(e)));
    for (const wake of this.waiters.splice(0)) wake();
  }

  private async acquire(login: ImapLogin): Promise<Entry> {
    for (;;) {
      if (this.closed) throw new Error('IMAP pool closed');
      // An entry in the map is connecting or open: a lost or failed connection removes itself ('close', ready).
      const found = this.entries.get(login.user);
      if (found) return found;
      if (this.entries.size < this.config.maxConnections) return this.open(login);
      // Full: the least recently used connection with nothing queued makes room; none: wait for one.
      const idle = [...this.entries.values()].filter((e) => e.busy === 0).sort((a, b) => a.lastUsed - b.lastUsed)[0];
      if (idle) {
        this.drop(idle);
        void this.logout(idle);
        continue;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Runs fn on the user's held connection if any, else on a one-off connection (not held, not IDLEing). */
  async once<T>(login: ImapLogin, fn: (client: ImapFlow) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('IMAP pool closed');
    if (this.entries.has(login.user)) return this.use(login, fn);
    const client = this.client(login);
    client.on('error', (err: Error) => this.logger.warn({ user: login.user, err: err.message }, 'IMAP connection error'));
    try {
      await client.connect();
      await client.mailboxOpen(this.config.folder);
      return await fn(client);
    } finally {
      await client.logout().catch(() => client.close());
    }
  }

  private client(login: ImapLogin): ImapFlow {
    const c = this.config;
    const options: ImapFlowOptions & { doSTARTTLS?: boolean } = {
      host: c.host,
      port: c.port,
      secure: c.tls === 'implicit',
      // imapflow: true requires STARTTLS, false never tries it (not in its typings).
      doSTARTTLS: c.tls === 'starttls' ? true : c.tls === 'none' ? false : undefined,
      tls: { rejectUnauthorized: c.rejectUnauthorized },
      auth: { user: login.user, pass: login.password },
      logger: false,
      autoIdleDelay: this.opts.autoIdleDelayMs ?? 200,
      connectionTimeout: this.opts.timeoutMs ?? 30_000,
      greetingTimeout: this.opts.timeoutMs ?? 30_000,
    };
    return new ImapFlow(options);
  }

  private open(login: ImapLogin): Entry {
    const c = this.config;
    const client = this.client(login);
    const entry: Entry = { user: login.user, client, ready: Promise.resolve(), tail: Promise.resolve(), busy: 0, lastUsed: Date.now() };
    const changed = (): void => this.onActivity(login.user, false);
    client.on('flags', changed);
    client.on('expunge', changed);
    client.on('exists', changed);
    // An 'error' without a listener would throw from the emitter and end the process.
    client.on('error', (err: Error) => this.logger.warn({ user: login.user, err: err.message }, 'IMAP connection error'));
    client.on('close', () => {
      if (this.entries.get(login.user) !== entry) return;
      this.drop(entry);
      if (!this.closed) this.onActivity(login.user, true);
    });
    entry.ready = (async () => {
      await client.connect();
      await client.mailboxOpen(c.folder);
    })();
    entry.ready.catch(() => {
      // A failed connect: the use() that waits on it rejects; the next one opens a new connection.
      this.drop(entry);
      client.close();
    });
    this.entries.set(login.user, entry);
    return entry;
  }

  private drop(entry: Entry): void {
    if (this.entries.get(entry.user) === entry) this.entries.delete(entry.user);
    this.release();
  }

  private release(): void {
    this.waiters.shift()?.();
  }

  private async logout(entry: Entry): Promise<void> {
    try {
      await entry.tail;
      await entry.client.logout();
    } catch {
      entry.client.close();
    }
  }
}
