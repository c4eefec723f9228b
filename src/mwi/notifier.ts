/**
 * Unsolicited MWI: every change of a mailbox's counts becomes an out-of-dialog NOTIFY message-summary to each
 * PBX that has `mwi.targets` (MX-ONE `mwinumber` style), sent through the SIP stack's UAC path with the PBX's
 * digest credentials, with the delivery policy of delivery.ts (targets in order, backoff, latest state only)
 * and one RateGate pacing all of it.
 *
 * Which PBX a mailbox belongs to is not known here: every PBX with MWI targets gets every mailbox's state.
 * What each PBX acknowledged is kept in the store (ack-ledger.ts), so a refresh can skip the lamps it shows.
 */
import type { Logger } from 'pino';
import type { PbxConfig } from '../config/schema.js';
import type { SipStack } from '../sip/stack.js';
import { sendUacRequest } from '../sip/uac-request.js';
import { resolveTarget } from '../sip/resolve-target.js';
import { parseUri, type SipUri } from '../sip/uri.js';
import type { MessageCounts } from '../store/types.js';
import type { MwiStore } from './store-view.js';
import { MwiDelivery, type AttemptOutcome } from './delivery.js';
import { RateGate, type GateLane } from './rate-gate.js';
import { buildUnsolicitedNotify } from './unsolicited-notify.js';
import { MwiAckLedger, sameCounts, type AckedState } from './ack-ledger.js';
import { opsCounters } from '../metrics/ops-counters.js';

/** NOTIFY runs started per second by default (RateGate; config mwi.notifyRatePerSecond). */
export const DEFAULT_MWI_RATE = 50;

export interface MwiNotifierOptions {
  stack: SipStack;
  store: MwiStore;
  logger: Logger;
  /** config.pbx: those with `mwi.targets` get NOTIFYs, and their `auth` answers their challenges. */
  pbx: readonly Pick<PbxConfig, 'name' | 'mwi' | 'auth'>[];
  /**
   * What start() queues (paced): 'all' every mailbox's state; 'unacknowledged' those whose current state a PBX
   * has not acknowledged (ack-ledger.ts); undefined nothing.
   */
  resendOnStart?: ResendScope;
  /** NOTIFY runs started per second at most, first tries and retries alike. Default 50. */
  ratePerSecond?: number;
  /** First retry delay after every target failed, ms. Default 1000. */
  retryMinMs?: number;
  /** Longest retry delay, ms. Default 300000. */
  retryMaxMs?: number;
}

interface Target {
  text: string;
  uri: SipUri;
}

const NO_MESSAGES: MessageCounts = { new: 0, saved: 0, urgentNew: 0, urgentSaved: 0 };

/** Which mailboxes a bulk resend queues: every one, or those whose state a PBX has not acknowledged. */
export type ResendScope = 'all' | 'unacknowledged';

/** The outcome of a final response to our NOTIFY (see delivery.ts for what each means). */
export function classifyNotifyResponse(status: number): AttemptOutcome {
  if (status >= 200 && status < 300) return 'delivered';
  if (status >= 400 && status < 500 && status !== 408) return 'refused';
  return 'failed';
}

export class MwiNotifier {
  private readonly gate: RateGate;
  private readonly deliveries: { pbx: string; delivery: MwiDelivery<Target> }[] = [];
  private readonly ledger: MwiAckLedger;
  private readonly log: Logger;
  private started = false;
  private stopped = false;
  private readonly onCounts = (mailbox: string, counts: MessageCounts): void => this.notify(mailbox, counts);

  constructor(private readonly opts: MwiNotifierOptions) {
    this.log = opts.logger;
    this.ledger = new MwiAckLedger(opts.store, opts.logger);
    this.gate = new RateGate(opts.ratePerSecond ?? DEFAULT_MWI_RATE, undefined, (err) => this.log.error({ err }, 'MWI send failed'));
    for (const pbx of opts.pbx) {
      const targets = (pbx.mwi?.targets ?? []).flatMap((text): Target[] => {
        const uri = parseUri(text);
        if (uri?.scheme === 'sip' || uri?.scheme === 'sips') return [{ text, uri }];
        this.log.error({ pbx: pbx.name, target: text }, 'MWI target is not a SIP URI; ignored');
        return [];
      });
      if (targets.length === 0) continue;
      const credentials = pbx.auth ? { username: pbx.auth.username, password: pbx.auth.password } : undefined;
      const delivery = new MwiDelivery<Target>({
        name: pbx.name,
        targets,
        gate: this.gate,
        logger: this.log,
        retryMinMs: opts.retryMinMs,
        retryMaxMs: opts.retryMaxMs,
        attempt: (target, mailbox, counts) => this.attempt(pbx.name, credentials, target, mailbox, counts),
        record: {
          sending: (mailbox) => this.ledger.sending(pbx.name, mailbox),
          delivered: (mailbox, counts) => this.ledger.acknowledged(pbx.name, mailbox, counts),
        },
      });
      this.deliveries.push({ pbx: pbx.name, delivery });
    }
  }

  /** Whether any PBX has MWI targets (when not, start() does nothing). */
  get enabled(): boolean {
    return this.deliveries.length > 0;
  }

  /** Listens to the store's count changes; with resendOnStart, also queues that resend (paced). */
  start(): void {
    if (this.started || this.stopped || !this.enabled) return;
    this.started = true;
    this.opts.store.events.on('counts', this.onCounts);
    if (this.opts.resendOnStart) {
      this.resendAll(this.opts.resendOnStart).catch((err: unknown) => this.log.error({ err }, 'MWI resend at start-up failed'));
    }
  }

  /** Queues a mailbox's state for every PBX; an older state not yet delivered is replaced. */
  notify(mailbox: string, counts: MessageCounts, lane: GateLane = 'news'): void {
    if (this.stopped) return;
    for (const d of this.deliveries) d.delivery.update(mailbox, counts, lane);
  }

  /**
   * Queues mailboxes' current states, behind any news (rate-gate.ts: a deposit during a big resend lights its
   * lamp at once). 'all': every mailbox for every PBX (a PBX that restarted and lost its lamps). 'unacknowledged':
   * for each PBX, the mailboxes whose current state it has not acknowledged (never sent, sent without a 2xx, or
   * changed since), which is what a new leader or a restarted server owes the PBX: changes made while no one
   * sent, and NOTIFYs a dead leader had out. If what the PBXs acknowledged cannot be read, everything is sent.
   * Resolves once all are queued, with how many mailboxes were queued for at least one PBX.
   */
  async resendAll(scope: ResendScope = 'all'): Promise<number> {
    if (!this.enabled) return 0;
    const mailboxes = await this.opts.store.listMailboxes();
    let acked: AckedState | undefined;
    if (scope === 'unacknowledged') {
      acked = await this.ledger.load().catch((err: unknown) => {
        this.log.warn({ err }, 'MWI: what the PBX acknowledged cannot be read; sending every mailbox\'s state');
        return undefined;
      });
    }
    let queued = 0;
    for (const mb of mailboxes) {
      if (this.stopped) break;
      const counts = await this.opts.store.counts(mb.number);
      let any = false;
      for (const { pbx, delivery } of this.deliveries) {
        if (acked && sameCounts(acked.get(pbx)?.get(mb.number), counts)) continue;
        delivery.update(mb.number, counts, 'bulk');
        any = true;
      }
      if (any) queued++;
    }
    const gone = acked && !this.stopped ? this.offForGone(acked, new Set(mailboxes.map((mb) => mb.number))) : 0;
    this.log.info({ scope: acked ? 'unacknowledged' : 'all', mailboxes: mailboxes.length, queued, gone }, 'MWI states queued for the PBX');
    return queued;
  }

  /**
   * Lamps of mailboxes that no longer exist (deleted or renumbered while no process sent, or whose lamp-off NOTIFY
   * a dead leader had out): each PBX whose last acknowledged state for one was not all zero, or is unknown, is
   * told zero. Returns how many such mailboxes.
   */
  private offForGone(acked: AckedState, exist: ReadonlySet<string>): number {
    const gone = new Set<string>();
    for (const { pbx, delivery } of this.deliveries) {
      for (const [mailbox, counts] of acked.get(pbx) ?? []) {
        if (exist.has(mailbox) || sameCounts(counts, NO_MESSAGES)) continue;
        delivery.update(mailbox, NO_MESSAGES, 'bulk');
        gone.add(mailbox);
      }
    }
    return gone.size;
  }

  /**
   * Queues one mailbox's current state for every PBX (an administrator's "resend": the PBX lost a lamp).
   * Resolves with whether there is any target to send to.
   */
  async resend(mailbox: string): Promise<boolean> {
    if (!this.enabled || this.stopped) return false;
    this.notify(mailbox, await this.opts.store.counts(mailbox));
    return true;
  }

  /** Mailbox states not yet delivered (summed over PBXs), and runs waiting for a rate-gate slot. */
  stats(): { pending: number; waitingForSlot: number } {
    return { pending: this.deliveries.reduce((n, d) => n + d.delivery.pending, 0), waitingForSlot: this.gate.waiting };
  }

  /** Stops listening and forgets undelivered states; NOTIFYs in flight end on their own. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.opts.store.events.off('counts', this.onCounts);
    for (const d of this.deliveries) d.delivery.stop();
    this.gate.clear();
  }

  private async attempt(
    pbx: string,
    credentials: { username: string; password: string } | undefined,
    target: Target,
    mailbox: string,
    counts: MessageCounts,
  ): Promise<AttemptOutcome> {
    let dest;
    try {
      dest = await resolveTarget(target.text);
    } catch (err) {
      this.log.warn({ err, pbx, target: target.text }, 'MWI target cannot be resolved');
      opsCounters.mwiNotifies.unsolicited.failed++;
      return 'failed';
    }
    const req = buildUnsolicitedNotify({
      target: target.uri,
      mailbox,
      counts,
      local: this.opts.stack.localEndpoint(dest),
      transport: dest.transport,
    });
    const callId = req.headers.get('call-id');
    const res = await sendUacRequest(this.opts.stack, req, dest, { credentials });
    const outcome = classifyNotifyResponse(res.status);
    opsCounters.mwiNotifies.unsolicited[outcome]++;
    const fields = { callId, pbx, target: target.text, mailbox, status: res.status, reason: res.reason };
    if (outcome === 'delivered') this.log.debug(fields, 'MWI NOTIFY delivered');
    else if (outcome === 'refused') this.log.warn(fields, 'MWI NOTIFY refused by the PBX; not retried');
    else this.log.info(fields, 'MWI NOTIFY failed at this target');
    return outcome;
  }
}
