/**
 * Unified messaging over IMAP (issue 12): each deposit is appended to its owner's IMAP folder as an email,
 * and read state flows both ways: \Seen or \Deleted (or an expunge) in the mail client marks the message
 * heard or deleted in the store, whose 'counts' event puts the lamp out (mwi/); listening or deleting by phone
 * sets \Seen or \Deleted in IMAP. The mechanics are seed 000's (Message Mirror): IMAP IDLE for events, a
 * periodic sweep for what events miss, a full compare after a lost connection.
 *
 * - Appends never delay a call: a deposit only queues its append, in the store (imap_appends), so that a
 *   restart or a change of leader loses none; the site's leader works the queue (append-drain.ts: a lease per
 *   append, back-off on IMAP errors). Before appending, the folder is searched for the message's header, so a
 *   retry after an APPEND whose answer was lost, or after a restart, does not make a duplicate.
 * - This runs on ONE host of a site, the leader (unified/configured.ts starts it while the host leads); its
 *   start is a full compare of every mailbox (the sweep), which is the catch-up after a change of leader.
 * - Every comparison is whole: one mailbox's messages against its folder's emails carrying
 *   X-Vmpilot-Message-Id (reconcile.ts decides; this file gathers and applies). Triggers: a store 'counts'
 *   event (a deposit, listening or deleting by phone, in this process or another), an IDLE event on a held
 *   connection, a lost connection (retried with back-off until the server answers: the catch-up), and the
 *   sweep every sweepSeconds over every mailbox with an IMAP login. Comparisons of one mailbox never overlap.
 * - Deleting by phone sets \Deleted and does NOT expunge: the store's 'deleted' folder can still be undone
 *   (by phone, until purge), an expunge cannot; the client's own expunge (or Dovecot's autoexpunge) removes
 *   the email, and a purge in the store sets \Deleted on whatever is left.
 *
 * Which login opens a mailbox: its own (`mailboxes[].imap`), else the site's master login as
 * `<user><separator><master>` (Dovecot master users), the user being the mailbox's email or number.
 */
import type { Logger } from 'pino';
import type { ImapFlow } from 'imapflow';
import type { ImapLogin, UnifiedImapConfig } from '../config/unified-schema.js';
import type { ImapAppendJob, Mailbox, MessageRecord, MessageStore } from '../store/types.js';
import { AppendDrain } from './append-drain.js';
import { ImapPool, type ImapPoolOptions } from './imap-pool.js';
import { MESSAGE_ID_HEADER, messageEmail } from './message-email.js';
import { reconcile, storeRead, type AgreedState, type ImapCopy, type SyncPlan } from './reconcile.js';

export interface UnifiedImapOptions extends ImapPoolOptions {
  config: UnifiedImapConfig;
  store: MessageStore;
  logger: Logger;
  /** Per-mailbox logins by mailbox number (mailboxes[].imap). */
  logins: ReadonlyMap<string, ImapLogin>;
  /** The emails' time zone (voicemail.timeZone). */
  timeZone: string;
  /** First retry delay of an append or a comparison, ms; doubles per failure. Default 500. */
  retryBaseMs?: number;
  /**
   * Longest retry delay, ms. Default 5000: the catch-up after an outage starts within 5 s of the server's
   * return, at the price of one login per 5 s per failing job or connection while it is away.
   */
  maxRetryMs?: number;
  /** Tries of one append before it is dropped. Default 720 (an hour at the longest delay). */
  maxAttempts?: number;
  /** How often the append queue is asked while nothing is due, ms (append-drain.ts). Default 1000. */
  appendPollMs?: number;
  /** Wait after a trigger before comparing, ms, so that a burst of events makes one comparison. Default 20. */
  debounceMs?: number;
}

export interface UnifiedImap {
  /** Queues the append of a stored message (in the store) and has it worked soon; returns at once. */
  onDeposit(message: MessageRecord): void;
  /** An append was queued (by this process): look at the queue now. */
  appendSoon(): void;
  /** Compares one mailbox now (tests, the CLI); rejects when IMAP cannot be reached. */
  syncMailbox(number: string): Promise<void>;
  /** Comparisons and appends done, for figures and tests. */
  readonly stats: { appends: number; comparisons: number; storeChanges: number; flagChanges: number };
  close(): Promise<void>;
}

/** Retries of a comparison triggered by an event before it is left to the sweep (about 40 s at the default delays). */
const MAX_COMPARE_RETRIES = 10;

const headerValue = (headers: Buffer | undefined): string | undefined => {
  const m = /^x-vmpilot-message-id:\s*(\S+)/im.exec(headers?.toString('utf8') ?? '');
  return m?.[1];
};

export function startUnifiedImap(opts: UnifiedImapOptions): UnifiedImap {
  const { config, store, timeZone } = opts;
  const log = opts.logger.child({ component: 'unified-imap' });
  const retryBaseMs = opts.retryBaseMs ?? 500;
  const maxRetryMs = opts.maxRetryMs ?? 5000;
  const maxAttempts = opts.maxAttempts ?? 720;
  const debounceMs = opts.debounceMs ?? 20;
  const startedAt = Date.now();
  const stats = { appends: 0, comparisons: 0, storeChanges: 0, flagChanges: 0 };

  /** Agreed states by mailbox number, then message id (reconcile.ts's base). Rebuilt by the first comparison. */
  const agreed = new Map<string, Map<string, AgreedState>>();
  /** Mailbox number by IMAP user (what an IDLE event on a connection is about). */
  const numberOfUser = new Map<string, string>();
  /** One mailbox's work (appends and comparisons) in order. */
  const chains = new Map<string, Promise<unknown>>();
  const scheduled = new Map<string, NodeJS.Timeout>();
  const failures = new Map<string, number>();
  let closed = false;
  let sweeping = false;

  const pool = new ImapPool(config, log, (user, lost) => {
    const number = numberOfUser.get(user);
    if (number === undefined) return;
    // A lost connection: compare again once it can be re-opened (the catch-up); an event: compare now.
    if (lost) log.warn({ mailbox: number }, 'IMAP connection lost; will reconnect and compare');
    schedule(number, lost ? retryBaseMs : debounceMs);
  }, opts);

  const drain = new AppendDrain({
    store,
    logger: log,
    append,
    // The comparison sets flags changed while the append waited (listened to by phone meanwhile).
    onAppended: (job) => schedule(job.mailbox, debounceMs),
    retryBaseMs,
    maxRetryMs,
    maxAttempts,
    pollMs: opts.appendPollMs,
  });
  const backoff = (attempts: number): number => drain.backoff(attempts);

  function loginFor(mailbox: Mailbox): ImapLogin | undefined {
    const own = opts.logins.get(mailbox.number);
    if (own) return own;
    const master = config.master;
    if (!master) return undefined;
    const user = config.userFrom === 'email' ? mailbox.email : mailbox.number;
    if (!user) return undefined;
    return { user: `${user}${config.masterSeparator}${master.user}`, password: master.password };
  }

  function serial<T>(number: string, task: () => Promise<T>): Promise<T> {
    const run = (chains.get(number) ?? Promise.resolve()).then(task);
    const tail = run.catch(() => undefined);
    chains.set(number, tail);
    void tail.then(() => {
      if (chains.get(number) === tail) chains.delete(number);
    });
    return run;
  }

  async function open(number: string): Promise<{ mailbox: Mailbox; login: ImapLogin } | undefined> {
    const mailbox = await store.findMailbox(number);
    const login = mailbox && loginFor(mailbox);
    if (!mailbox || !login) return undefined;
    numberOfUser.set(login.user, mailbox.number);
    return { mailbox, login };
  }

  async function copiesIn(client: ImapFlow): Promise<ImapCopy[]> {
    const uids = await client.search({ header: { [MESSAGE_ID_HEADER]: true } }, { uid: true });
    if (!uids || uids.length === 0) return [];
    const copies: ImapCopy[] = [];
    for await (const msg of client.fetch(uids, { uid: true, flags: true, headers: [MESSAGE_ID_HEADER] }, { uid: true })) {
      const id = headerValue(msg.headers);
      if (id) copies.push({ uid: msg.uid, id, seen: msg.flags?.has('\\Seen') ?? false, deleted: msg.flags?.has('\\Deleted') ?? false });
    }
    return copies;
  }

  async function applyFlags(client: ImapFlow, plan: SyncPlan): Promise<void> {
    for (const change of plan.imap) {
      const uid = String(change.uid);
      if (change.add.length > 0) await client.messageFlagsAdd(uid, change.add, { uid: true });
      if (change.remove.length > 0) await client.messageFlagsRemove(uid, change.remove, { uid: true });
      stats.flagChanges++;
    }
  }

  async function applyStore(plan: SyncPlan): Promise<void> {
    for (const change of plan.store) {
      try {
        if (change.action === 'heard') await store.markHeard(change.id);
        else await store.setFolder(change.id, change.folder);
        stats.storeChanges++;
      } catch (err) {
        // Purged or moved meanwhile: the next comparison sees what is there now.
        log.warn({ messageId: change.id, err: (err as Error).message }, 'store change from IMAP not applied');
      }
    }
  }

  /**
   * One whole comparison of a mailbox with its folder (serialised per mailbox). `sweep`: on a one-off
   * connection unless the mailbox holds one (pool.once), so that the sweep leaves the IDLE connections alone.
   */
  function compare(number: string, sweep = false): Promise<void> {
    return serial(number, async () => {
      const target = await open(number);
      if (!target) return;
      const messages = await store.listMessages(target.mailbox.number);
      const base = agreed.get(target.mailbox.number) ?? new Map<string, AgreedState>();
      const plan = await (sweep ? pool.once.bind(pool) : pool.use.bind(pool))(target.login, async (client: ImapFlow) => {
        const copies = await copiesIn(client);
        // listMessages leaves out the 'deleted' folder: a copy not among them is looked up by id. It is this
        // mailbox's deleted message, or purged (the email goes too), or another mailbox's sharing the IMAP
        // account (left alone).
        const known = new Set(messages.map((m) => m.id));
        const gone = new Set<string>();
        for (const copy of copies) {
          if (known.has(copy.id)) continue;
          const other = await store.getMessage(copy.id);
          if (!other) gone.add(copy.id);
          else if (other.mailbox === target.mailbox.number) messages.push(other);
          known.add(copy.id);
        }
        const p = reconcile({ messages, copies, base, gone, appendSince: startedAt });
        await applyFlags(client, p);
        return p;
      });
      await applyStore(plan);
      agreed.set(target.mailbox.number, plan.agreed);
      // Queued like a deposit's (a message queued already keeps its place): only the drain appends.
      for (const id of plan.append) enqueue(id, target.mailbox.number);
      stats.comparisons++;
      log.debug({ mailbox: number, sweep, store: plan.store.length, imap: plan.imap.length, append: plan.append.length }, 'IMAP comparison');
    });
  }

  function schedule(number: string, delayMs: number): void {
    if (closed || scheduled.has(number)) return;
    const timer = setTimeout(() => {
      scheduled.delete(number);
      compare(number).then(
        () => failures.delete(number),
        (err: unknown) => {
          const n = (failures.get(number) ?? 0) + 1;
          if (n >= MAX_COMPARE_RETRIES) {
            // A login refused for good, or a long outage: the sweep tries again; retrying every few seconds
            // for each mailbox that had an event would only hammer the server.
            failures.delete(number);
            log.error({ mailbox: number, attempts: n, err: (err as Error).message }, 'IMAP comparison failed; left to the sweep');
            return;
          }
          failures.set(number, n);
          log.warn({ mailbox: number, attempts: n, err: (err as Error).message }, 'IMAP comparison failed; will retry');
          schedule(number, backoff(n));
        },
      );
    }, delayMs);
    timer.unref();
    scheduled.set(number, timer);
  }

  // ---- appends (worked by append-drain.ts) -------------------------------------------------------------------

  function enqueue(id: string, mailbox: string): void {
    if (closed) return;
    store.enqueueImapAppend(id, mailbox).then(
      () => drain.soon(),
      (err: unknown) => log.error({ err, messageId: id, mailbox }, 'IMAP append not queued (store error)'),
    );
  }

  async function append(job: ImapAppendJob): Promise<void> {
    await serial(job.mailbox, async () => {
      const message = await store.getMessage(job.messageId);
      const target = message && message.folder !== 'deleted' ? await open(message.mailbox) : undefined;
      if (!message || !target) return;
      const raw = await messageEmail(target.mailbox, message, timeZone);
      const read = storeRead(message);
      await pool.use(target.login, async (client) => {
        const existing = await client.search({ header: { [MESSAGE_ID_HEADER]: message.id } }, { uid: true });
        if (!existing || existing.length === 0) {
          await client.append(config.folder, raw, read ? ['\\Seen'] : [], new Date(message.receivedAt));
          stats.appends++;
        }
      });
      const states = agreed.get(target.mailbox.number) ?? new Map<string, AgreedState>();
      states.set(message.id, { read, deleted: false });
      agreed.set(target.mailbox.number, states);
    });
  }

  // ---- triggers -----------------------------------------------------------------------------------------------

  const onCounts = (number: string): void => schedule(number, debounceMs);
  store.events.on('counts', onCounts);

  async function sweep(): Promise<void> {
    if (sweeping || closed) return;
    sweeping = true;
    try {
      const mailboxes = (await store.listMailboxes()).filter((m) => loginFor(m) !== undefined);
      log.debug({ mailboxes: mailboxes.length }, 'IMAP sweep');
      // A quarter of maxConnections at once (one-off connections, besides the held ones): each needs its own login.
      const parallel = Math.max(1, Math.ceil(config.maxConnections / 4));
      for (let i = 0; i < mailboxes.length && !closed; i += parallel) {
        await Promise.all(mailboxes.slice(i, i + parallel).map((m) => compare(m.number, true).catch((err: unknown) => {
          log.warn({ mailbox: m.number, err: (err as Error).message }, 'IMAP sweep: comparison failed');
        })));
      }
    } catch (err) {
      log.error({ err }, 'IMAP sweep failed');
    } finally {
      sweeping = false;
    }
  }
  const sweepTimer = setInterval(() => void sweep(), config.sweepSeconds * 1000);
  sweepTimer.unref();
  // The full compare at start: what changed on either side while vmpilot was not running.
  void sweep();
  log.info({ host: config.host, port: config.port, folder: config.folder, sweepSeconds: config.sweepSeconds, maxConnections: config.maxConnections }, 'unified messaging (IMAP) started');

  return {
    onDeposit(message) {
      enqueue(message.id, message.mailbox);
    },
    appendSoon: () => drain.soon(),
    syncMailbox: (number) => compare(number),
    stats,
    async close() {
      if (closed) return;
      closed = true;
      store.events.off('counts', onCounts);
      clearInterval(sweepTimer);
      for (const t of scheduled.values()) clearTimeout(t);
      scheduled.clear();
      // The queue is in the store: what is left is worked by the next leader (or this host after a restart).
      await drain.close();
      await pool.close();
    },
  };
}
