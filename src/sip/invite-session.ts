/**
 * The UAS side of an INVITE usage (RFC 3261 §13.3, §14, §15): answering, retransmitting the 2xx until the
 * ACK (§13.3.1.4), CANCEL → 487, BYE either way, re-INVITE and UPDATE (RFC 3311) offers, session timers
 * (RFC 4028), and INFO/NOTIFY delivered upward. Bodies are opaque here: the call layer does SDP.
 *
 * It does NOT manage media, and it does not decide who the call is for.
 */
import type { Logger } from 'pino';
import type { SipResponse } from './message.js';
import type { IncomingRequest } from './incoming-request.js';
import { Dialog, DialogState } from './dialog.js';
import { findSdp } from './body.js';
import { parseCSeq } from './headers/cseq.js';
import { parseNameAddr } from './headers/name-addr.js';
import type { SipStack } from './stack.js';
import type { DialogTable } from './dialog-usage.js';
import { sendUacRequest } from './uac-request.js';
import type { DigestCredentials } from './auth/digest.js';
import { TimerBag } from './transaction/timer-bag.js';
import type { TimerSet } from './transaction/timers.js';
import {
  expiryMs,
  negotiateSessionTimer,
  refreshMs,
  sessionTimerHeaders,
  type SessionTimerNegotiation,
} from './session-timer.js';

export enum InviteSessionState {
  /** INVITE received, no final response yet. */
  Incoming = 'incoming',
  /** 2xx sent; retransmitting it until the ACK. */
  Answered = 'answered',
  /** ACK received: the call is up. */
  Confirmed = 'confirmed',
  /** Over; every timer stopped. */
  Terminated = 'terminated',
}

export type EndReason =
  | 'remote-bye'
  | 'local-bye'
  | 'cancelled'
  | 'rejected'
  | 'ack-timeout'
  | 'session-expired'
  | 'shutdown';

/** An offer in a re-INVITE, UPDATE or (offerless INVITE) ACK, and what to answer. */
/** `warning` is a whole Warning header value (RFC 3261 §20.43), e.g. `305 vmpilot "Incompatible media format"`. */
export type OfferAnswer = { ok: true; answer: Buffer } | { ok: false; status: number; warning?: string };

export interface InviteSessionHandler {
  /** A new SDP offer inside the dialog (re-INVITE or UPDATE): hold, resume, codec change. */
  onOffer(sdp: Buffer): OfferAnswer;
  /** Offerless INVITE: the peer's answer to the offer we put in the 2xx, carried by the ACK. */
  onAnswer?(sdp: Buffer): void;
  /** The ACK arrived. */
  onConfirmed?(): void;
  /** An INFO (keypad digits for PBXs that use SIP INFO). Answered 200 by the session. */
  onInfo?(contentType: string, body: Buffer): void;
  /** A NOTIFY inside the dialog (REFER progress). Answered 200 by the session. */
  onNotify?(req: IncomingRequest): void;
  onTerminated(reason: EndReason): void;
}

export interface InviteSessionOptions {
  stack: SipStack;
  invite: IncomingRequest;
  localContact: string;
  timers: TimerSet;
  sessionExpiresS: number;
  minSeS: number;
  logger: Logger;
  /** Credentials for PBXs that challenge our in-dialog requests (BYE, UPDATE). */
  credentials?: DigestCredentials;
  /** Called once the session is over, so the owner can forget its dialog. */
  onClosed(session: InviteSession): void;
  /** The UA core's dialog table (a second call placed for this one registers its dialog there). */
  dialogs: DialogTable;
}

const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, NOTIFY, REFER';

export class InviteSession {
  state = InviteSessionState.Incoming;
  readonly dialog: Dialog;
  handler: InviteSessionHandler | undefined;
  private readonly timers = new TimerBag<'2xx' | 'ack' | 'session' | 'refresh' | 'reinvite2xx' | 'shutdown'>();
  /** The 2xx to a re-INVITE, retransmitted until its ACK (§13.3.1.4 applies to re-INVITEs too). */
  private pendingReinvite: { seq: number; offerless: boolean } | undefined;
  private final2xx: SipResponse | undefined;
  private localSdp: Buffer | undefined;
  private sessionTimer: SessionTimerNegotiation | undefined;
  /** hangup() while our 2xx awaited its ACK: the BYE to send when it comes (§15), and why. */
  private byeAfterAck: EndReason | undefined = undefined;
  private markEnded: () => void = () => undefined;
  private readonly ended = new Promise<void>((resolve) => {
    this.markEnded = resolve;
  });
  private reinviteInProgress = false;
  private readonly log: Logger;

  constructor(private readonly opts: InviteSessionOptions) {
    this.dialog = Dialog.asUas(opts.invite.message, opts.invite.toTag, opts.localContact, opts.invite.flow);
    this.log = opts.logger;
  }

  get callId(): string {
    return this.dialog.callId;
  }

  get invite(): IncomingRequest {
    return this.opts.invite;
  }

  /** The stack this session runs on (a second call placed for it, e.g. a supervised transfer, uses it too). */
  get stack(): SipStack {
    return this.opts.stack;
  }

  /** The dialog table this session is in (a second call placed for it registers there too). */
  get dialogs(): DialogTable {
    return this.opts.dialogs;
  }

  /** Sends a provisional response (180 Ringing, 183 with early media). */
  progress(status = 180): void {
    if (this.state === InviteSessionState.Incoming) this.opts.invite.respond(status, { headers: { contact: this.opts.localContact } });
  }

  /**
   * Answers with 200 and our SDP (an answer, or an offer when the INVITE had none). Returns the 422 status
   * when the session-timer interval is too small (the session is then over).
   */
  accept(sdp: Buffer): boolean {
    if (this.state !== InviteSessionState.Incoming) return false;
    const req = this.opts.invite.message;
    const negotiation = negotiateSessionTimer(req, this.opts.sessionExpiresS, this.opts.minSeS);
    if (!negotiation.ok) {
      this.reject(422, { 'min-se': String(negotiation.minSeS) });
      return false;
    }
    this.sessionTimer = negotiation.timer;
    this.localSdp = sdp;
    this.final2xx = this.opts.invite.respond(200, {
      headers: {
        contact: this.opts.localContact,
        allow: ALLOW,
        supported: 'timer',
        ...sessionTimerHeaders(negotiation.timer),
      },
      body: sdp,
      contentType: 'application/sdp',
    });
    this.state = InviteSessionState.Answered;
    this.dialog.state = DialogState.Confirmed;
    this.retransmit2xx(this.opts.timers.T1);
    // §13.3.1.4: "If the server retransmits the 2xx response for 64*T1 seconds without receiving an ACK, the
    // dialog is confirmed, but the session SHOULD be terminated. This is accomplished with a BYE."
    this.timers.start('ack', this.opts.timers.H, () => {
      this.log.warn({ callId: this.callId }, 'no ACK for our 200 OK within 64*T1; ending the call with BYE');
      void this.sendBye('ack-timeout');
    });
    return true;
  }

  /** Rejects the INVITE with a final non-2xx response. */
  reject(status: number, headers?: Record<string, string>, reason?: string): void {
    if (this.state !== InviteSessionState.Incoming) return;
    this.opts.invite.respond(status, { headers, reason });
    this.end('rejected');
  }

  /** Hangs up: BYE when the call is up; if our 2xx is not yet ACKed, the BYE waits for the ACK (§15). */
  async hangup(reason: EndReason = 'local-bye'): Promise<void> {
    switch (this.state) {
      case InviteSessionState.Incoming:
        this.reject(reason === 'shutdown' ? 503 : 480);
        return;
      case InviteSessionState.Answered:
        this.byeAfterAck = reason;
        return;
      case InviteSessionState.Confirmed:
        await this.sendBye(reason);
        return;
      default:
        return;
    }
  }

  /** Sends a request inside the dialog and resolves with its final response (REFER, INFO, NOTIFY, UPDATE). */
  async request(method: string, body?: { contentType: string; data: Buffer }, extra?: Record<string, string>): Promise<SipResponse> {
    const req = this.dialog.createRequest(method, body, extra);
    const target = await this.dialog.target();
    return sendUacRequest(this.opts.stack, req, target, {
      credentials: this.opts.credentials,
      onAuthRetry: (seq) => {
        this.dialog.localSeq = Math.max(this.dialog.localSeq, seq);
      },
    });
  }

  // ------------------------------------------------------------------------------------------ from the core

  /** The CANCEL matched our INVITE (the stack answered the CANCEL already). §9.2: answer the INVITE 487. */
  cancelled(): void {
    if (this.state !== InviteSessionState.Incoming) return;
    this.opts.invite.respond(487);
    this.end('cancelled');
  }

  /** The ACK for our 2xx. */
  ack(inc: IncomingRequest): void {
    const cseq = parseCSeq(inc.message.headers.get('cseq') ?? '');
    if (this.state === InviteSessionState.Confirmed && this.pendingReinvite && cseq?.seq === this.pendingReinvite.seq) {
      const { offerless } = this.pendingReinvite;
      this.pendingReinvite = undefined;
      this.timers.stop('reinvite2xx');
      const sdp = findSdp(inc.message);
      if (offerless && sdp.kind === 'sdp') this.handler?.onAnswer?.(sdp.sdp);
      return;
    }
    if (this.state !== InviteSessionState.Answered) return;
    const inviteSeq = parseCSeq(this.opts.invite.message.headers.get('cseq') ?? '');
    if (cseq?.seq !== inviteSeq?.seq) return; // an ACK for an older or a re-INVITE's 2xx
    this.timers.stop('2xx');
    this.timers.stop('ack');
    this.state = InviteSessionState.Confirmed;
    const sdp = findSdp(inc.message);
    if (sdp.kind === 'sdp') this.handler?.onAnswer?.(sdp.sdp);
    this.handler?.onConfirmed?.();
    this.armSessionTimer();
    if (this.byeAfterAck) void this.sendBye(this.byeAfterAck);
  }

  /** A request inside this dialog (To tag matched). */
  inDialog(inc: IncomingRequest): void {
    const cseq = parseCSeq(inc.message.headers.get('cseq') ?? '');
    if (!cseq || !this.dialog.acceptRemoteSeq(cseq.seq)) {
      inc.respond(500, { reason: 'CSeq Out of Order' });
      return;
    }
    switch (inc.method) {
      case 'BYE':
        inc.respond(200);
        this.end('remote-bye');
        return;
      case 'INVITE':
      case 'UPDATE':
        this.offer(inc);
        return;
      case 'INFO':
        inc.respond(200);
        this.handler?.onInfo?.(inc.message.headers.get('content-type') ?? '', inc.message.body);
        return;
      case 'NOTIFY':
        inc.respond(200);
        this.handler?.onNotify?.(inc);
        return;
      case 'OPTIONS':
        inc.respond(200, { headers: { allow: ALLOW, accept: 'application/sdp', supported: 'timer' } });
        return;
      default:
        inc.respond(405, { headers: { allow: ALLOW } });
    }
  }

  /**
   * Server shutdown: end the call with BYE (or 503 if it never got answered); resolves once the session is over.
   * A 2xx still waiting for its ACK: §15 says "The callee's UA MUST NOT send a BYE on a confirmed dialog until it
   * has received an ACK for its 2xx response or until the server transaction times out", and the shutdown ends
   * every transaction: the BYE waits for the ACK at most `ackGraceMs` (the 2xx is retransmitted meanwhile),
   * then goes anyway, so that neither side is left holding a call nobody will end.
   */
  async shutdown(ackGraceMs = 2 * this.opts.timers.T1): Promise<void> {
    if (this.state === InviteSessionState.Answered) {
      this.byeAfterAck = 'shutdown';
      this.timers.start('shutdown', ackGraceMs, () => void this.sendBye('shutdown'));
      await this.ended;
      return;
    }
    await this.hangup('shutdown');
  }

  // ---------------------------------------------------------------------------------------------- internal

  /** re-INVITE or UPDATE: hold/resume, codec change, or a session refresh with or without SDP. */
  private offer(inc: IncomingRequest): void {
    if (this.state === InviteSessionState.Answered && inc.method === 'INVITE') {
      // RFC 3261 §14.2: a re-INVITE while our 2xx awaits its ACK: the peer must wait.
      inc.respond(491);
      return;
    }
    if (inc.method === 'INVITE' && this.pendingReinvite) {
      inc.respond(491);
      return;
    }
    if (inc.method === 'INVITE' && this.reinviteInProgress) {
      inc.respond(500, { headers: { 'retry-after': String(Math.floor(Math.random() * 10)) } });
      return;
    }
    const negotiation = negotiateSessionTimer(inc.message, this.sessionTimer?.intervalS ?? this.opts.sessionExpiresS, this.opts.minSeS);
    if (!negotiation.ok) {
      inc.respond(422, { headers: { 'min-se': String(negotiation.minSeS) } });
      return;
    }
    const found = findSdp(inc.message);
    let answer = this.localSdp;
    if (found.kind === 'unsupported') {
      inc.respond(415, { headers: { accept: 'application/sdp' } });
      return;
    }
    if (found.kind === 'sdp') {
      const result = this.handler?.onOffer(found.sdp) ?? { ok: false as const, status: 488 };
      if (!result.ok) {
        inc.respond(result.status, result.warning ? { headers: { warning: result.warning } } : {});
        return;
      }
      answer = result.answer;
      this.localSdp = answer;
    }
    this.sessionTimer = negotiation.timer;
    const headers = { contact: this.opts.localContact, allow: ALLOW, supported: 'timer', ...sessionTimerHeaders(negotiation.timer) };
    const contact = parseNameAddr(inc.message.headers.getAll('contact')[0] ?? '');
    if (contact) this.dialog.remoteTarget = contact.uri; // §12.2.2: a target refresh request updates the remote target
    // An UPDATE or an offerless re-INVITE without SDP (a pure refresh) still gets our current SDP in a
    // re-INVITE 2xx (it is an offer then, answered in the ACK) but none in an UPDATE's 2xx.
    const body = inc.method === 'INVITE' || found.kind === 'sdp' ? answer : undefined;
    const ok = inc.respond(200, { headers, body, contentType: body ? 'application/sdp' : undefined });
    if (inc.method === 'INVITE') {
      const seq = parseCSeq(inc.message.headers.get('cseq') ?? '')?.seq ?? 0;
      this.pendingReinvite = { seq, offerless: found.kind === 'none' };
      this.retransmitReinvite2xx(inc, ok, this.opts.timers.T1, Date.now() + this.opts.timers.H);
    }
    this.armSessionTimer();
  }

  private retransmit2xx(interval: number): void {
    this.timers.start('2xx', interval, () => {
      if (this.state !== InviteSessionState.Answered || !this.final2xx) return;
      this.opts.invite.transaction?.respond(this.final2xx);
      // §13.3.1.4: start at T1, double up to T2.
      this.retransmit2xx(Math.min(interval * 2, this.opts.timers.T2));
    });
  }

  private retransmitReinvite2xx(inc: IncomingRequest, res: SipResponse, interval: number, giveUpAt: number): void {
    this.timers.start('reinvite2xx', interval, () => {
      if (this.state !== InviteSessionState.Confirmed || !this.pendingReinvite) return;
      if (Date.now() >= giveUpAt) {
        // Same rule as for the initial 2xx: no ACK within 64*T1 ends the session.
        this.log.warn({ callId: this.callId }, 'no ACK for our 200 to a re-INVITE within 64*T1; ending the call with BYE');
        void this.sendBye('ack-timeout');
        return;
      }
      inc.transaction?.respond(res);
      this.retransmitReinvite2xx(inc, res, Math.min(interval * 2, this.opts.timers.T2), giveUpAt);
    });
  }

  private armSessionTimer(): void {
    const timer = this.sessionTimer;
    if (!timer || this.state !== InviteSessionState.Confirmed) return;
    this.timers.start('session', expiryMs(timer), () => {
      this.log.warn({ callId: this.callId, intervalS: timer.intervalS }, 'session timer expired without refresh; ending the call');
      void this.sendBye('session-expired');
    });
    if (timer.refresher === 'uas') {
      this.timers.start('refresh', refreshMs(timer), () => {
        this.refresh().catch((err: unknown) => {
          // An unreachable peer (unresolvable Contact, refused connection): the session timer's expiry ends it.
          this.log.warn({ callId: this.callId, err }, 'session refresh could not be sent');
        });
      });
    }
  }

  /**
   * We are the refresher (RFC 4028 §7.4): UPDATE without a body when the peer allows it (RFC 3311: no SDP,
   * no ACK), else a re-INVITE with our current SDP. Both go through request(), so a PBX's digest challenge
   * advances our CSeq the same way as for any other in-dialog request.
   */
  private async refresh(): Promise<void> {
    if (this.state !== InviteSessionState.Confirmed || !this.sessionTimer) return;
    const useUpdate = this.opts.invite.message.headers.getAll('allow').some((m) => m.toUpperCase().includes('UPDATE'));
    const st = { 'session-expires': `${this.sessionTimer.intervalS};refresher=uas`, supported: 'timer' };
    const body = !useUpdate && this.localSdp ? { contentType: 'application/sdp', data: this.localSdp } : undefined;
    this.reinviteInProgress = !useUpdate;
    try {
      const res = await this.request(useUpdate ? 'UPDATE' : 'INVITE', body, st);
      if (res.status >= 200 && res.status < 300) {
        if (!useUpdate) await this.ackReinvite(res);
        this.armSessionTimer();
      } else if (res.status === 481 || res.status === 408) {
        this.end('session-expired');
      }
    } finally {
      this.reinviteInProgress = false;
    }
  }

  /** §13.2.2.4: the ACK for a 2xx to our re-INVITE carries that INVITE's CSeq number. */
  private async ackReinvite(res: SipResponse): Promise<void> {
    const ack = this.dialog.createRequest('ACK');
    ack.headers.set('cseq', `${parseCSeq(res.headers.get('cseq') ?? '')?.seq ?? this.dialog.localSeq} ACK`);
    this.opts.stack.sendAck(ack, await this.dialog.target());
  }

  /** Ends the session and tells the peer. Never rejects: it runs from timers where nobody awaits it. */
  private async sendBye(reason: EndReason): Promise<void> {
    if (this.state === InviteSessionState.Terminated) return;
    const wasConfirmed = this.state === InviteSessionState.Confirmed || this.state === InviteSessionState.Answered;
    try {
      this.end(reason);
      if (!wasConfirmed) return;
      const res = await this.request('BYE');
      if (res.status >= 300) this.log.info({ callId: this.callId, status: res.status }, 'BYE was refused; the call is over on our side');
    } catch (err) {
      this.log.warn({ callId: this.callId, err }, 'could not send BYE');
    }
  }

  /** Idempotent close of the session: timers stopped, owner told once, handler told once. */
  private end(reason: EndReason): void {
    if (this.state === InviteSessionState.Terminated) return;
    this.state = InviteSessionState.Terminated;
    this.dialog.state = DialogState.Terminated;
    this.timers.clearAll();
    this.markEnded();
    this.opts.onClosed(this);
    this.handler?.onTerminated(reason);
  }
}
