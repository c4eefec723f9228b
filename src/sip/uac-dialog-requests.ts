/**
 * The far end's requests inside a dialog that we created as the UAC (outgoing-invite.ts): BYE ends it;
 * re-INVITE and UPDATE (hold, resume, a session refresh by a far end that is the RFC 4028 refresher) are
 * answered with our SDP answer, or our current description for an offerless re-INVITE; the 2xx to a re-INVITE
 * is retransmitted until its ACK (§13.3.1.4); INFO, OPTIONS and NOTIFY get 200; anything else 405.
 *
 * It answers and reports; ending the usage and sending BYE is the owner's job (the callbacks).
 * Not here: reading the SDP answer in the ACK to an offerless re-INVITE (FIXME: a far end that changes its
 * media that way is not followed), Require/Supported checks (we claim no extensions).
 */
import type { Logger } from 'pino';
import type { SipResponse } from './message.js';
import type { IncomingRequest } from './incoming-request.js';
import type { Dialog } from './dialog.js';
import type { OfferAnswer } from './invite-session.js';
import type { SipStack } from './stack.js';
import { parseCSeq } from './headers/cseq.js';
import { parseNameAddr } from './headers/name-addr.js';
import { findSdp } from './body.js';
import { TimerBag } from './transaction/timer-bag.js';

/** Methods a UAC dialog of ours answers (Allow, §20.5). */
export const UAC_ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE';

export interface UacDialogRequestsOptions {
  dialog: Dialog;
  stack: SipStack;
  /** Our session description now (the INVITE's offer at first); kept up to date with each answer we send. */
  localSdp: Buffer;
  /** An SDP offer from the far end; undefined: 488. */
  onOffer?(sdp: Buffer): OfferAnswer;
  /** The far end sent BYE (already answered 200). */
  onBye(): void;
  /** No ACK for our 2xx to its re-INVITE within 64*T1: the owner ends the call with BYE. */
  onAckTimeout(): void;
  logger: Logger;
}

export class UacDialogRequests {
  private localSdp: Buffer;
  private pendingReinviteSeq: number | undefined;
  private readonly timers = new TimerBag<'2xx'>();
  private stopped = false;

  constructor(private readonly opts: UacDialogRequestsOptions) {
    this.localSdp = opts.localSdp;
  }

  /** A request inside the dialog (To tag matched). */
  receive(inc: IncomingRequest): void {
    const cseq = parseCSeq(inc.message.headers.get('cseq') ?? '');
    if (!cseq || !this.opts.dialog.acceptRemoteSeq(cseq.seq)) {
      // §12.2.2: a lower CSeq than the last one is out of order.
      inc.respond(500, { reason: 'CSeq Out of Order' });
      return;
    }
    switch (inc.method) {
      case 'BYE':
        inc.respond(200);
        this.opts.onBye();
        return;
      case 'INVITE':
      case 'UPDATE':
        this.offer(inc, cseq.seq);
        return;
      case 'INFO':
      case 'NOTIFY':
        inc.respond(200);
        return;
      case 'OPTIONS':
        inc.respond(200, { headers: { allow: UAC_ALLOW, accept: 'application/sdp' } });
        return;
      default:
        inc.respond(405, { headers: { allow: UAC_ALLOW } });
    }
  }

  /** An ACK inside the dialog: the one for our 2xx to the far end's re-INVITE stops its retransmission. */
  ack(inc: IncomingRequest): void {
    const seq = parseCSeq(inc.message.headers.get('cseq') ?? '')?.seq;
    if (seq === undefined || seq !== this.pendingReinviteSeq) return;
    this.pendingReinviteSeq = undefined;
    this.timers.stop('2xx');
  }

  /** Stops retransmitting; idempotent. */
  stop(): void {
    this.stopped = true;
    this.timers.clearAll();
  }

  private offer(inc: IncomingRequest, seq: number): void {
    if (inc.method === 'INVITE' && this.pendingReinviteSeq !== undefined) {
      // §14.2: a re-INVITE while our 2xx to the previous one still awaits its ACK.
      inc.respond(491);
      return;
    }
    const found = findSdp(inc.message);
    if (found.kind === 'unsupported') {
      inc.respond(415, { headers: { accept: 'application/sdp' } });
      return;
    }
    let body: Buffer | undefined;
    if (found.kind === 'sdp') {
      const result = this.opts.onOffer?.(found.sdp) ?? { ok: false as const, status: 488 };
      if (!result.ok) {
        inc.respond(result.status, result.warning ? { headers: { warning: result.warning } } : {});
        return;
      }
      this.localSdp = result.answer;
      body = result.answer;
    } else if (inc.method === 'INVITE') {
      // An offerless re-INVITE: our current description is the offer, in the 2xx.
      body = this.localSdp;
    }
    // §12.2.2: a target refresh request updates the remote target.
    const contact = parseNameAddr(inc.message.headers.getAll('contact')[0] ?? '');
    if (contact) this.opts.dialog.remoteTarget = contact.uri;
    const ok = inc.respond(200, {
      headers: { contact: this.opts.dialog.localContact, allow: UAC_ALLOW },
      body,
      contentType: body ? 'application/sdp' : undefined,
    });
    if (inc.method === 'INVITE') {
      this.pendingReinviteSeq = seq;
      const t = this.opts.stack.timersFor(inc.flow.transport);
      this.retransmit2xx(inc, ok, t.T1, t.T2, Date.now() + t.H);
    }
  }

  /** §13.3.1.4: our 2xx again at T1, doubling up to T2, until the ACK, or 64*T1 without one. */
  private retransmit2xx(inc: IncomingRequest, res: SipResponse, interval: number, t2: number, giveUpAt: number): void {
    this.timers.start('2xx', interval, () => {
      if (this.stopped || this.pendingReinviteSeq === undefined) return;
      if (Date.now() >= giveUpAt) {
        this.opts.logger.warn('no ACK for our 2xx to the far end re-INVITE within 64*T1');
        this.opts.onAckTimeout();
        return;
      }
      inc.transaction?.respond(res);
      this.retransmit2xx(inc, res, Math.min(interval * 2, t2), t2, giveUpAt);
    });
  }
}
