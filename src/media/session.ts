/**
 * One call's media: its RTP/RTCP sockets, the outbound stream paced by the shared clock, the inbound path
 * (SRTP, latching, reordering), keypad digits from every source, the prompt player and the recorder.
 * The Call owns one MediaSession; apps never see it (they use the Call API).
 *
 * Per packet in: RtpReceiver (SRTP, latch, PT) → audio: ReceiveBuffer (reorder, gap fill) → PCM16 →
 * in-band DTMF detector and recorder; telephone-event: TelephoneEventDecoder → DigitRouter.
 * Per tick out (shared MediaClock, no per-call timer): RtpSender pulls the player's next frame, protects it
 * with SRTP when keyed, and sends it (RtpSocket: over a connected socket while the latched source is active);
 * RTCP SR every 5 s; no-RTP timeout; the Call's own deadlines (onTick). While recording with nothing to play,
 * the sender follows `whileRecording` (silence every 20 ms, a keepalive packet a second, or nothing).
 *
 * The received-audio timeline: `pcmSamples` counts every sample the ReceiveBuffer produced for this call
 * (audio, lost-packet fill and padding). A digit's start sample is expressed on it, and the recorder's
 * timeline is it minus where the recording began, so a terminating '#' is cut where its tone began.
 *
 * Nothing is sent before the peer has shown it is there (issue 9 item 7): an INVITE from a spoofed source
 * address that is never acknowledged must not turn our 2xx into 50 packets a second at the address its SDP
 * names for as long as the 2xx is retransmitted (64*T1). Sending starts at confirm() (the ACK of our 2xx, or
 * our ACK of the far end's) or at the first packet from a legitimate source (the peer is alive and talking
 * before its ACK reached us), whichever comes first; RTCP likewise.
 *
 * Hold: while the peer holds us (sendonly/inactive, c=0.0.0.0) nothing is sent, the player is not advanced
 * (a prompt resumes where it stopped) and the no-RTP timeout does not run (a held peer may send nothing).
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { NegotiatedAudio } from '../sdp/types.js';
import { ALAW_TO_ULAW, ULAW_TO_ALAW, transcodeG711, type G711Law } from './g711.js';
import type { ClockSubscriber, TickSource } from './pacer.js';
import type { RtpPortPair } from './ports.js';
import { G711_FRAME_BYTES, tsDelta, type RtpPacketView } from './rtp-packet.js';
import { RtpReceiver, type AddressSet } from './rtp-receiver.js';
import { RtpSender, type RtpFrameSource, type RtpIdlePolicy } from './rtp-sender.js';
import type { RtpSocket } from './rtp-socket.js';
import { ReceiveBuffer } from './receive-buffer.js';
import { Player } from './player.js';
import { Recorder, RecorderState, type RecordOptions, type RecordOutcome } from './recorder.js';
import { TelephoneEventDecoder, type DtmfKey } from './dtmf/rfc4733.js';
import { DtmfToneDetector } from './dtmf/goertzel.js';
import { parseDtmfInfoBody } from './dtmf/info-body.js';
import { DigitRouter, type DigitSource, type DtmfPolicy } from './digit-router.js';
import { SrtpKeys } from './srtp-keys.js';
import { RtcpEndpoint } from './rtcp-endpoint.js';
import { FRAME_MS } from './audio-format.js';

/** RTP packet counts, summed over calls (MediaSession.countPackets). */
export interface RtpPacketTotals {
  /** RTP packets we sent. */
  sent: number;
  /** Packets taken as the call's media. */
  received: number;
  /** Sequence numbers given up as lost (receive-buffer.ts). */
  lost: number;
  /** Datagrams that reached the socket and were not taken (strangers, malformed, SRTP failures, foreign SSRCs). */
  discarded: number;
}

export interface MediaSessionOptions {
  pair: RtpPortPair;
  clock: TickSource;
  /** The law the player speaks: the first negotiated one (a later re-INVITE's law is transcoded to). */
  law: G711Law;
  dtmf: DtmfPolicy;
  /** Hang up when no RTP arrives for this long on an answered, un-held call; 0 never. */
  noRtpTimeoutMs: number;
  /** RTCP CNAME (RFC 3550 §6.5.1). */
  cname: string;
  /**
   * Sources that may send this call's media besides its SDP c= address: the PBX's addresses and media
   * anchors (rtp-receiver.ts). Nothing else is latched or heard.
   */
  trustedSources: AddressSet;
  /** What goes out while recording when nothing is played (pbx[].rtpWhileRecording). Default 'silence'. */
  whileRecording?: RtpIdlePolicy;
  logger: Logger;
}

/** What the session tells its Call. Set by the Call; each may be left unset. */
export interface MediaSessionDelegate {
  /** A key press (already de-duplicated across sources). */
  onDigit(key: DtmfKey, source: DigitSource): void;
  /** No RTP for noRtpTimeoutMs. Called once. */
  onNoRtp(silentMs: number): void;
  /** Every clock tick, after the packet went out: the Call's deadlines (digit timeouts) run here. */
  onTick(nowMs: number): void;
}

/**
 * While recording, after this long without a packet, the caller's silence is padded up to where its clock stood
 * this long ago (ReceiveBuffer.padTo): a packet later than that behind the caller's clock is recorded as silence.
 */
const PAD_AFTER_MS = 500;

const PT_PCMA = 8;

export class MediaSession implements ClockSubscriber {
  readonly player: Player;
  readonly recorder = new Recorder();
  /** Samples on the received-audio timeline (see the module comment). */
  pcmSamples = 0;
  delegate: MediaSessionDelegate | undefined = undefined;
  /**
   * Every received PCMU/PCMA payload (not comfort noise), in arrival order, before reordering: a relay's input
   * (relay.ts). `buf` is the packet's buffer and is reused: copy what you keep before returning.
   */
  onAudioPayload: ((buf: Buffer, offset: number, length: number, law: G711Law) => void) | undefined = undefined;

  private sender: RtpSender;
  private readonly receiver: RtpReceiver;
  /** The RTP socket (the port pool owns and closes it). */
  private readonly link: RtpSocket;
  private readonly receiveBuffer: ReceiveBuffer;
  private readonly events: TelephoneEventDecoder;
  private readonly tones: DtmfToneDetector;
  private readonly digits: DigitRouter;
  private readonly srtp = new SrtpKeys();
  private readonly rtcp: RtcpEndpoint;
  private readonly playerLaw: G711Law;
  private sendLaw: G711Law;
  private readonly scratch = new Uint8Array(G711_FRAME_BYTES);
  private audio: NegotiatedAudio | undefined = undefined;
  /** While set, outbound frames come from here instead of the player (setRelaySource). */
  private relaySource: RtpFrameSource | undefined = undefined;
  private sending = false;
  /** The peer confirmed the session or sent legitimate RTP: we may transmit (see the module comment). */
  private peerConfirmed = false;
  private unsubscribe: (() => void) | undefined = undefined;
  private closed = false;
  private timedOut = false;
  /** Monotonic ms the no-RTP timeout counts from (last packet, answer, or end of a hold). */
  private rtpWatchFrom = 0;
  /** Where the in-band detector's own sample count sits on the pcm timeline. */
  private toneOffset = 0;
  private toneFed = 0;
  /** pcmSamples when the current recording began. */
  private recordStart = 0;
  /** RTP timestamp just past the last audio packet, and its SSRC, to place RFC 4733 events on the timeline. */
  private lastAudioEndTs = 0;
  private lastAudioSsrc = -1;
  private lastAudioAtMs = 0;
  /** performance.now() of the last tick (the stall guard of the silence padding). */
  private lastTickMs = 0;
  /** The last RFC 4733 key's start sample came from its timestamp on the audio's own timeline. */
  private eventStartExact = false;
  /** SSRC of the telephone-event packet being decoded (onKeyDown gives only its timestamp). */
  private eventSsrc = -1;
  private readonly log: Logger;

  constructor(private readonly opts: MediaSessionOptions) {
    this.log = opts.logger;
    this.playerLaw = opts.law;
    this.sendLaw = opts.law;
    this.player = new Player({ law: opts.law, onPlayStart: () => this.sender.startTalkspurt() });
    this.link = opts.pair.rtp;
    this.sender = this.newSender(opts.law === 'PCMA' ? PT_PCMA : 0);
    this.digits = new DigitRouter(opts.dtmf, (key, source, startSample) => this.onKey(key, source, startSample));
    this.receiveBuffer = new ReceiveBuffer(this.onPcm);
    this.events = new TelephoneEventDecoder({
      onKeyDown: (key, ts) => this.digits.key(key, 'rfc4733', performance.now(), this.eventStartSample(ts)),
    });
    this.tones = new DtmfToneDetector((key, start) => this.digits.key(key, 'inband', performance.now(), start + this.toneOffset));
    this.receiver = new RtpReceiver(
      {
        onAudio: (view, buf) => this.onAudio(view, buf),
        onEvent: (view, buf) => {
          this.eventSsrc = view.ssrc;
          this.events.receive(view, buf, this.receiver.lastAcceptedAtMs);
        },
        onLatch: (address, port) => {
          this.peerConfirmed = true;
          if (this.sender.learnRemote(address, port)) this.log.debug({ address, port }, 'RTP source latched');
        },
        onRtcp: (buf, length) => this.rtcp.receive(buf, length, undefined),
      },
      () => performance.now(),
      opts.trustedSources,
    );
    this.rtcp = new RtcpEndpoint(opts.pair.rtcp, opts.cname, this.srtp, (address) => this.receiver.isLegitimate(address));
    this.link.setHandler(this.receiver.onMessage);
  }

  /** The law prompts must be given in (the player's; a later change of law is transcoded on the way out). */
  get law(): G711Law {
    return this.playerLaw;
  }

  /** The law RTP goes out in now (the negotiated one; a re-INVITE may change it). */
  get sendCodec(): G711Law {
    return this.sendLaw;
  }

  /**
   * While `source` is set, the outbound stream carries its frames (160 bytes in `sendCodec`) instead of the
   * player's, keeping this session's SSRC, sequence and timestamp; the player is not advanced meanwhile.
   * undefined gives the stream back to the player. The first audio packet from the new source is marked
   * (RFC 3551 §4.1: a new talkspurt).
   */
  setRelaySource(source: RtpFrameSource | undefined): void {
    this.relaySource = source;
    this.sender.startTalkspurt();
  }

  /** Applies an offer/answer outcome: first answer and every re-INVITE/UPDATE. */
  configure(audio: NegotiatedAudio): void {
    if (this.closed) return;
    const wasHeld = this.audio?.onHold ?? false;
    this.audio = audio;
    this.srtp.configure(audio.srtp);
    this.receiver.configure(audio.telephoneEvent, this.srtp.inbound, audio.remoteAddress);
    // Latching re-opens: every source must reach the socket again (rtp-link.ts, native-rtp-io.ts).
    this.link.disconnect();
    this.digits.setTelephoneEventNegotiated(audio.telephoneEvent !== undefined);
    if (audio.codec !== this.sendLaw) {
      // A re-INVITE changed the law: a new stream description, same SSRC, sequence and timestamp (RFC 3550
      // §5.1: the SSRC identifies the source, which has not changed).
      const old = this.sender;
      this.sender = this.newSender(audio.codec === 'PCMA' ? PT_PCMA : 0, old);
      old.close();
      this.sendLaw = audio.codec;
    }
    const remoteUsable = audio.remotePort > 0 && audio.remoteAddress !== '0.0.0.0' && audio.remoteAddress !== '::';
    if (remoteUsable) this.sender.setRemote(audio.remoteAddress, audio.remotePort);
    this.rtcp.setRemote(audio.remoteAddress, audio.remoteRtcpPort);
    const wasSending = this.sending;
    this.sending = remoteUsable && !audio.onHold && (audio.localDirection === 'sendrecv' || audio.localDirection === 'sendonly');
    // RFC 3551 §4.1: "the first packet after a silence period during which packets have not been transmitted
    // contiguously SHOULD be distinguished by setting the marker bit": after a hold, the next audio packet
    // marks the next audio packet (the sender is not ticked while held, so it cannot tell by itself).
    if (this.sending && !wasSending) this.sender.startTalkspurt();
    if (wasHeld && !audio.onHold) this.rtpWatchFrom = performance.now();
  }

  /** Starts the clock-driven part (sending, timeouts). Call once the call is answered. */
  start(): void {
    if (this.closed || this.unsubscribe) return;
    this.rtpWatchFrom = performance.now();
    this.unsubscribe = this.opts.clock.subscribe(this);
  }

  /** The peer confirmed the session (the ACK of our 2xx, or our ACK of its 2xx): RTP and RTCP may go out. */
  confirm(): void {
    this.peerConfirmed = true;
  }

  /** A SIP INFO body; counted as a key when it is a DTMF one. */
  infoDigit(contentType: string, body: Buffer): boolean {
    const key = parseDtmfInfoBody(contentType, body.toString('utf8'));
    if (key === undefined) return false;
    this.digits.key(key, 'info', performance.now());
    return true;
  }

  /** Records the caller (see Recorder); a terminating key is cut where its tone began. */
  record(path: string, options: RecordOptions): Promise<RecordOutcome> {
    // The recording starts now on the caller's timeline (the beep has just gone out), not where the packets
    // read so far end: a silence before it is not recorded, nor packets for before it still unread.
    this.receiveBuffer.startAt(performance.now());
    this.recordStart = this.pcmSamples;
    return this.recorder.start(path, options);
  }

  /** Ends everything: a recording in progress ends as a hang-up (its file is kept), plays resolve 'stopped'. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.receiveBuffer.flush();
    this.recorder.close();
    this.player.close();
    // RFC 3550 §6.6 BYE, only to a peer we have been talking to.
    this.rtcp.close(this.peerConfirmed ? this.sender : undefined);
    this.sender.close();
    this.link.setHandler(undefined);
    this.link.disconnect();
  }

  /** Adds this session's packet counts so far to `into` (/metrics: no object per call per scrape). */
  countPackets(into: RtpPacketTotals): void {
    into.sent += this.sender.packetsSent;
    into.received += this.receiver.stats.accepted;
    into.lost += this.receiveBuffer.stats.lost;
    into.discarded += this.receiver.stats.datagrams - this.receiver.stats.accepted;
  }

  stats(): Record<string, unknown> {
    return {
      sent: this.sender.packetsSent,
      sentConnected: this.link.sentConnected,
      received: this.receiver.stats,
      buffer: { lost: this.receiveBuffer.stats.lost, late: this.receiveBuffer.stats.late, filled: this.receiveBuffer.stats.filledSamples },
      rtcp: this.rtcp.stats,
      digitDuplicates: this.digits.duplicates,
    };
  }

  tick(now: bigint, frameIndex: number): void {
    if (this.closed) return;
    const transmit = this.peerConfirmed;
    const nowMs = performance.now();
    this.followSource(nowMs);
    if (this.sending && transmit) {
      // Finishing too: the recording's end (header, fsync) runs on the disk thread while the app still waits for
      // record(); switching back to silence then sent packets the 'none' policy promises not to.
      const recording = this.recorder.state === RecorderState.Recording || this.recorder.state === RecorderState.Finishing;
      this.sender.idle = recording ? (this.opts.whileRecording ?? 'silence') : 'silence';
      this.sender.tick(now, frameIndex);
    }
    this.events.poll(nowMs);
    // A tick right after a stalled event loop (or one of the catch-up burst after it) runs before the packets
    // that came meanwhile are read: it must not take their time for silence.
    const sinceTick = nowMs - this.lastTickMs;
    this.lastTickMs = nowMs;
    if (this.recorder.state === RecorderState.Recording && nowMs - this.lastAudioAtMs > PAD_AFTER_MS &&
      sinceTick >= FRAME_MS / 2 && sinceTick <= 3 * FRAME_MS) {
      // No packets at all (a muted or silence-suppressing sender that sends no comfort noise): keep the
      // recording's clock running so silence and max length still end it, by the caller's clock, not ticks.
      this.receiveBuffer.padTo(nowMs - PAD_AFTER_MS);
    }
    if (transmit) this.rtcp.tick(nowMs, this.sender);
    this.checkRtpTimeout(nowMs);
    this.delegate?.onTick(nowMs);
  }

  /**
   * The RTP socket is connected to the latched source while it is active, unconnected otherwise, so that the
   * re-latch rule can hear other sources once it has been quiet (rtp-link.ts).
   */
  private followSource(nowMs: number): void {
    const address = this.receiver.sourceAddress;
    if (address !== undefined && nowMs - this.receiver.lastAcceptedAtMs < this.receiver.relatchAfterMs) {
      this.link.connect(address, this.receiver.sourcePort);
    } else {
      this.link.disconnect();
    }
  }

  private checkRtpTimeout(nowMs: number): void {
    const limit = this.opts.noRtpTimeoutMs;
    if (limit <= 0 || this.timedOut || this.audio?.onHold === true) return;
    const last = Math.max(this.receiver.lastAcceptedAtMs, this.rtpWatchFrom);
    if (nowMs - last < limit) return;
    this.timedOut = true;
    this.delegate?.onNoRtp(nowMs - last);
  }

  /** The sender's source: the player's frame, transcoded when a re-INVITE moved us to the other law. */
  private readonly frameSource = (): Uint8Array | undefined => {
    const relay = this.relaySource;
    if (relay !== undefined) return relay();
    const frame = this.player.nextFrame();
    if (frame === undefined || this.sendLaw === this.playerLaw) return frame;
    transcodeG711(this.sendLaw === 'PCMA' ? ULAW_TO_ALAW : ALAW_TO_ULAW, frame, 0, G711_FRAME_BYTES, this.scratch, 0);
    return this.scratch;
  };

  private newSender(payloadType: number, continueFrom?: RtpSender): RtpSender {
    const sender = new RtpSender({
      payloadType,
      trailerRoom: SrtpKeys.MAX_TRAILER,
      ssrc: continueFrom?.ssrc,
      sequenceNumber: continueFrom?.nextSequenceNumber,
      timestamp: continueFrom?.timestamp,
      send: (buf, length, port, address) => {
        const out = this.srtp.outbound;
        const n = out === undefined ? length : out.protect(buf, length);
        if (n > 0) this.link.send(buf, n, port, address);
      },
    });
    sender.setSource(this.frameSource);
    const remote = continueFrom?.remote;
    if (remote) sender.setRemote(remote.address, remote.port);
    return sender;
  }

  private onAudio(view: RtpPacketView, buf: Buffer): void {
    // The receiver stamped this packet when it admitted it: no second clock read per packet.
    this.lastAudioAtMs = this.receiver.lastAcceptedAtMs;
    if (view.payloadType !== 13) {
      this.lastAudioEndTs = (view.timestamp + view.payloadLength) >>> 0;
      this.lastAudioSsrc = view.ssrc;
      this.onAudioPayload?.(buf, view.payloadOffset, view.payloadLength, view.payloadType === PT_PCMA ? 'PCMA' : 'PCMU');
    }
    this.receiveBuffer.push(view, buf, this.lastAudioAtMs);
  }

  /** The ReceiveBuffer's sink: the caller's audio, in order, gaps filled. */
  private readonly onPcm = (samples: Int16Array, count: number): void => {
    const base = this.pcmSamples;
    this.pcmSamples += count;
    // The recorder first: a key detected in this chunk may have begun in it, and the recorder can only cut
    // audio it already holds.
    this.recorder.pushSamples(samples, count);
    if (this.digits.inbandActive) {
      this.toneOffset = base - this.toneFed;
      this.tones.process(samples, 0, count);
      this.toneFed += count;
    }
  };

  /**
   * Where an RFC 4733 event began on the pcm timeline: by its RTP timestamp when it shares the audio's SSRC.
   * RFC 3550 §5.1: "the timestamps of different media streams may advance at different rates and usually have
   * independent, random offsets" -- an event sent under an SSRC of its own (SIPp's play_dtmf, some gateways)
   * cannot be placed by its timestamp; its first packet marks when the key went down, so it began now.
   */
  private eventStartSample(timestamp: number): number | undefined {
    this.eventStartExact = false;
    if (this.lastAudioSsrc < 0) return undefined;
    if (this.eventSsrc !== this.lastAudioSsrc) {
      // It began now, at the end of the audio read so far. When that audio stopped a packet time or more
      // before the key went down, none of it can carry the key's tone, so the cut there is exact: the guard
      // would only take the caller's last words (SIPp's play_dtmf after its rtp_stream lost 20 ms of tone).
      this.eventStartExact = performance.now() - this.lastAudioAtMs >= FRAME_MS;
      return this.pcmSamples;
    }
    const behind = tsDelta(this.lastAudioEndTs, timestamp);
    this.eventStartExact = behind >= 0;
    return behind >= 0 ? this.pcmSamples - behind : this.pcmSamples;
  }

  private onKey(key: DtmfKey, source: DigitSource, startSample: number | undefined): void {
    if (this.recorder.state === RecorderState.Recording) {
      const at = startSample === undefined ? undefined : Math.max(0, startSample - this.recordStart);
      // An event placed by its own timestamp on the audio's timeline is exact: no guard needed before it.
      this.recorder.digit(key, at, source === 'rfc4733' && this.eventStartExact);
    }
    // Barge-in: the next frame is no longer the prompt (Player.interrupt), so a key stops a prompt within one
    // packet time.
    this.player.interrupt(key);
    this.delegate?.onDigit(key, source);
  }
}
