/**
 * A second call that vmpilot places on behalf of a call (supervised transfer): its INVITE usage
 * (sip/outgoing-invite.ts) and its media (a MediaSession on RTP ports of its own), joined by the SDP
 * offer/answer (RFC 3264: we offer in the INVITE, the 2xx answers; re-offers from the far end are answered).
 *
 * The leg owns its ports: they are released once, when the INVITE usage ends (failed, cancelled, or BYE
 * either way) or on close(). It plays nothing and detects no keys: its audio is for a relay (media/relay.ts).
 */
import type { Logger } from 'pino';
import { OutgoingInvite, type InviteOutcome, type OutgoingEndReason } from '../sip/outgoing-invite.js';
import type { OfferAnswer } from '../sip/invite-session.js';
import type { DigestCredentials } from '../sip/auth/digest.js';
import { MediaSession } from '../media/session.js';
import type { RtpPortPair } from '../media/ports.js';
import type { DtmfPolicy } from '../media/digit-router.js';
import { parseSdp, SdpError } from '../sdp/parse.js';
import { serializeSdp } from '../sdp/serialize.js';
import { acceptAnswer, createOffer } from '../sdp/negotiate.js';
import type { Codec, LocalMediaConfig, NegotiatedAudio, SessionDescription } from '../sdp/types.js';
import type { CallLegContext } from './call.js';
import { answerReoffer } from './reoffer.js';

export interface OutgoingLegOptions {
  context: CallLegContext;
  /** Request-URI of the INVITE. Required. */
  requestUri: string;
  /** From without tag. Required. */
  from: string;
  /** The law offered first: the other leg's, so no transcoding is needed when the far end takes it. Default
   *  the context's first codec. */
  preferredCodec?: Codec;
  /** For the PBX's 401/407. Default none. */
  credentials?: DigestCredentials;
  /** 3xx followed at most. Default 3. */
  maxRedirects?: number;
  logger: Logger;
}

/** The INVITE's outcome, and whether the leg is up with usable media. */
export type LegOutcome = InviteOutcome & { answered: boolean };

/** The far end's keys mean nothing to a relayed leg. */
const NO_DIGITS: DtmfPolicy = { rfc4733: false, info: false, inband: false };

export class OutgoingLeg {
  readonly invite: OutgoingInvite;
  readonly media: MediaSession;
  audio: NegotiatedAudio | undefined;
  private readonly offer: SessionDescription;
  private readonly codecs: Codec[];
  private readonly sessionId = String(Date.now());
  private sessionVersion = 1;
  private closed = false;
  private readonly log: Logger;

  /** Allocates the leg's RTP ports (rejects when none are free) and prepares the INVITE; nothing is sent. */
  static async open(opts: OutgoingLegOptions): Promise<OutgoingLeg> {
    const pair = await opts.context.ports.allocate();
    return new OutgoingLeg(opts, pair);
  }

  private constructor(
    private readonly opts: OutgoingLegOptions,
    private readonly pair: RtpPortPair,
  ) {
    const { context } = opts;
    const first = opts.preferredCodec ?? context.codecs[0] ?? 'PCMU';
    this.codecs = [first, ...context.codecs.filter((c) => c !== first)];
    this.offer = createOffer(this.local());
    this.media = new MediaSession({
      pair,
      clock: context.clock,
      law: first,
      dtmf: NO_DIGITS,
      noRtpTimeoutMs: context.noRtpTimeoutMs,
      cname: `vmpilot@${context.mediaAddress}`,
      trustedSources: context.trustedMediaSources,
      logger: opts.logger,
    });
    this.invite = new OutgoingInvite({
      stack: context.stack,
      dialogs: context.dialogs,
      requestUri: opts.requestUri,
      from: opts.from,
      offer: Buffer.from(serializeSdp(this.offer)),
      credentials: opts.credentials,
      maxRedirects: opts.maxRedirects,
      logger: opts.logger,
    });
    this.log = opts.logger.child({ callId: this.invite.callId });
    this.media.delegate = {
      onDigit: () => undefined,
      onNoRtp: (silentMs) => {
        this.log.warn({ silentMs: Math.round(silentMs) }, 'no RTP from the transfer target; hanging up');
        void this.invite.hangup();
      },
      onTick: () => undefined,
    };
    this.invite.handler = {
      onOffer: (sdp) => this.reoffer(sdp),
      onTerminated: () => this.close(),
    };
  }

  /** Places the call. Resolves once it is answered with usable media (started), or failed; never rejects. */
  async start(): Promise<LegOutcome> {
    const outcome = await this.invite.start();
    if (outcome.status >= 300) return { ...outcome, answered: false };
    const answer = this.readAnswer(outcome.answer);
    if (!answer.ok) {
      // RFC 3264 §6 seen from the offerer: an answer we cannot use leaves no session; end the dialog.
      this.log.info({ reason: answer.reason }, 'unusable SDP answer from the transfer target; hanging up');
      await this.invite.hangup();
      return { ...outcome, status: 488, reason: `Not Acceptable Here (${answer.reason})`, answered: false };
    }
    if (this.closed) return { ...outcome, answered: false };
    this.audio = answer.audio;
    this.media.configure(answer.audio);
    this.media.start();
    // We ACK its 2xx (sip/outgoing-invite.ts): the session is confirmed.
    this.media.confirm();
    return { ...outcome, answered: true };
  }

  /** Gives up before an answer (CANCEL when the far end is ringing). */
  cancel(): void {
    this.invite.cancel();
  }

  /** CANCEL before the answer, BYE after it. */
  hangup(): Promise<void> {
    return this.invite.hangup();
  }

  whenEnded(): Promise<OutgoingEndReason> {
    return this.invite.whenEnded();
  }

  /** Releases the media and its ports. Idempotent; the INVITE usage's end calls it too. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.media.close();
    // As in Call.close: the session's last RTCP datagrams are still queued; release the sockets after them.
    const pair = this.pair;
    setImmediate(() => this.opts.context.ports.release(pair));
  }

  private readAnswer(body: Buffer | undefined): { ok: true; audio: NegotiatedAudio } | { ok: false; reason: string } {
    if (!body) return { ok: false, reason: 'no SDP in the 2xx' };
    try {
      return acceptAnswer(this.offer, parseSdp(body.toString('utf8')));
    } catch (err) {
      return { ok: false, reason: err instanceof SdpError ? err.message : 'malformed SDP' };
    }
  }

  /** The far end's re-INVITE or UPDATE with an offer (hold, resume, a new address or law). */
  private reoffer(sdp: Buffer): OfferAnswer {
    const local = { ...this.local(), sessionVersion: this.sessionVersion + 1, srtpLocalKey: this.audio?.srtp?.local };
    const { reply, audio } = answerReoffer(sdp, local);
    if (!audio) return reply;
    this.sessionVersion++;
    this.audio = audio;
    this.media.configure(audio);
    this.log.info({ onHold: audio.onHold, codec: audio.codec }, 'transfer target renegotiated media');
    return reply;
  }

  private local(): LocalMediaConfig {
    const { context } = this.opts;
    return {
      address: context.mediaAddress,
      port: this.pair.port,
      codecs: this.codecs,
      sessionId: this.sessionId,
      sessionVersion: this.sessionVersion,
      srtp: context.srtp,
    };
  }
}
