/**
 * The UAC side of an INVITE usage (RFC 3261 §13.2, §14, §15): vmpilot places a call. It sends the INVITE
 * through the stack, follows redirects (§8.1.3.4, redirect-targets.ts), answers one digest challenge per
 * target (§22.2), ACKs the 2xx and every retransmission of it (§13.2.2.4), cancels (§9.1), and ends the call
 * with BYE (§15). The far end's requests inside the dialog are answered by uac-dialog-requests.ts: the dialog
 * is registered in the UA core's dialog table (dialog-usage.ts), which routes them there after the §8.2 checks.
 *
 * The ACK for a non-2xx final is the INVITE client transaction's (§17.1.1.3), not ours.
 *
 * It does NOT manage media and does not read SDP: the offer goes in, the answer comes out, and the far end's
 * re-offers are handed to `handler.onOffer` (call/outgoing-leg.ts does SDP and RTP).
 * Not here: early dialogs (no BYE before the 2xx, no PRACK/100rel), parallel forking beyond ending the extra
 * dialogs a forked 2xx creates, being the session-timer refresher (we do not send Supported: timer, so by
 * RFC 4028 the far end refreshes and we answer its re-INVITE or UPDATE), SRV look-ups (resolve-target.ts).
 */
import type { Logger } from 'pino';
import { Headers, createRequest, createResponseMessage, type SipRequest, type SipResponse } from './message.js';
import { serializeMessage } from './serialize.js';
import { parseCSeq } from './headers/cseq.js';
import { parseNameAddr } from './headers/name-addr.js';
import { parseUri } from './uri.js';
import { tagOf } from './response.js';
import { newCallId, newTag } from './ids.js';
import { findSdp } from './body.js';
import { Dialog, DialogState } from './dialog.js';
import { resolveTarget } from './resolve-target.js';
import { buildAuthorization, chooseChallenge, type DigestCredentials } from './auth/digest.js';
import { sendUacRequest } from './uac-request.js';
import { TimerBag } from './transaction/timer-bag.js';
import { InviteClientTransaction } from './transaction/invite-client-transaction.js';
import type { SipStack } from './stack.js';
import type { SendTarget } from './transport/types.js';
import type { OfferAnswer } from './invite-session.js';
import { redirectTargets } from './redirect-targets.js';
import type { DialogTable } from './dialog-usage.js';
import { UAC_ALLOW, UacDialogRequests } from './uac-dialog-requests.js';

export enum OutgoingInviteState {
  /** Not started yet. */
  Idle = 'idle',
  /** An INVITE is out (the first, or one after a redirect or a challenge); no provisional for it yet. */
  Calling = 'calling',
  /** A provisional arrived: the far end is ringing. A CANCEL may be sent now. */
  Proceeding = 'proceeding',
  /** We gave up before an answer: CANCEL sent, or waiting for a provisional to send it (§9.1). */
  Cancelling = 'cancelling',
  /** A 2xx arrived and was ACKed: the call is up. */
  Confirmed = 'confirmed',
  /** Over: failed, cancelled, or ended by BYE. Every timer stopped. */
  Terminated = 'terminated',
}

export type OutgoingEndReason =
  /** The INVITE got a final failure (or none in time, or could not be sent). */
  | 'failed'
  /** cancel() or hangup() before an answer (a 2xx that crossed the CANCEL is ACKed and ended with BYE). */
  | 'cancelled'
  /** The far end sent BYE. */
  | 'remote-bye'
  /** hangup() after the answer: we sent BYE. */
  | 'local-bye'
  /** The far end never ACKed our 2xx to its re-INVITE within 64*T1 (§13.3.1.4): we sent BYE. */
  | 'ack-timeout';

/** How the INVITE ended: answered (2xx) or not. Never a rejection. */
export interface InviteOutcome {
  /** Final status: 2xx answered; 487 after our CANCEL; 408 no response (Timer B); 503 not sendable. */
  status: number;
  reason: string;
  /** The Request-URI the final response came for (the last one after redirects). */
  uri: string;
  /** The 2xx's SDP answer, when answered with one. */
  answer?: Buffer;
}

/** What the owner of the call is told. Each may be left unset. */
export interface OutgoingInviteHandler {
  /** A provisional response (180 Ringing, 183 Session Progress...). */
  onProvisional?(res: SipResponse): void;
  /** An SDP offer from the far end inside the dialog (re-INVITE or UPDATE). Unset: 488. */
  onOffer?(sdp: Buffer): OfferAnswer;
  /** The call is over, answered or not; called once. */
  onTerminated?(reason: OutgoingEndReason): void;
}

export interface OutgoingInviteOptions {
  stack: SipStack;
  /** The UA core's dialog table: the dialog a 2xx makes is registered there for the far end's requests. */
  dialogs: DialogTable;
  /** Request-URI of the first INVITE, e.g. `sip:2001@192.0.2.10:5060`. Required. */
  requestUri: string;
  /** From without tag, e.g. `"Alice Example" <sip:27000@192.0.2.10>`. Required. */
  from: string;
  /** To without tag. Default `<requestUri>`. */
  to?: string;
  /** The SDP offer carried by the INVITE. Required. */
  offer: Buffer;
  /** Credentials for a 401/407 to the INVITE or to our BYE. Default none: a challenge is then the final answer. */
  credentials?: DigestCredentials;
  /** 3xx responses followed at most. Default 3. */
  maxRedirects?: number;
  /** Extra header fields on every INVITE (lower-case names). Default none. */
  headers?: Record<string, string>;
  logger: Logger;
}

const NOOP = (): void => undefined;

/** One INVITE client transaction of this usage: the first, or one after a redirect or a challenge. */
interface Attempt {
  request: SipRequest;
  target: SendTarget;
  tx: InviteClientTransaction | undefined;
  provisional: boolean;
  cancelSent: boolean;
}

export class OutgoingInvite {
  state = OutgoingInviteState.Idle;
  handler: OutgoingInviteHandler | undefined;
  /** The dialog, once a 2xx made it. */
  dialog: Dialog | undefined;
  readonly callId = newCallId();
  readonly localTag = newTag();
  private seq = 1;
  private attempt: Attempt | undefined;
  private readonly queue: string[] = [];
  private readonly seen = new Set<string>();
  private redirects = 0;
  /** The Request-URI whose challenge we already answered (a second one is final). */
  private challengedUri: string | undefined;
  private authorization: { name: string; value: string } | undefined;
  private lastUri: string;
  private readonly to: string;
  private ack: { bytes: Buffer; target: SendTarget } | undefined;
  private ackPending = false;
  private requests: UacDialogRequests | undefined;
  private readonly timers = new TimerBag<'cancel'>();
  private unroute: (() => void) | undefined;
  private settle: (outcome: InviteOutcome) => void = NOOP;
  private readonly outcome: Promise<InviteOutcome>;
  private settled = false;
  private markEnded: (reason: OutgoingEndReason) => void = NOOP;
  private readonly ended: Promise<OutgoingEndReason>;
  private readonly log: Logger;

  constructor(private readonly opts: OutgoingInviteOptions) {
    this.lastUri = opts.requestUri;
    this.to = opts.to ?? `<${opts.requestUri}>`;
    this.seen.add(opts.requestUri);
    this.log = opts.logger.child({ callId: this.callId });
    this.outcome = new Promise((resolve) => {
      this.settle = resolve;
    });
    this.ended = new Promise((resolve) => {
      this.markEnded = resolve;
    });
  }

  /** Sends the INVITE; resolves with the final outcome (a 2xx once it is ACKed). Call once. */
  start(): Promise<InviteOutcome> {
    if (this.state === OutgoingInviteState.Idle) {
      this.state = OutgoingInviteState.Calling;
      void this.send(this.opts.requestUri);
    }
    return this.outcome;
  }

  /** Resolves when the usage is over (never rejects), with why. */
  whenEnded(): Promise<OutgoingEndReason> {
    return this.ended;
  }

  /**
   * Gives up before an answer (§9.1). "If no provisional response has been received, the CANCEL request MUST
   * NOT be sent; rather, the client MUST wait for the arrival of a provisional response before sending the
   * request": until then Timer B may end the INVITE first. No-op once answered or over.
   */
  cancel(): void {
    if (this.state !== OutgoingInviteState.Calling && this.state !== OutgoingInviteState.Proceeding) return;
    this.state = OutgoingInviteState.Cancelling;
    const attempt = this.attempt;
    if (attempt?.tx && attempt.provisional) this.sendCancel(attempt);
  }

  /** Ends the call: CANCEL before the answer, BYE after it. */
  async hangup(): Promise<void> {
    if (this.state === OutgoingInviteState.Confirmed) await this.sendBye('local-bye');
    else this.cancel();
  }

  // --------------------------------------------------------------------------------------------- INVITEs

  private async send(uri: string): Promise<void> {
    this.lastUri = uri;
    // Until the new transaction exists there is nothing a CANCEL could reach (the last one has its final).
    this.attempt = undefined;
    let target: SendTarget;
    try {
      target = await resolveTarget(uri);
    } catch (err) {
      this.log.info({ uri, err: err instanceof Error ? err.message : String(err) }, 'cannot send the INVITE there');
      this.failed(synthetic(this.callId, this.seq, 503, 'Service Unavailable (target not resolvable)'));
      return;
    }
    if (this.state === OutgoingInviteState.Cancelling) {
      // Cancelled between two attempts (a redirect or a challenge): nothing is ringing, nothing to CANCEL.
      this.finish(synthetic(this.callId, this.seq, 487, 'Request Terminated'), 'cancelled');
      return;
    }
    const request = this.buildInvite(uri, target);
    const attempt: Attempt = { request, target, tx: undefined, provisional: false, cancelSent: false };
    this.attempt = attempt;
    this.log.debug({ uri, cseq: this.seq }, 'INVITE sent');
    const tx = this.opts.stack.sendRequest(request, target, {
      onResponse: (res) => this.onResponse(attempt, res),
      onTimeout: () => this.onResponse(attempt, synthetic(this.callId, this.seq, 408, 'Request Timeout')),
      onTransportError: () => this.onResponse(attempt, synthetic(this.callId, this.seq, 503, 'Service Unavailable (transport error)')),
      onTerminated: () => {
        // Ended from outside with nothing final (the stack closing for shutdown): so are we, timers and all.
        if (attempt === this.attempt && !this.settled) this.failed(synthetic(this.callId, this.seq, 503, 'Service Unavailable (shutting down)'));
      },
    });
    attempt.tx = tx instanceof InviteClientTransaction ? tx : undefined;
  }

  private buildInvite(uri: string, target: SendTarget): SipRequest {
    const h = new Headers();
    h.set('max-forwards', '70');
    h.set('from', `${this.opts.from};tag=${this.localTag}`);
    h.set('to', this.to);
    h.set('call-id', this.callId);
    h.set('cseq', `${this.seq} INVITE`);
    h.set('contact', this.contactFor(uri, target));
    h.set('allow', UAC_ALLOW);
    if (this.authorization) h.set(this.authorization.name, this.authorization.value);
    for (const [name, value] of Object.entries(this.opts.headers ?? {})) h.set(name, value);
    h.set('content-type', 'application/sdp');
    return createRequest('INVITE', uri, h, this.opts.offer);
  }

  /** Our Contact as the far end reaches us over this target's transport (§8.1.1.8; SIPS for a SIPS request). */
  private contactFor(uri: string, target: SendTarget): string {
    const local = this.opts.stack.localEndpoint(target);
    const host = local.address.includes(':') ? `[${local.address}]` : local.address;
    const user = parseUri(parseNameAddr(this.opts.from)?.uri ?? '');
    const userPart = user && user.scheme !== 'tel' && user.user ? `${encodeURIComponent(user.user)}@` : '';
    const scheme = target.transport === 'tls' && uri.startsWith('sips:') ? 'sips' : 'sip';
    const params = target.transport === 'udp' ? '' : `;transport=${target.transport}`;
    return `<${scheme}:${userPart}${host}:${local.port}${params}>`;
  }

  private onResponse(attempt: Attempt, res: SipResponse): void {
    if (attempt !== this.attempt) return; // an attempt we already moved on from
    if (res.status < 200) {
      this.provisional(attempt, res);
    } else if (res.status < 300) {
      void this.accepted(attempt, res);
    } else {
      this.rejected(attempt, res);
    }
  }

  private provisional(attempt: Attempt, res: SipResponse): void {
    attempt.provisional = true;
    if (this.state === OutgoingInviteState.Calling) this.state = OutgoingInviteState.Proceeding;
    if (this.state === OutgoingInviteState.Cancelling) this.sendCancel(attempt);
    this.handler?.onProvisional?.(res);
  }

  private rejected(attempt: Attempt, res: SipResponse): void {
    if (this.settled) return;
    if (this.state === OutgoingInviteState.Cancelling) {
      this.finish(res, 'cancelled');
      return;
    }
    if (res.status >= 300 && res.status < 400) {
      // §8.1.3.4: the Contacts of a 3xx become the target set, tried in turn (depth first: a redirect's own
      // targets before the siblings of the redirected one), each URI once.
      if (this.redirects >= (this.opts.maxRedirects ?? 3)) {
        this.log.info({ status: res.status, redirects: this.redirects }, 'too many redirects; not following');
        this.failed(res);
        return;
      }
      this.redirects++;
      const targets = redirectTargets(res, this.seen);
      this.log.info({ status: res.status, targets }, 'INVITE redirected');
      this.queue.unshift(...targets);
      this.next(res);
      return;
    }
    if ((res.status === 401 || res.status === 407) && this.opts.credentials && this.challengedUri !== attempt.request.uri) {
      // §22.2 with §8.1.3.5: "the new request MUST contain the same value for the Call-ID, To, and From of the
      // previous request, but the CSeq should contain a new sequence number that is one higher than the
      // previous." One answer per target: a second challenge means the credentials are wrong.
      const proxy = res.status === 407;
      const challenge = chooseChallenge(res.headers.getAll(proxy ? 'proxy-authenticate' : 'www-authenticate'));
      if (challenge) {
        this.challengedUri = attempt.request.uri;
        this.authorization = {
          name: proxy ? 'proxy-authorization' : 'authorization',
          value: buildAuthorization(challenge, this.opts.credentials, 'INVITE', attempt.request.uri, 1),
        };
        this.seq++;
        this.log.debug({ status: res.status }, 'INVITE challenged; resending with credentials');
        void this.send(attempt.request.uri);
        return;
      }
    }
    // §8.1.3.4: "If contacting an address in the list results in a failure ... the element moves to the next
    // address in the list, until the list is exhausted." A 6xx is a global failure: nowhere else will do.
    if (res.status < 600 && this.queue.length > 0) {
      this.next(res);
      return;
    }
    this.failed(res);
  }

  /** The next URI of the target set, or the end with `last` when there is none. */
  private next(last: SipResponse): void {
    const uri = this.queue.shift();
    if (uri === undefined) {
      this.failed(last);
      return;
    }
    this.seq++;
    // A new target may challenge afresh (it may be another proxy); the old credentials are for the old one.
    this.authorization = undefined;
    this.state = OutgoingInviteState.Calling;
    void this.send(uri);
  }

  private sendCancel(attempt: Attempt): void {
    if (attempt.cancelSent || !attempt.tx) return;
    attempt.cancelSent = true;
    this.opts.stack.sendCancel(attempt.tx, attempt.target, { onResponse: NOOP, onTimeout: NOOP, onTransportError: NOOP });
    this.log.debug('CANCEL sent');
    // §9.1: "If there is no final response for the original request in 64*T1 seconds ... the client SHOULD then
    // consider the original transaction cancelled and SHOULD destroy the client transaction handling the
    // original request."
    this.timers.start('cancel', this.opts.stack.timersFor(attempt.target.transport).B, () => {
      this.finish(synthetic(this.callId, this.seq, 487, 'Request Terminated (no answer to CANCEL)'), 'cancelled');
      attempt.tx?.terminate();
    });
  }

  // ------------------------------------------------------------------------------------------------ 2xx

  /** A 2xx to our INVITE: the first makes the dialog; retransmissions get the same ACK; other forks get BYE. */
  private async accepted(attempt: Attempt, res: SipResponse): Promise<void> {
    const remoteTag = tagOf(res.headers.get('to') ?? '');
    if (this.dialog) {
      if (remoteTag === this.dialog.remoteTag) {
        this.resendAck();
        return;
      }
      // §13.2.2.4: "If the INVITE ... was forked, the UAC may receive multiple 2xx responses, each establishing
      // a separate dialog. ... the UAC core MUST ... generate an ACK for each, and then send a BYE": one call.
      const extra = Dialog.asUac(attempt.request, res, attempt.target.transport);
      this.log.info({ remoteTag }, 'a second 2xx from another fork; ACK and BYE');
      try {
        await this.sendAck(extra, attempt.request);
        await sendUacRequest(this.opts.stack, extra.createRequest('BYE'), await extra.target(), { credentials: this.opts.credentials });
      } catch (err) {
        this.log.warn({ err }, 'could not end the extra dialog');
      }
      return;
    }
    const dialog = Dialog.asUac(attempt.request, res, attempt.target.transport);
    dialog.state = DialogState.Confirmed;
    this.dialog = dialog;
    const crossed = this.state === OutgoingInviteState.Cancelling;
    this.state = OutgoingInviteState.Confirmed;
    this.timers.stop('cancel');
    const requests = new UacDialogRequests({
      dialog,
      stack: this.opts.stack,
      localSdp: this.opts.offer,
      onOffer: (sdp) => this.handler?.onOffer?.(sdp) ?? { ok: false, status: 488 },
      onBye: () => {
        this.log.info('the far end hung up');
        this.end('remote-bye');
      },
      onAckTimeout: () => void this.sendBye('ack-timeout'),
      logger: this.log,
    });
    this.requests = requests;
    this.unroute = this.opts.dialogs.addDialog(dialog.id, {
      inDialog: (inc) => {
        if (this.state === OutgoingInviteState.Confirmed) requests.receive(inc);
        else inc.respond(481);
      },
      ack: (inc) => requests.ack(inc),
      stray2xx: (r) => {
        if (tagOf(r.headers.get('to') ?? '') === this.dialog?.remoteTag) this.resendAck();
      },
    });
    try {
      this.ackPending = true;
      this.ack = await this.sendAck(dialog, attempt.request);
    } catch (err) {
      // The Contact cannot be reached (a tel: URI, an unknown host): we cannot even ACK, let alone BYE.
      this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'cannot send the ACK for the 2xx');
      this.finish(synthetic(this.callId, this.seq, 502, 'Bad Gateway (2xx with an unreachable Contact)'), 'failed');
      return;
    } finally {
      this.ackPending = false;
    }
    if (crossed) {
      // §9.1 and §15: the answer crossed our CANCEL; the call is not wanted any more.
      this.log.info('2xx crossed our CANCEL; ending the call with BYE');
      this.settleOnce({ status: 487, reason: 'Request Terminated (answered as cancelled; ended with BYE)', uri: this.lastUri });
      await this.sendBye('cancelled');
      return;
    }
    const sdp = findSdp(res);
    this.settleOnce({ status: res.status, reason: res.reason, uri: this.lastUri, answer: sdp.kind === 'sdp' ? sdp.sdp : undefined });
  }

  /**
   * §13.2.2.4: "The header fields of the ACK are constructed in the same way as for any request sent within a
   * dialog ... with the exception of the CSeq and the header fields related to authentication. The sequence
   * number of the CSeq header field MUST be the same as the INVITE being acknowledged, but the CSeq method
   * MUST be ACK. The ACK MUST contain the same credentials as the INVITE."
   */
  private async sendAck(dialog: Dialog, invite: SipRequest): Promise<{ bytes: Buffer; target: SendTarget }> {
    const ack = dialog.createRequest('ACK');
    ack.headers.set('cseq', `${parseCSeq(invite.headers.get('cseq') ?? '')?.seq ?? dialog.localSeq} ACK`);
    for (const name of ['authorization', 'proxy-authorization']) {
      const values = invite.headers.getAll(name);
      if (values.length > 0) ack.headers.set(name, values);
    }
    const target = await dialog.target();
    this.opts.stack.sendAck(ack, target);
    return { bytes: serializeMessage(ack), target };
  }

  /** A retransmitted 2xx: "the UAC core MUST ... retransmit the ACK" — the same one, same branch. */
  private resendAck(): void {
    if (this.ack) this.opts.stack.transport.send(this.ack.target, this.ack.bytes);
    else if (!this.ackPending) this.log.debug('2xx retransmission before our ACK was built; ignored');
  }

  // ------------------------------------------------------------------------------------------------ end

  /** Ends the usage and sends BYE. Never rejects: it runs from timers and event handlers nobody awaits. */
  private async sendBye(reason: OutgoingEndReason): Promise<void> {
    const dialog = this.dialog;
    if (this.state === OutgoingInviteState.Terminated || !dialog) return;
    this.end(reason);
    try {
      const res = await sendUacRequest(this.opts.stack, dialog.createRequest('BYE'), await dialog.target(), {
        credentials: this.opts.credentials,
        onAuthRetry: (seq) => {
          dialog.localSeq = Math.max(dialog.localSeq, seq);
        },
      });
      if (res.status >= 300) this.log.info({ status: res.status }, 'BYE refused; the call is over on our side');
    } catch (err) {
      this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not send BYE');
    }
  }

  private failed(res: SipResponse): void {
    this.finish(res, 'failed');
  }

  /** A final non-2xx (or none): the outcome and the end at once. */
  private finish(res: SipResponse, reason: OutgoingEndReason): void {
    this.settleOnce({ status: res.status, reason: res.reason, uri: this.lastUri });
    this.end(reason);
  }

  private settleOnce(outcome: InviteOutcome): void {
    if (this.settled) return;
    this.settled = true;
    this.log.info({ status: outcome.status, uri: outcome.uri }, outcome.status < 300 ? 'outgoing call answered' : 'outgoing call not answered');
    this.settle(outcome);
  }

  /** Idempotent close: timers stopped, routing removed, outcome settled, owner told once. */
  private end(reason: OutgoingEndReason): void {
    if (this.state === OutgoingInviteState.Terminated) return;
    this.state = OutgoingInviteState.Terminated;
    if (this.dialog) this.dialog.state = DialogState.Terminated;
    this.timers.clearAll();
    this.requests?.stop();
    this.unroute?.();
    this.unroute = undefined;
    this.settleOnce({ status: 487, reason: 'Request Terminated', uri: this.lastUri });
    this.markEnded(reason);
    this.handler?.onTerminated?.(reason);
  }
}

/** A response we make up for an outcome that had none on the wire (§8.1.3.1: timeout 408, transport 503). */
function synthetic(callId: string, seq: number, status: number, reason: string): SipResponse {
  const res = createResponseMessage(status, reason);
  res.headers.set('call-id', callId);
  res.headers.set('cseq', `${seq} INVITE`);
  return res;
}
