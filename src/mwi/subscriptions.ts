/**
 * The message-summary notifier for phones and PBXs that SUBSCRIBE (RFC 6665, RFC 3842): accepts or refuses
 * SUBSCRIBE requests for a mailbox (the Request-URI user is its number or an alias), keeps the subscriptions,
 * sends a NOTIFY at once and on every count change, refreshes, unsubscribes and expires them, and keeps them
 * in the message store, one row each (subscription-journal.ts), so that they survive a restart (each resumed
 * one gets a NOTIFY with the current state). A subscriptions.json of an earlier version is imported once.
 *
 * What a subscriber may learn (issue 9 item 5): strangers never get here (the SIP stack refuses untrusted
 * sources); with mwi.subscribeAuth, only holders of its credentials do. A number with no mailbox is answered
 * exactly as a mailbox with no messages (200, then NOTIFYs saying "Messages-Waiting: no"; it is kept and
 * counted like any subscription, and lights up if that mailbox is created), so SUBSCRIBE cannot tell which
 * mailboxes exist. The Message-Account is the URI subscribed to, as given (an alias is not resolved to its
 * mailbox's number, which would tell that it exists). Subscriptions are capped (subscription-limits.ts).
 *
 * The UA core hands it every SUBSCRIBE (UserAgentCore.onSubscribe), new ones and those inside a dialog.
 */
import { rename } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { IncomingRequest } from '../sip/incoming-request.js';
import type { SipStack } from '../sip/stack.js';
import { Dialog, DialogState, dialogId } from '../sip/dialog.js';
import { tagOf } from '../sip/response.js';
import { parseCSeq } from '../sip/headers/cseq.js';
import { parseNameAddr } from '../sip/headers/name-addr.js';
import { formatHost, listElements } from '../sip/headers/tokens.js';
import { parseUri, uriUser } from '../sip/uri.js';
import type { DigestCredentials } from '../sip/auth/digest.js';
import { DIAL_STRING } from '../config/fields.js';
import { NoSuchMailboxError, type MessageCounts } from '../store/types.js';
import type { MwiStore } from './store-view.js';
import { MESSAGE_SUMMARY_EVENT, MESSAGE_SUMMARY_TYPE } from './message-summary.js';
import { parseEventHeader, parseExpires, sameEvent, type EventHeader } from './event-headers.js';
import { Subscription, SubscriptionState, type SubscriptionDeps, type SubscriptionRecord } from './subscription.js';
import { readSubscriptionFile } from './subscription-file.js';
import { SubscriptionJournal, readStored } from './subscription-journal.js';
import { DEFAULT_SUBSCRIPTION_LIMITS, SubscriptionLimits, type LimitRefusal, type SubscriptionLimitsConfig } from './subscription-limits.js';
import { SubscribeAuthenticator, type SubscribeAuthConfig } from './subscribe-auth.js';
import { RateGate } from './rate-gate.js';

/** RFC 3842 §4.4: "The default subscription duration for this event package is one hour." */
export const DEFAULT_EXPIRES_S = 3600;
export const MIN_EXPIRES_S = 60;
export const MAX_EXPIRES_S = 3600;
/** Longest duration a Node.js timer can wait (2**31-1 ms): longer grants would fire at once. */
const TIMER_LIMIT_S = 2_147_483;
/** CSeq skipped on resume, above the last saved one (NOTIFYs sent after the last save). */
const RESUME_SEQ_MARGIN = 100;
/** What a mailbox with no messages says, and what a number with no mailbox says. */
const NO_MESSAGES: MessageCounts = { new: 0, saved: 0, urgentNew: 0, urgentSaved: 0 };
/** One warning per limit and source per this long (a flood must not flood the log too). */
const LIMIT_WARN_EVERY_MS = 60_000;

export interface MwiSubscriptionsOptions {
  stack: SipStack;
  store: MwiStore;
  logger: Logger;
  /** Our Contact for the dialog a SUBSCRIBE creates: the same function the UA core is given. */
  contactFor(inc: IncomingRequest): string;
  /**
   * The subscriptions file of an earlier version (`<storage.dir>/subscriptions.json`): imported into the store
   * at start, then renamed `.imported`. Absent: nothing to import.
   */
  importFile?: string;
  /** Caps on live subscriptions (config mwi.maxSubscriptions*). Default DEFAULT_SUBSCRIPTION_LIMITS. */
  limits?: Partial<SubscriptionLimitsConfig>;
  /** config.mwi.subscribeAuth: digest credentials new SUBSCRIBEs must carry. Absent: no authentication. */
  auth?: SubscribeAuthConfig;
  /** Credentials for subscribers that challenge our NOTIFYs, by their address. */
  credentialsFor?(address: string): DigestCredentials | undefined;
  /** Shorter non-zero Expires get 423 with Min-Expires. Default 60 s. */
  minExpiresS?: number;
  /** Longer Expires are granted this much. Default 3600 s. */
  maxExpiresS?: number;
  /** Expires when the SUBSCRIBE has none. Default 3600 s. */
  defaultExpiresS?: number;
  /** NOTIFYs per second when resuming subscriptions at start. Default 20. */
  resumeRatePerSecond?: number;
}

export class MwiSubscriptions {
  private readonly byDialog = new Map<string, Subscription>();
  private readonly byMailbox = new Map<string, Set<Subscription>>();
  private readonly journal: SubscriptionJournal;
  private readonly limits: SubscriptionLimits;
  private readonly limitWarnedAt = new Map<string, number>();
  private readonly auth: SubscribeAuthenticator | undefined;
  private readonly gate: RateGate;
  private readonly log: Logger;
  private readonly minS: number;
  private readonly maxS: number;
  private readonly defaultS: number;
  private started = false;
  private stopped = false;
  private readonly onCounts = (mailbox: string, counts: MessageCounts): void => {
    for (const sub of this.byMailbox.get(mailbox) ?? []) sub.notify(counts);
  };

  constructor(private readonly opts: MwiSubscriptionsOptions) {
    this.log = opts.logger;
    this.journal = new SubscriptionJournal(opts.store, this.log);
    this.limits = new SubscriptionLimits({ ...DEFAULT_SUBSCRIPTION_LIMITS, ...opts.limits });
    this.auth = opts.auth ? new SubscribeAuthenticator(opts.auth, this.log) : undefined;
    this.gate = new RateGate(opts.resumeRatePerSecond ?? 20);
    this.minS = opts.minExpiresS ?? MIN_EXPIRES_S;
    this.maxS = Math.min(TIMER_LIMIT_S, Math.max(this.minS, opts.maxExpiresS ?? MAX_EXPIRES_S));
    this.defaultS = Math.min(this.maxS, opts.defaultExpiresS ?? DEFAULT_EXPIRES_S);
  }

  /** Live subscriptions. */
  get size(): number {
    return this.byDialog.size;
  }

  /** Live subscriptions, of one mailbox or all. */
  list(mailbox?: string): Subscription[] {
    return mailbox === undefined ? [...this.byDialog.values()] : [...(this.byMailbox.get(mailbox) ?? [])];
  }

  /**
   * Listens to the store's count changes and resumes the subscriptions kept in the store (and those of an old
   * subscriptions file, imported once): those not yet expired get their expiry clock back and a NOTIFY with
   * the current state (paced); expired ones are dropped.
   */
  async start(): Promise<void> {
    if (this.started || this.stopped) return;
    this.started = true;
    this.opts.store.events.on('counts', this.onCounts);
    const kept: { record: SubscriptionRecord; source: string; id?: string }[] = [];
    for (const row of await this.opts.store.listSubscriptions()) {
      const read = readStored(row);
      if (read) kept.push({ ...read, id: row.id });
      else {
        this.log.warn({ id: row.id }, 'malformed MWI subscription row dropped');
        this.journal.removed(row.id);
      }
    }
    const imported = await this.importOldFile();
    const now = Date.now();
    let resumed = 0;
    for (const { record, source, id } of [...kept, ...imported]) {
      const dialog = dialogId(record.dialog.callId, record.dialog.localTag, record.dialog.remoteTag);
      if (record.expiresAt - now < 1000 || this.byDialog.has(dialog)) {
        if (id !== undefined) this.journal.removed(id);
        continue;
      }
      const sub = Subscription.fromRecord(record, source, this.deps(undefined), RESUME_SEQ_MARGIN);
      this.add(sub);
      sub.armExpiry((record.expiresAt - now) / 1000, now);
      this.gate.run(() => sub.notify());
      resumed++;
    }
    this.log.info({ resumed, dropped: kept.length + imported.length - resumed, imported: imported.length }, 'MWI subscriptions resumed');
  }

  /** The records of an earlier version's subscriptions file; the file is renamed so it is imported once. */
  private async importOldFile(): Promise<{ record: SubscriptionRecord; source: string; id?: string }[]> {
    const file = this.opts.importFile;
    if (file === undefined) return [];
    const records = await readSubscriptionFile(file, this.log);
    if (records.length === 0) return [];
    // Saved to the store by add() (the journal), before the file goes: a crash in between imports it again,
    // and the dialog ids already resumed are skipped.
    await rename(file, `${file}.imported`).catch((err: unknown) => this.log.warn({ err, file }, 'imported subscriptions file could not be renamed'));
    this.log.info({ file, subscriptions: records.length }, 'MWI subscriptions imported from the subscriptions file');
    // The file did not keep the source: they count under one name of their own for the per-source limit.
    return records.map((record) => ({ record, source: 'imported' }));
  }

  /** Resolves once every change to the subscriptions so far is saved in the store. */
  async flushed(): Promise<void> {
    await this.journal.flush();
  }

  /** Stops listening and every clock; nothing more is sent. The store keeps the subscriptions. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.opts.store.events.off('counts', this.onCounts);
    this.gate.clear();
    for (const sub of this.byDialog.values()) sub.close();
    await this.journal.flush();
  }

  /** A SUBSCRIBE from the UA core, new or inside a dialog. Answers it; never throws. */
  handle(inc: IncomingRequest): void {
    if (this.stopped) {
      inc.respond(503, { headers: { 'retry-after': '5' } });
      return;
    }
    this.handleAsync(inc).catch((err: unknown) => {
      this.log.error({ err, callId: inc.callId }, 'SUBSCRIBE handling failed');
      inc.respond(500);
    });
  }

  private async handleAsync(inc: IncomingRequest): Promise<void> {
    const h = inc.message.headers;
    const event = parseEventHeader(h.get('event'));
    if (event?.type !== MESSAGE_SUMMARY_EVENT) {
      // RFC 6665 §4.2.1.1: a SUBSCRIBE for an event package we do not serve gets 489 (Bad Event), and
      // Allow-Events tells the subscriber which one we do.
      inc.respond(489, { headers: { 'allow-events': MESSAGE_SUMMARY_EVENT } });
      return;
    }
    const expires = parseExpires(h.get('expires'));
    if (expires === null) {
      inc.respond(400, { reason: 'Bad Expires' });
      return;
    }
    const requested = expires ?? this.defaultS;
    if (requested > 0 && requested < this.minS) {
      // RFC 6665 §4.2.1.1 and §4.2.1.4: a duration that is unacceptably short gets 423 (Interval Too Brief)
      // with Min-Expires; zero is not short, it unsubscribes (or fetches).
      inc.respond(423, { headers: { 'min-expires': String(this.minS) } });
      return;
    }
    const toTag = tagOf(h.get('to') ?? '');
    if (toTag !== undefined) {
      this.inDialog(inc, toTag, event, requested);
      return;
    }
    await this.create(inc, event, requested);
  }

  /** A SUBSCRIBE outside any dialog: a new subscription (or a one-time fetch with Expires: 0). */
  private async create(inc: IncomingRequest, event: EventHeader, requested: number): Promise<void> {
    if (!acceptsSummary(inc.message.headers.getAll('accept'))) {
      inc.respond(406, { headers: { accept: MESSAGE_SUMMARY_TYPE } });
      return;
    }
    if (this.auth && !this.auth.check(inc)) return;
    const uri = parseUri(inc.message.uri);
    const user = uri ? uriUser(uri) : undefined;
    if (!uri || uri.scheme === 'tel' || user === undefined || !DIAL_STRING.test(user)) {
      // No number in the Request-URI: no mailbox could ever have it (this says nothing about which exist).
      this.log.info({ callId: inc.callId, uri: inc.message.uri }, 'SUBSCRIBE for something that is not a mailbox number');
      inc.respond(404);
      return;
    }
    // A number with no mailbox is subscribed to like a mailbox with no messages (see the module comment).
    const mailbox = (await this.opts.store.findMailbox(user))?.number ?? user;
    if (this.stopped) {
      inc.respond(503, { headers: { 'retry-after': '5' } });
      return;
    }
    const localContact = this.opts.contactFor(inc);
    const dialog = Dialog.asUas(inc.message, inc.toTag, localContact, inc.flow);
    dialog.state = DialogState.Confirmed;
    const granted = Math.min(requested, this.maxS);
    const source = inc.flow.remoteAddress;
    if (granted > 0) {
      const refusal = this.limits.check(source, this.byMailbox.get(mailbox)?.size ?? 0);
      if (refusal) {
        this.refuse(inc, refusal, mailbox);
        return;
      }
    }
    const account = `${uri.scheme}:${user}@${formatHost(uri.host)}`;
    const sub = new Subscription({ dialog, mailbox, account, event, expiresAt: Date.now() + granted * 1000, source }, this.deps(source));
    // RFC 6665 §8.3.1: "Implementations compliant with the present document MUST NOT send a 202 response to a
    // SUBSCRIBE request and will send an alternate success response (such as 200) in its stead."
    // §4.2.1.1: the Expires of the 200 is the duration granted, which may be shorter than asked, never longer.
    inc.respond(200, { headers: { contact: localContact, expires: String(granted) } });
    this.log.info({ callId: inc.callId, mailbox, expiresS: granted, remote: source }, 'MWI subscription accepted');
    if (granted === 0) {
      // A fetch (RFC 6665 §4.4.3, polling): the state once, in a NOTIFY that also ends the subscription.
      sub.terminate('timeout');
      return;
    }
    this.add(sub);
    sub.armExpiry(granted);
    // RFC 6665 §4.2.1.2 (RFC 3265 §3.1.6.2): "Upon successfully accepting or refreshing a subscription,
    // notifiers MUST send a NOTIFY message immediately to communicate the current resource state".
    sub.notify();
  }

  /** A SUBSCRIBE inside a dialog: refresh, or unsubscribe with Expires: 0. */
  private inDialog(inc: IncomingRequest, toTag: string, event: EventHeader, requested: number): void {
    const fromTag = tagOf(inc.message.headers.get('from') ?? '') ?? '';
    const sub = this.byDialog.get(dialogId(inc.callId, toTag, fromTag));
    // RFC 3261 §12.2.2: a request naming a dialog we do not have gets 481; so does a refresh whose Event
    // (package and id) names no subscription of this dialog.
    if (!sub || sub.state !== SubscriptionState.Active || !sameEvent(sub.event, event)) {
      inc.respond(481);
      return;
    }
    const cseq = parseCSeq(inc.message.headers.get('cseq') ?? '');
    if (!cseq || !sub.dialog.acceptRemoteSeq(cseq.seq)) {
      inc.respond(500, { reason: 'CSeq Out of Order' });
      return;
    }
    // SUBSCRIBE is a target refresh request (RFC 6665): its Contact becomes the remote target (RFC 3261 §12.2.2).
    const contact = parseNameAddr(inc.message.headers.getAll('contact')[0] ?? '');
    if (contact) sub.dialog.remoteTarget = contact.uri;
    const granted = Math.min(requested, this.maxS);
    inc.respond(200, { headers: { contact: sub.dialog.localContact, expires: String(granted) } });
    if (granted === 0) {
      // RFC 6665 §4.1.2.3: "a successful unsubscription will also trigger a final NOTIFY request". Its reason
      // is timeout, as for any subscription whose time ran out (§4.2.1.4): the subscriber set it to 0.
      this.log.info({ callId: inc.callId, mailbox: sub.mailbox }, 'MWI subscription ended by the subscriber');
      sub.terminate('timeout');
      return;
    }
    sub.armExpiry(granted);
    sub.notify();
  }

  /** Answers a SUBSCRIBE over a limit, and warns (once per limit and source per minute). */
  private refuse(inc: IncomingRequest, refusal: LimitRefusal, mailbox: string): void {
    const headers: Record<string, string> = refusal.retryAfterS !== undefined ? { 'retry-after': String(refusal.retryAfterS) } : {};
    inc.respond(refusal.status, { reason: refusal.reason, headers });
    const key = `${refusal.limit} ${inc.flow.remoteAddress}`;
    const now = Date.now();
    if (now - (this.limitWarnedAt.get(key) ?? 0) < LIMIT_WARN_EVERY_MS) return;
    if (this.limitWarnedAt.size >= 1000) this.limitWarnedAt.clear(); // bounded, whatever the number of sources
    this.limitWarnedAt.set(key, now);
    this.log.warn({ callId: inc.callId, limit: refusal.limit, mailbox, remote: inc.flow.remoteAddress, live: this.size }, 'SUBSCRIBE refused: subscription limit reached');
  }

  private deps(remoteAddress: string | undefined): SubscriptionDeps {
    return {
      stack: this.opts.stack,
      logger: this.log,
      counts: (mailbox) => this.countsOf(mailbox),
      credentials: remoteAddress !== undefined ? this.opts.credentialsFor?.(remoteAddress) : undefined,
      onChanged: (sub) => {
        if (this.byDialog.get(sub.id) === sub) this.journal.changed(sub);
      },
      onEnded: (sub) => this.remove(sub),
    };
  }

  /** A mailbox's counts; a number with no mailbox has none (it is told "no messages", like an empty mailbox). */
  private async countsOf(mailbox: string): Promise<MessageCounts> {
    try {
      return await this.opts.store.counts(mailbox);
    } catch (err) {
      if (err instanceof NoSuchMailboxError) return NO_MESSAGES;
      throw err;
    }
  }

  private add(sub: Subscription): void {
    this.byDialog.set(sub.id, sub);
    let set = this.byMailbox.get(sub.mailbox);
    if (!set) this.byMailbox.set(sub.mailbox, (set = new Set()));
    set.add(sub);
    this.limits.added(sub.source);
    this.journal.changed(sub);
  }

  private remove(sub: Subscription): void {
    if (this.byDialog.get(sub.id) !== sub) return;
    this.byDialog.delete(sub.id);
    const set = this.byMailbox.get(sub.mailbox);
    set?.delete(sub);
    if (set?.size === 0) this.byMailbox.delete(sub.mailbox);
    this.limits.removed(sub.source);
    this.journal.removed(sub.id);
  }
}

/** RFC 3842 §4.5: no Accept means application/simple-message-summary; otherwise it must be among them. */
function acceptsSummary(values: readonly string[]): boolean {
  if (values.length === 0) return true;
  const ranges = listElements(values).map((t) => (t.split(';')[0] ?? '').trim().toLowerCase());
  return ranges.some((r) => r === MESSAGE_SUMMARY_TYPE || r === 'application/*' || r === '*/*' || r === '');
}
