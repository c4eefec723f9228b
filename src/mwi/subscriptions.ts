/**
 * The message-summary notifier for phones and PBXs that SUBSCRIBE (RFC 6665, RFC 3842): accepts or refuses
 * SUBSCRIBE requests for a mailbox (the Request-URI user is its number or an alias), keeps the subscriptions,
 * sends a NOTIFY at once and on every count change, refreshes, unsubscribes and expires them, and keeps them
 * in a file so that they survive a restart (each resumed one gets a NOTIFY with the current state).
 *
 * The UA core hands it every SUBSCRIBE (UserAgentCore.onSubscribe), new ones and those inside a dialog.
 */
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
import type { MessageCounts } from '../store/types.js';
import type { MwiStore } from './store-view.js';
import { MESSAGE_SUMMARY_EVENT, MESSAGE_SUMMARY_TYPE } from './message-summary.js';
import { parseEventHeader, parseExpires, sameEvent, type EventHeader } from './event-headers.js';
import { Subscription, SubscriptionState, type SubscriptionDeps } from './subscription.js';
import { SubscriptionFile } from './subscription-file.js';
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

export interface MwiSubscriptionsOptions {
  stack: SipStack;
  store: MwiStore;
  logger: Logger;
  /** Our Contact for the dialog a SUBSCRIBE creates: the same function the UA core is given. */
  contactFor(inc: IncomingRequest): string;
  /** Where subscriptions are kept across restarts, e.g. `<storage.dir>/subscriptions.json`. Absent: not kept. */
  file?: string;
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
  private readonly file: SubscriptionFile | undefined;
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
    this.file = opts.file !== undefined ? new SubscriptionFile(opts.file, () => this.records(), this.log) : undefined;
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
   * Listens to the store's count changes and resumes the subscriptions kept in the file: those not yet
   * expired get their expiry clock back and a NOTIFY with the current state (paced); expired ones are dropped.
   */
  async start(): Promise<void> {
    if (this.started || this.stopped) return;
    this.started = true;
    this.opts.store.events.on('counts', this.onCounts);
    if (!this.file) return;
    const records = await this.file.load();
    const now = Date.now();
    let resumed = 0;
    for (const record of records) {
      if (record.expiresAt - now < 1000 || this.byDialog.has(dialogId(record.dialog.callId, record.dialog.localTag, record.dialog.remoteTag))) continue;
      const sub = Subscription.fromRecord(record, this.deps(undefined), RESUME_SEQ_MARGIN);
      this.add(sub);
      sub.armExpiry((record.expiresAt - now) / 1000, now);
      this.gate.run(() => sub.notify());
      resumed++;
    }
    this.file.save();
    this.log.info({ resumed, dropped: records.length - resumed, file: this.file.path }, 'MWI subscriptions resumed');
  }

  /** Stops listening and every clock; nothing more is sent. The file keeps the subscriptions. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.opts.store.events.off('counts', this.onCounts);
    this.gate.clear();
    for (const sub of this.byDialog.values()) sub.close();
    await this.file?.flush();
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
    const mailbox = user !== undefined ? await this.opts.store.findMailbox(user) : undefined;
    if (!uri || uri.scheme === 'tel' || !mailbox) {
      this.log.info({ callId: inc.callId, uri: inc.message.uri }, 'SUBSCRIBE for an unknown mailbox');
      inc.respond(404);
      return;
    }
    if (this.stopped) {
      inc.respond(503, { headers: { 'retry-after': '5' } });
      return;
    }
    const localContact = this.opts.contactFor(inc);
    const dialog = Dialog.asUas(inc.message, inc.toTag, localContact, inc.flow);
    dialog.state = DialogState.Confirmed;
    const granted = Math.min(requested, this.maxS);
    const account = `${uri.scheme}:${mailbox.number}@${formatHost(uri.host)}`;
    const sub = new Subscription({ dialog, mailbox: mailbox.number, account, event, expiresAt: Date.now() + granted * 1000 }, this.deps(inc.flow.remoteAddress));
    // RFC 6665 §8.3.1: "Implementations compliant with the present document MUST NOT send a 202 response to a
    // SUBSCRIBE request and will send an alternate success response (such as 200) in its stead."
    // §4.2.1.1: the Expires of the 200 is the duration granted, which may be shorter than asked, never longer.
    inc.respond(200, { headers: { contact: localContact, expires: String(granted) } });
    this.log.info({ callId: inc.callId, mailbox: mailbox.number, expiresS: granted, remote: inc.flow.remoteAddress }, 'MWI subscription accepted');
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

  private deps(remoteAddress: string | undefined): SubscriptionDeps {
    return {
      stack: this.opts.stack,
      logger: this.log,
      counts: (mailbox) => this.opts.store.counts(mailbox),
      credentials: remoteAddress !== undefined ? this.opts.credentialsFor?.(remoteAddress) : undefined,
      onChanged: () => this.file?.save(),
      onEnded: (sub) => this.remove(sub),
    };
  }

  private add(sub: Subscription): void {
    this.byDialog.set(sub.id, sub);
    let set = this.byMailbox.get(sub.mailbox);
    if (!set) this.byMailbox.set(sub.mailbox, (set = new Set()));
    set.add(sub);
    this.file?.save();
  }

  private remove(sub: Subscription): void {
    if (this.byDialog.get(sub.id) !== sub) return;
    this.byDialog.delete(sub.id);
    const set = this.byMailbox.get(sub.mailbox);
    set?.delete(sub);
    if (set?.size === 0) this.byMailbox.delete(sub.mailbox);
    this.file?.save();
  }

  private records() {
    return [...this.byDialog.values()].map((s) => s.toRecord());
  }
}

/** RFC 3842 §4.5: no Accept means application/simple-message-summary; otherwise it must be among them. */
function acceptsSummary(values: readonly string[]): boolean {
  if (values.length === 0) return true;
  const ranges = listElements(values).map((t) => (t.split(';')[0] ?? '').trim().toLowerCase());
  return ranges.some((r) => r === MESSAGE_SUMMARY_TYPE || r === 'application/*' || r === '*/*' || r === '');
}
