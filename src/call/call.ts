/**
 * One call and the API apps program against (DESIGN.md: apps never see SIP messages or RTP packets):
 *
 *   await call.play(items, { bargeIn })            prompts, files, tones, silences
 *   await call.collectDigits({ max, timeoutMs, interDigitMs, terminators })
 *   await call.record({ path, maxMs, silenceMs, beep, onHangup })
 *   await call.transfer(target)                      blind transfer (REFER)
 *   await call.hangup()
 *   events: 'digit' (key, source), 'hangup' (reason)
 *
 * When the call ends (caller hangs up, BYE, CANCEL, no RTP, shutdown), every operation still pending FAILS
 * with CallEndedError, and so does every operation started later: a play, a collectDigits, a transfer that
 * had no final status yet. An app's straight-line code therefore unwinds at the step where the caller left,
 * and cannot keep talking to a dead call by forgetting a check; apps catch CallEndedError once, at their top
 * (apps/run.ts). hangup() on an ended call does nothing.
 *
 * The one exception is what the caller has already said. A recording cut short by a hang-up is a message the
 * caller meant to leave, so record() makes its caller choose, in the request, what a hang-up means
 * (`onHangup`): 'keep' resolves with the outcome (reason 'hangup', the file kept) so a deposit stores the
 * message like any other take, and its next step rejects; 'discard' deletes the file and rejects. A hang-up
 * during the beep, before anything was recorded, always rejects (there is no file).
 *
 * Who the call is for and who is calling: call.parties (parties.ts), typed; apps never read SIP headers.
 *
 * The Call owns its resources: RTP ports, the media session (subscribed to the shared clock), the digit
 * collector's deadline, a transfer's timer. close() releases each exactly once, whatever ended the call.
 */
import { EventEmitter } from 'node:events';
import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { EndReason, InviteSession, OfferAnswer } from '../sip/invite-session.js';
import type { IncomingRequest } from '../sip/incoming-request.js';
import type { SipStack } from '../sip/stack.js';
import type { DialogTable } from '../sip/dialog-usage.js';
import { findSdp } from '../sip/body.js';
import { RtpPortsExhaustedError, type RtpPortPair, type RtpPortPool } from '../media/ports.js';
import type { AddressSet } from '../media/rtp-receiver.js';
import type { RtpIdlePolicy } from '../media/rtp-sender.js';
import type { TickSource } from '../media/pacer.js';
import { MediaSession, type RtpPacketTotals } from '../media/session.js';
import type { DigitSource, DtmfPolicy } from '../media/digit-router.js';
import type { DtmfKey } from '../media/dtmf/rfc4733.js';
import type { RecordOutcome } from '../media/recorder.js';
import { parseSdp, SdpError } from '../sdp/parse.js';
import { serializeSdp } from '../sdp/serialize.js';
import { acceptAnswer, answerOffer, createOffer } from '../sdp/negotiate.js';
import type { Codec, LocalMediaConfig, NegotiatedAudio, SessionDescription, SrtpPolicy } from '../sdp/types.js';
import type { PromptCatalog } from '../prompts/catalog.js';
import type { Route } from './router.js';
import { partiesOf, type CallParties } from './parties.js';
import type { CallRecordDraft } from './call-record.js';
import { sdpWarning } from './sdp-warning.js';
import { answerReoffer } from './reoffer.js';
import { resolvePlayItems, type CallPlayItem } from './play-items.js';
import { DigitCollector, type CollectOptions, type CollectResult } from './digit-collector.js';
import { blindTransfer, type TransferOptions, type TransferResult } from './transfer.js';

export type { CallPlayItem, CollectOptions, CollectResult, TransferResult };
export type { CallParties, CallingParty, Redirect, RedirectReason } from './parties.js';

/**
 * What a second call leg placed on this call's behalf needs (call/supervised-transfer.ts): the SIP stack the
 * call arrived on, and the media resources and policies of the PBX it came from.
 */
export interface CallLegContext {
  stack: SipStack;
  /** The UA core's dialog table, where the second leg's dialog is registered. */
  dialogs: DialogTable;
  ports: RtpPortPool;
  clock: TickSource;
  mediaAddress: string;
  codecs: Codec[];
  srtp: SrtpPolicy;
  noRtpTimeoutMs: number;
  trustedMediaSources: AddressSet;
  logger: Logger;
}

/** Why a call ended: the SIP reasons, or media that stopped arriving. */
export type CallEndReason = EndReason | 'no-rtp';

export interface CallEvents {
  digit: [key: DtmfKey, source: DigitSource];
  hangup: [reason: CallEndReason];
  /** Answered and confirmed (ACK): the app may start. */
  ready: [];
}

export interface CallOptions {
  session: InviteSession;
  route: Route;
  ports: RtpPortPool;
  clock: TickSource;
  catalog: PromptCatalog;
  /** Address written in our SDP c= line. */
  mediaAddress: string;
  /** The INVITE's source address as per-source limits count it (sip/source-key.ts, sip.limits.ipv6PrefixLength). */
  sourceKey: string;
  codecs: Codec[];
  dtmf: DtmfPolicy;
  srtp: SrtpPolicy;
  /** No RTP for this long on an answered, un-held call ends it; 0 never. */
  noRtpTimeoutMs: number;
  /** Who may send this call's RTP besides its SDP c= address: the PBX and its media anchors (rtp-receiver.ts). */
  trustedMediaSources: AddressSet;
  /** What goes out while recording with nothing to play (pbx[].rtpWhileRecording). Default 'silence'. */
  rtpWhileRecording?: RtpIdlePolicy;
  /** The INVITE came from a trusted PBX: its P-Asserted-Identity names the caller (RFC 3325 §9.1). */
  trustAssertedIdentity: boolean;
  /** This call's record (call-record.ts): the apps note its outcome on it; the server finishes it. */
  callRecord: CallRecordDraft;
  logger: Logger;
}

/** The outcome of a play. */
export type PlayResult =
  | { reason: 'done' }
  /** A key stopped a barge-in play; the key stays buffered for the next collectDigits(). */
  | { reason: 'digit'; digit: DtmfKey }
  /** stop(), or a newer play. */
  | { reason: 'stopped' };

export interface RecordRequest {
  /** The WAV file to write (created or truncated). */
  path: string;
  /** Longest recording, ms. Default 180 000. */
  maxMs?: number;
  /** End after this much silence, ms; 0 never. Default 5000. */
  silenceMs?: number;
  /** Play the 1 kHz beep first. Default true. */
  beep?: boolean;
  /** Keys that end the recording (cut from the audio). Default '#'. */
  endOnDigits?: string;
  /** Shorter recordings are flagged tooShort (kept). Default 0. */
  minMs?: number;
  /**
   * What a hang-up during the recording means (no default: every recorder decides). 'keep': record() resolves
   * with reason 'hangup' and the file kept (a caller's message). 'discard': the file is deleted and record()
   * rejects with CallEndedError (a greeting cut off is not one).
   */
  onHangup: 'keep' | 'discard';
}

/** An API call made after the call ended. */
export class CallEndedError extends Error {
  constructor(readonly reason: CallEndReason) {
    super(`the call has ended (${reason})`);
    this.name = 'CallEndedError';
  }
}

export class Call extends EventEmitter<CallEvents> {
  readonly callId: string;
  /** When the INVITE arrived (ms since epoch): the admin API's live calls show it. */
  readonly startedAt = Date.now();
  audio: NegotiatedAudio | undefined;
  /** Why the call ended, once it has. */
  endReason: CallEndReason | undefined = undefined;
  private pair: RtpPortPair | undefined;
  private media: MediaSession | undefined;
  private readonly digits = new DigitCollector();
  private notifyListener: ((req: IncomingRequest) => void) | undefined = undefined;
  private sessionVersion = 1;
  private readonly sessionId = String(Date.now());
  private ourOffer: SessionDescription | undefined;
  private partiesRead: CallParties | undefined;
  private closed = false;
  private readonly endedPromise: Promise<void>;
  private markEnded: () => void = () => undefined;
  private readonly log: Logger;

  constructor(private readonly opts: CallOptions) {
    super();
    this.callId = opts.session.callId;
    this.log = opts.logger.child({ callId: this.callId });
    this.endedPromise = new Promise((resolve) => {
      this.markEnded = resolve;
    });
    opts.session.handler = {
      onOffer: (sdp) => this.reoffer(sdp),
      onAnswer: (sdp) => this.answerInAck(sdp),
      onConfirmed: () => {
        this.media?.confirm();
        if (!this.closed && this.audio) this.emit('ready');
      },
      onInfo: (contentType, body) => {
        if (this.media && !this.media.infoDigit(contentType, body)) this.log.debug({ contentType }, 'INFO without a key ignored');
      },
      onNotify: (req) => this.notifyListener?.(req),
      onTerminated: (reason) => this.close(reason),
    };
  }

  get service(): Route {
    return this.opts.route;
  }

  /** The call's record: apps note what happened (a message left, a log-in, a transfer, where the caller is). */
  get callRecord(): CallRecordDraft {
    return this.opts.callRecord;
  }

  /** Who the call is for and who is calling (parties.ts), read from the INVITE once. */
  get parties(): CallParties {
    const headers = this.opts.session.invite.message.headers;
    this.partiesRead ??= partiesOf({ requestUri: this.requestUri, header: (name) => headers.getAll(name) }, this.opts.trustAssertedIdentity);
    return this.partiesRead;
  }

  /** The INVITE's From and To headers as received: for call-layer code placing a leg for this call (its From). */
  get fromHeader(): string | undefined {
    return this.opts.session.invite.message.headers.get('from');
  }

  get toHeader(): string | undefined {
    return this.opts.session.invite.message.headers.get('to');
  }

  /** The address the INVITE came from (the PBX, or a proxy in front of it). */
  get sourceAddress(): string {
    return this.opts.session.invite.flow.remoteAddress;
  }

  /** What per-source limits count this call under: its source address, an IPv6 one per prefix (source-key.ts). */
  get sourceKey(): string {
    return this.opts.sourceKey;
  }

  /** A SIP URI for the peer that sent the INVITE (the PBX): where calls we place for this call go. */
  get sourceUri(): string {
    const flow = this.opts.session.invite.flow;
    const host = flow.remoteAddress.includes(':') ? `[${flow.remoteAddress}]` : flow.remoteAddress;
    return `sip:${host}:${flow.remotePort}${flow.transport === 'udp' ? '' : `;transport=${flow.transport}`}`;
  }

  /** The INVITE's Request-URI. */
  get requestUri(): string {
    return this.opts.session.invite.message.uri;
  }

  /** Whether the call has ended. */
  get ended(): boolean {
    return this.closed;
  }

  /** Resolves when the call has ended (never rejects). */
  whenEnded(): Promise<void> {
    return this.endedPromise;
  }

  /**
   * For call-layer code that places a second leg for this call (supervised transfer). Apps use the API below.
   * Throws CallEndedError once the call has ended.
   */
  legContext(): CallLegContext {
    this.live();
    const o = this.opts;
    return {
      stack: o.session.stack,
      dialogs: o.session.dialogs,
      ports: o.ports,
      clock: o.clock,
      mediaAddress: o.mediaAddress,
      codecs: o.codecs,
      srtp: o.srtp,
      noRtpTimeoutMs: o.noRtpTimeoutMs,
      trustedMediaSources: o.trustedMediaSources,
      logger: this.log,
    };
  }

  /** This call's media session once answered, for a relay to another leg (media/relay.ts); not for apps. */
  get mediaSession(): MediaSession | undefined {
    return this.closed ? undefined : this.media;
  }

  /** Adds this call's RTP packet counts to `into` (/metrics); nothing before the answer. */
  countPackets(into: RtpPacketTotals): void {
    this.media?.countPackets(into);
  }

  /** The media session's counters (for logs and tests). */
  mediaStats(): Record<string, unknown> | undefined {
    return this.media?.stats();
  }

  // ---------------------------------------------------------------------------------------------- the API

  /** Plays items in order. With bargeIn (default true) a key stops it; a key already typed ahead skips it. */
  async play(items: readonly CallPlayItem[], options: { bargeIn?: boolean } = {}): Promise<PlayResult> {
    const media = this.live();
    const bargeIn = options.bargeIn ?? true;
    const first = this.digits.peek();
    if (bargeIn && first !== undefined) return { reason: 'digit', digit: first };
    const frames = await resolvePlayItems(items, this.opts.catalog, media.law);
    this.live();
    const outcome = await media.player.play(frames, { bargeIn });
    // A hang-up stops the player (its play resolves 'stopped'); to the app it is the end of the call.
    this.live();
    return outcome;
  }

  /** Stops the current play (it resolves 'stopped'). */
  stopPlaying(): void {
    this.media?.player.stop();
  }

  /**
   * Collects keys (type-ahead first). See CollectOptions for the defaults. Async like the rest of the API: a
   * hang-up rejects it with CallEndedError (and bad options reject with TypeError) rather than throwing.
   */
  async collectDigits(options: CollectOptions = {}): Promise<CollectResult> {
    this.live();
    return this.digits.collect(options, performance.now());
  }

  /** Forgets keys typed ahead. */
  flushDigits(): void {
    this.digits.flush();
  }

  /**
   * Records the caller to a WAV file (16-bit PCM, 8 kHz, mono): after the beep, until '#', silence, max or
   * hang-up. A hang-up during the recording does what request.onHangup says (see RecordRequest); a hang-up
   * during the beep, before anything was recorded, rejects with CallEndedError (there is no file).
   */
  async record(request: RecordRequest): Promise<RecordOutcome> {
    const media = this.live();
    if (request.beep ?? true) {
      await media.player.play([{ tone: 'beep', ms: 400 }], { bargeIn: false });
      this.live();
    }
    // Keys pressed before the beep belong to the menu that came before, not to the recording.
    this.digits.flush();
    const outcome = await media.record(request.path, {
      maxMs: request.maxMs ?? 180_000,
      silenceMs: request.silenceMs ?? 5000,
      endOnDigits: request.endOnDigits ?? '#',
      minMs: request.minMs ?? 0,
    });
    if (this.closed) {
      if (request.onHangup === 'keep') return outcome;
      await rm(request.path, { force: true });
      throw this.endedError();
    }
    // The key that ended the recording is consumed by it.
    if (outcome.reason === 'digit') this.digits.flush();
    return outcome;
  }

  /** Ends a recording in progress (it resolves 'stopped', audio kept). */
  stopRecording(): void {
    this.media?.recorder.stop();
  }

  /**
   * Blind transfer by REFER; on success the PBX takes the caller away and the call ends (it still resolves ok).
   * A call that ends before the transfer's final status rejects it with CallEndedError.
   */
  async transfer(target: string, options: TransferOptions = {}): Promise<TransferResult> {
    this.live();
    this.log.info({ target }, 'transferring (REFER)');
    const result = await blindTransfer(
      this.opts.session,
      target,
      (listener) => {
        this.notifyListener = listener;
        return () => {
          if (this.notifyListener === listener) this.notifyListener = undefined;
        };
      },
      this.endedPromise,
      options,
    );
    this.log.info({ target, ...result }, 'transfer finished');
    if (!result.ok) {
      this.live();
      return result;
    }
    // RFC 5589 §6.1: the transferor ends its dialog after success; the PBX usually sends BYE first.
    await this.hangup();
    return result;
  }

  async hangup(): Promise<void> {
    if (this.closed) return;
    await this.opts.session.hangup();
  }

  // -------------------------------------------------------------------------------------------- answering

  /** Allocates media and answers the INVITE; rejects with 488/500/503 when that cannot be done. */
  async answer(): Promise<boolean> {
    const { session } = this.opts;
    if (this.closed) return false;
    const found = findSdp(session.invite.message);
    try {
      this.pair = await this.opts.ports.allocate();
    } catch (err) {
      if (!(err instanceof RtpPortsExhaustedError)) throw err;
      // Expected under overload, not a fault: one line, no stack; the PBX tries again or elsewhere.
      this.log.warn({ portsInUse: err.inUse }, `${err.message}; refusing the call with 503`);
      this.refuse(503, { 'retry-after': '5' }, 'No Media Ports');
      return false;
    }
    if (this.closed) {
      // CANCEL or shutdown while we were binding.
      this.releasePorts();
      return false;
    }
    const local = this.localMedia();
    let body: SessionDescription;
    if (found.kind === 'sdp') {
      let offer: SessionDescription;
      try {
        offer = parseSdp(found.sdp.toString('utf8'));
      } catch (err) {
        const reason = err instanceof SdpError ? err.message : 'Malformed SDP';
        this.log.info({ reason }, 'malformed SDP offer');
        this.refuse(400, undefined, `Bad SDP: ${reason}`.slice(0, 100));
        this.releasePorts();
        return false;
      }
      const result = answerOffer(offer, local);
      if (!result.ok) {
        this.log.info({ warning: result.warning }, 'no usable audio stream; refusing the call');
        this.refuse(488, { warning: sdpWarning(result.warning) });
        this.releasePorts();
        return false;
      }
      this.audio = result.audio;
      body = result.answer;
    } else {
      // Offerless INVITE (RFC 3261 §13.2.1): our offer goes in the 2xx, the answer comes in the ACK.
      this.ourOffer = createOffer(local);
      body = this.ourOffer;
    }
    this.media = this.createMedia(this.audio?.codec ?? this.opts.codecs[0] ?? 'PCMU');
    if (this.audio) this.media.configure(this.audio);
    if (!session.accept(Buffer.from(serializeSdp(body)))) return false;
    this.media.start();
    return true;
  }

  private createMedia(law: Codec): MediaSession {
    const media = new MediaSession({
      pair: this.pair!,
      clock: this.opts.clock,
      law,
      dtmf: this.opts.dtmf,
      noRtpTimeoutMs: this.opts.noRtpTimeoutMs,
      cname: `vmpilot@${this.opts.mediaAddress}`,
      trustedSources: this.opts.trustedMediaSources,
      whileRecording: this.opts.rtpWhileRecording,
      logger: this.log,
    });
    media.delegate = {
      onDigit: (key, source) => {
        // The key itself is not logged: callers type PINs.
        this.log.trace({ source }, 'key');
        this.digits.push(key, performance.now());
        this.emit('digit', key, source);
      },
      onNoRtp: (silentMs) => {
        this.log.warn({ silentMs: Math.round(silentMs), media: media.stats() }, 'no RTP from the caller; hanging up');
        this.endReason = 'no-rtp';
        void this.opts.session.hangup();
      },
      onTick: (nowMs) => this.digits.tick(nowMs),
    };
    return media;
  }

  /** Refuses the INVITE (before the answer), noting the status on the call's record. */
  private refuse(status: number, headers?: Record<string, string>, reason?: string): void {
    this.opts.callRecord.rejected(status);
    this.opts.session.reject(status, headers, reason);
  }

  /** The media session of a live call; CallEndedError once it has ended. */
  private live(): MediaSession {
    if (this.closed || !this.media) throw this.endedError();
    return this.media;
  }

  private endedError(): CallEndedError {
    return new CallEndedError(this.endReason ?? 'local-bye');
  }

  private reoffer(sdp: Buffer): OfferAnswer {
    const { reply, audio } = answerReoffer(sdp, { ...this.localMedia(), sessionVersion: this.sessionVersion + 1 });
    if (!audio) return reply;
    this.sessionVersion++;
    this.audio = audio;
    this.media?.configure(audio);
    this.log.info({ onHold: audio.onHold, codec: audio.codec }, 'media renegotiated');
    return reply;
  }

  private answerInAck(sdp: Buffer): void {
    if (!this.ourOffer) return;
    try {
      const result = acceptAnswer(this.ourOffer, parseSdp(sdp.toString('utf8')));
      if (result.ok) {
        this.audio = result.audio;
        this.media?.configure(result.audio);
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
      srtp: this.opts.srtp,
      srtpLocalKey: this.audio?.srtp?.local,
    };
  }

  private close(reason: EndReason): void {
    if (this.closed) return;
    this.closed = true;
    this.endReason ??= reason;
    const stats = this.media?.stats();
    // Order: the recorder ends as a hang-up (its file kept) and plays settle before the ports close.
    this.media?.close();
    this.digits.end(this.endedError());
    this.notifyListener = undefined;
    // The session's last datagrams (RTCP SR + BYE, RFC 3550 §6.6) are still queued: dgram resolves the
    // destination on the next tick before handing a datagram to the OS, and closing the socket first drops
    // it silently. Release the ports once those sends have gone.
    const pair = this.pair;
    this.pair = undefined;
    if (pair) setImmediate(() => this.opts.ports.release(pair));
    this.log.info({ reason: this.endReason, media: stats }, 'call ended');
    this.markEnded();
    this.emit('hangup', this.endReason);
  }

  private releasePorts(): void {
    if (this.pair) this.opts.ports.release(this.pair);
    this.pair = undefined;
  }
}
