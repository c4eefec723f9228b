/**
 * One call: its INVITE session, its RTP ports and the negotiated audio. Owns their lifetimes: whatever ends
 * the call (BYE either way, CANCEL, session-timer expiry, shutdown) closes everything exactly once.
 *
 * Media playback and recording are not here yet: until the media engine lands, an answered call holds its
 * RTP ports (so the PBX's packets are not refused with ICMP) and counts what arrives.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { EndReason, InviteSession, OfferAnswer } from '../sip/invite-session.js';
import { findSdp } from '../sip/body.js';
import type { RtpPortPair, RtpPortPool } from '../media/ports.js';
import { parseSdp, SdpError } from '../sdp/parse.js';
import { serializeSdp } from '../sdp/serialize.js';
import { acceptAnswer, answerOffer, createOffer } from '../sdp/negotiate.js';
import type { Codec, LocalMediaConfig, NegotiatedAudio, SessionDescription } from '../sdp/types.js';
import type { Route } from './router.js';
import { sdpWarning } from './sdp-warning.js';

export interface CallEvents {
  hangup: [reason: EndReason];
}

export interface CallOptions {
  session: InviteSession;
  route: Route;
  ports: RtpPortPool;
  /** Address written in our SDP c= line. */
  mediaAddress: string;
  codecs: Codec[];
  logger: Logger;
}

export class Call extends EventEmitter<CallEvents> {
  readonly callId: string;
  audio: NegotiatedAudio | undefined;
  rtpPacketsReceived = 0;
  private pair: RtpPortPair | undefined;
  private sessionVersion = 1;
  private readonly sessionId = String(Date.now());
  private ourOffer: SessionDescription | undefined;
  private closed = false;
  private readonly log: Logger;

  constructor(private readonly opts: CallOptions) {
    super();
    this.callId = opts.session.callId;
    this.log = opts.logger.child({ callId: this.callId });
    opts.session.handler = {
      onOffer: (sdp) => this.reoffer(sdp),
      onAnswer: (sdp) => this.answerInAck(sdp),
      onTerminated: (reason) => this.close(reason),
    };
  }

  get service(): Route {
    return this.opts.route;
  }

  /** Allocates media and answers the INVITE; rejects with 488/500/503 when that cannot be done. */
  async answer(): Promise<boolean> {
    const { session } = this.opts;
    if (this.closed) return false;
    const found = findSdp(session.invite.message);
    try {
      this.pair = await this.opts.ports.allocate();
    } catch (err) {
      this.log.error({ err }, 'no RTP port available; refusing the call');
      session.reject(503, { 'retry-after': '5' }, 'No Media Ports');
      return false;
    }
    if (this.closed) {
      // CANCEL or shutdown while we were binding.
      this.releasePorts();
      return false;
    }
    this.pair.rtp.on('message', () => {
      this.rtpPacketsReceived++;
    });
    const local = this.localMedia();
    if (found.kind === 'sdp') {
      let offer: SessionDescription;
      try {
        offer = parseSdp(found.sdp.toString('utf8'));
      } catch (err) {
        const reason = err instanceof SdpError ? err.message : 'Malformed SDP';
        this.log.info({ reason }, 'malformed SDP offer');
        session.reject(400, undefined, `Bad SDP: ${reason}`.slice(0, 100));
        return false;
      }
      const result = answerOffer(offer, local);
      if (!result.ok) {
        this.log.info({ warning: result.warning }, 'no common codec; refusing the call');
        session.reject(488, { warning: sdpWarning(result.warning) });
        return false;
      }
      this.audio = result.audio;
      return session.accept(Buffer.from(serializeSdp(result.answer)));
    }
    // Offerless INVITE (RFC 3261 §13.2.1): our offer goes in the 2xx, the answer comes in the ACK.
    this.ourOffer = createOffer(local);
    return session.accept(Buffer.from(serializeSdp(this.ourOffer)));
  }

  async hangup(): Promise<void> {
    await this.opts.session.hangup();
  }

  private reoffer(sdp: Buffer): OfferAnswer {
    let offer: SessionDescription;
    try {
      offer = parseSdp(sdp.toString('utf8'));
    } catch (err) {
      return { ok: false, status: 488, warning: sdpWarning(err instanceof SdpError ? err.message : 'Malformed SDP') };
    }
    // RFC 3264 §8: "the version in the origin field MUST increment by one from the previous SDP". A re-offer we
    // refuse (488) sends no SDP, so only an answer we actually send takes the next version.
    const result = answerOffer(offer, { ...this.localMedia(), sessionVersion: this.sessionVersion + 1 });
    if (!result.ok) return { ok: false, status: 488, warning: sdpWarning(result.warning) };
    this.sessionVersion++;
    this.audio = result.audio;
    this.log.info({ onHold: result.audio.onHold, codec: result.audio.codec }, 'media renegotiated');
    return { ok: true, answer: Buffer.from(serializeSdp(result.answer)) };
  }

  private answerInAck(sdp: Buffer): void {
    if (!this.ourOffer) return;
    try {
      const result = acceptAnswer(this.ourOffer, parseSdp(sdp.toString('utf8')));
      if (result.ok) {
        this.audio = result.audio;
        return;
      }
      this.log.info({ reason: result.reason }, 'unusable SDP answer in ACK; hanging up');
    } catch (err) {
      this.log.info({ err }, 'malformed SDP answer in ACK; hanging up');
    }
    // RFC 3264 §6: an answer we cannot use leaves no session; end the dialog.
    void this.hangup();
  }

  private localMedia(): LocalMediaConfig {
    return {
      address: this.opts.mediaAddress,
      port: this.pair?.port ?? 0,
      codecs: this.opts.codecs,
      sessionId: this.sessionId,
      sessionVersion: this.sessionVersion,
    };
  }

  private close(reason: EndReason): void {
    if (this.closed) return;
    this.closed = true;
    this.releasePorts();
    this.log.info({ reason, rtpPacketsReceived: this.rtpPacketsReceived }, 'call ended');
    this.emit('hangup', reason);
  }

  private releasePorts(): void {
    if (this.pair) this.opts.ports.release(this.pair);
    this.pair = undefined;
  }
}
