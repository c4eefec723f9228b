/**
 * One message-summary subscription (RFC 6665) as its notifier sees it: the dialog the SUBSCRIBE created, when it
 * expires, and the NOTIFYs that carry the mailbox's state to the subscriber — one at a time, so that they
 * arrive in CSeq order, and always the latest state (a change while a NOTIFY is in flight is sent after it).
 *
 * Deciding whether to accept a SUBSCRIBE, and finding subscriptions, is subscriptions.ts's job.
 */
import type { Logger } from 'pino';
import { Dialog, DialogState, type DialogInit } from '../sip/dialog.js';
import type { SipStack } from '../sip/stack.js';
import { sendUacRequest } from '../sip/uac-request.js';
import type { DigestCredentials } from '../sip/auth/digest.js';
import type { MessageCounts } from '../store/types.js';
import { MESSAGE_SUMMARY_TYPE, buildMessageSummary } from './message-summary.js';
import { formatEventHeader, subscriptionState, type EventHeader, type TerminationReason } from './event-headers.js';
import { opsCounters } from '../metrics/ops-counters.js';
import { classifyNotifyResponse } from './notifier.js';

export enum SubscriptionState {
  /** Accepted: the subscriber gets a NOTIFY at once and on every change, until it expires or is ended. */
  Active = 'active',
  /** Over: a final NOTIFY (`terminated`) is on its way or the subscriber is gone; nothing more is accepted. */
  Terminated = 'terminated',
}

/** What is kept across a restart (the store's mwi_subscriptions rows): enough to rebuild the dialog and the expiry. */
export interface SubscriptionRecord {
  mailbox: string;
  /** The Message-Account put in bodies, e.g. `sip:27000@vm.example.com`. */
  account: string;
  event: EventHeader;
  /** ms since epoch. */
  expiresAt: number;
  dialog: Omit<DialogInit, 'flow'>;
}

export interface SubscriptionDeps {
  stack: SipStack;
  logger: Logger;
  /** The mailbox's current counts (used when a NOTIFY is not given them). */
  counts(mailbox: string): Promise<MessageCounts>;
  /** Credentials for a subscriber that challenges our NOTIFYs. */
  credentials?: DigestCredentials;
  /** The record changed (expiry, CSeq): persist it. */
  onChanged(sub: Subscription): void;
  /** The subscription is over (called once): forget it. Its final NOTIFY may still be in flight. */
  onEnded(sub: Subscription): void;
}

export class Subscription {
  state = SubscriptionState.Active;
  readonly dialog: Dialog;
  readonly mailbox: string;
  readonly account: string;
  readonly event: EventHeader;
  /** The subscriber's source address (per-source limits). */
  readonly source: string;
  expiresAt: number;
  private timer: NodeJS.Timeout | undefined;
  private sending = false;
  /** A NOTIFY is owed; `nextCounts` is its state when the caller had it. */
  private owed = false;
  private nextCounts: MessageCounts | undefined;
  private finalReason: TerminationReason | undefined;
  private closed = false;
  private readonly log: Logger;

  constructor(
    init: { dialog: Dialog; mailbox: string; account: string; event: EventHeader; expiresAt: number; source: string },
    private readonly deps: SubscriptionDeps,
  ) {
    this.dialog = init.dialog;
    this.source = init.source;
    this.mailbox = init.mailbox;
    this.account = init.account;
    this.event = init.event;
    this.expiresAt = init.expiresAt;
    this.log = deps.logger;
  }

  /** Rebuilds a subscription kept across a restart. */
  static fromRecord(record: SubscriptionRecord, source: string, deps: SubscriptionDeps, seqMargin: number): Subscription {
    // NOTIFYs sent after the last save advanced our CSeq: skip ahead so the subscriber never sees one go back.
    const dialog = new Dialog({ ...record.dialog, localSeq: record.dialog.localSeq + seqMargin });
    dialog.state = DialogState.Confirmed;
    return new Subscription({ dialog, mailbox: record.mailbox, account: record.account, event: record.event, expiresAt: record.expiresAt, source }, deps);
  }

  get id(): string {
    return this.dialog.id;
  }

  get callId(): string {
    return this.dialog.callId;
  }

  /** Seconds left, rounded down. */
  remainingS(now = Date.now()): number {
    return Math.max(0, Math.floor((this.expiresAt - now) / 1000));
  }

  toRecord(): SubscriptionRecord {
    const d = this.dialog;
    return {
      mailbox: this.mailbox,
      account: this.account,
      event: this.event,
      expiresAt: this.expiresAt,
      dialog: {
        callId: d.callId,
        localTag: d.localTag,
        remoteTag: d.remoteTag,
        localUri: d.localUri,
        remoteUri: d.remoteUri,
        remoteTarget: d.remoteTarget,
        routeSet: [...d.routeSet],
        localSeq: d.localSeq,
        remoteSeq: d.remoteSeq,
        localContact: d.localContact,
        secure: d.secure,
      },
    };
  }

  /** (Re)starts the expiry clock: `expiresS` from now. At expiry the final NOTIFY says reason=timeout. */
  armExpiry(expiresS: number, now = Date.now()): void {
    if (this.state !== SubscriptionState.Active) return;
    this.expiresAt = now + expiresS * 1000;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.log.info({ callId: this.callId, mailbox: this.mailbox }, 'MWI subscription expired');
      this.terminate('timeout');
    }, Math.max(0, this.expiresAt - now));
    this.deps.onChanged(this);
  }

  /** Sends the mailbox's state (these counts, or the store's at sending time). */
  notify(counts?: MessageCounts): void {
    if (this.state !== SubscriptionState.Active) return;
    this.owed = true;
    if (counts) this.nextCounts = counts;
    this.pump();
  }

  /** Ends the subscription with a final NOTIFY carrying the current state and `terminated;reason=...`. */
  terminate(reason: TerminationReason): void {
    if (this.state !== SubscriptionState.Active) return;
    this.state = SubscriptionState.Terminated;
    this.finalReason = reason;
    this.owed = true;
    this.stopTimer();
    this.deps.onEnded(this);
    this.pump();
  }

  /** Shutdown: stop the clock and send nothing more (the record stays on disk and resumes at next start). */
  close(): void {
    this.closed = true;
    this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private pump(): void {
    if (this.sending || this.closed) return;
    this.sending = true;
    this.sendOwed()
      .catch((err: unknown) => this.log.warn({ err, callId: this.callId, mailbox: this.mailbox }, 'MWI NOTIFY could not be sent'))
      .finally(() => {
        this.sending = false;
      });
  }

  private async sendOwed(): Promise<void> {
    while (this.owed && !this.closed) {
      this.owed = false;
      const final = this.finalReason;
      let counts = this.nextCounts;
      this.nextCounts = undefined;
      if (!counts) {
        try {
          counts = await this.deps.counts(this.mailbox);
        } catch (err) {
          this.log.warn({ err, mailbox: this.mailbox }, 'mailbox counts unavailable for an MWI NOTIFY');
        }
      }
      if (!counts && final === undefined) continue; // nothing to say; the next change will try again
      if (this.closed) return;
      const status = await this.send(counts, final);
      if (final !== undefined) return;
      if (status === 481 || status === 408) {
        // RFC 6665 §4.2.2: after a 481 "the notifier MUST remove the corresponding subscription"; after a
        // NOTIFY that fails by timeout, for a subscription made by SUBSCRIBE, it "SHOULD remove the subscription".
        // Other failures keep it: the subscriber can fix itself and refreshes anyway.
        this.log.info({ callId: this.callId, mailbox: this.mailbox, status }, 'MWI subscriber gone; subscription removed');
        this.state = SubscriptionState.Terminated;
        this.stopTimer();
        this.deps.onEnded(this);
        return;
      }
    }
  }

  /** One NOTIFY in the dialog; resolves with the final status. */
  private async send(counts: MessageCounts | undefined, final: TerminationReason | undefined): Promise<number> {
    const state =
      final === undefined ? subscriptionState({ active: true, expiresS: this.remainingS() }) : subscriptionState({ active: false, reason: final });
    const body = counts ? { contentType: MESSAGE_SUMMARY_TYPE, data: buildMessageSummary(counts, this.account) } : undefined;
    const req = this.dialog.createRequest('NOTIFY', body, { event: formatEventHeader(this.event), 'subscription-state': state });
    if (final === undefined) this.deps.onChanged(this); // our CSeq moved
    const target = await this.dialog.target();
    const res = await sendUacRequest(this.deps.stack, req, target, {
      credentials: this.deps.credentials,
      onAuthRetry: (seq) => {
        this.dialog.localSeq = Math.max(this.dialog.localSeq, seq);
      },
    });
    const fields = { callId: this.callId, mailbox: this.mailbox, status: res.status, state };
    opsCounters.mwiNotifies.subscription[classifyNotifyResponse(res.status)]++;
    if (res.status >= 300) this.log.info(fields, 'MWI NOTIFY refused by the subscriber');
    else this.log.debug(fields, 'MWI NOTIFY delivered');
    return res.status;
  }
}
