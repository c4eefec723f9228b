/**
 * One call's outbound RTP stream (RFC 3550), driven by the shared MediaClock: on each 20 ms tick it asks its
 * source for 160 G.711 bytes, writes header + payload into a preallocated packet and hands it to `send`.
 *
 * - SSRC, first sequence number and first timestamp are random (RFC 3550 §5.1: "The initial value of the
 *   sequence number SHOULD be random (unpredictable)"; likewise the timestamp; §8.1 for SSRC).
 * - The timestamp advances 160 per frame whether or not a packet goes out, so it always tracks the sampling
 *   clock; the sequence number advances by one per packet sent (§5.1).
 * - Marker bit on the first packet of the stream and the first packet of audio after a pause or a new
 *   source. RFC 3551 §4.1: "the first packet of a talkspurt, that is, the first packet after a silence period
 *   during which packets have not been transmitted contiguously, SHOULD be distinguished by setting the
 *   marker bit"; the issue asks for it at the start of each prompt too, which also tells the PBX's jitter
 *   buffer it may re-centre there.
 * - With nothing to play, the sender sends G.711 silence by default rather than nothing: PBXs run media
 *   inactivity timers and adaptive jitter buffers, NATs and firewalls drop idle UDP bindings, and Asterisk and
 *   most voicemail systems send continuous RTP during prompts' gaps. `idle: 'none'` sends nothing instead
 *   (the timestamp still advances, and the next audio packet carries the marker); `idle: 'keepalive'` sends
 *   one silence packet every `keepaliveFrames` (1 s by default), marked as the start of a talkspurt since it
 *   follows a gap: enough for NAT bindings and media-inactivity timers, at 2% of the packets. The session
 *   switches the policy while recording, when nothing is played (pbx[].rtpWhileRecording).
 * - Symmetric RTP (RFC 4961): packets go to the address from SDP until the receiver calls learnRemote() with
 *   the address the peer's packets actually come from (latching; the receiver decides when to believe it).
 *
 * No allocation per packet: a small ring of preallocated packet buffers. A ring rather than one buffer
 * because dgram's send() on an unconnected socket resolves the address on process.nextTick before it reads
 * the buffer: when the clock catches up several missed ticks synchronously, one buffer would be rewritten
 * before the earlier sends read it and the same (last) frame would go out several times. The ring holds more
 * packets than the clock's largest burst (MediaClock.maxBurst, 12 with the default 200 ms catch-up cap);
 * the clock yields to the event loop after a burst, which lets the queued sends read their buffers.
 *
 * Not here: SRTP (protects the packet before send, later), RTCP sender reports (packetsSent / octetsSent are
 * kept for them), RFC 4733 digit events (a separate stream of the same SSRC), the socket itself.
 */
import { randomBytes } from 'node:crypto';
import { silenceCode } from './g711.js';
import type { ClockSubscriber } from './pacer.js';
import {
  G711_FRAME_BYTES, RTP_HEADER_LENGTH, allocRtpPacket, seqNext, writeRtpHeader,
} from './rtp-packet.js';

/** Sends `length` bytes of `buf` to port/address (dgram Socket.send with offset 0 in production). */
export type RtpSendFunction = (buf: Buffer, length: number, port: number, address: string) => void;

/** Gives the next 20 ms of payload (160 G.711 bytes), or undefined when there is nothing to play now. */
export type RtpFrameSource = () => Uint8Array | undefined;

/** What the sender does on a tick when the source has nothing: G.711 silence, one packet per keepalive interval, or nothing. */
export type RtpIdlePolicy = 'silence' | 'keepalive' | 'none';

export interface RtpSenderOptions {
  /** Where packets go: dgram socket send (offset 0) in production. Required. */
  send: RtpSendFunction;
  /** RTP payload type: 0 PCMU, 8 PCMA (RFC 3551 Table 4). Required. */
  payloadType: number;
  /** The payload byte of silence. Default: A-law silence (0xd5) for payload type 8, else u-law (0xff). */
  silenceByte?: number;
  /** What to send when the source has nothing. Default 'silence'. */
  idle?: RtpIdlePolicy;
  /** With idle 'keepalive': frames between keepalive packets. Default 50 (1 s). */
  keepaliveFrames?: number;
  /** SSRC to use, e.g. to keep a stream's identity. Default random. */
  ssrc?: number;
  /** First sequence number. Default random. */
  sequenceNumber?: number;
  /** First timestamp. Default random. */
  timestamp?: number;
  /** Packet buffers in the ring; must exceed the clock's largest catch-up burst. Default 16. */
  ringSize?: number;
  /** Spare bytes after each packet, so `send` can protect it in place (SRTP's tag). Default 0. */
  trailerRoom?: number;
}

/** Where the stream goes and why. */
export type RtpRemoteOrigin =
  /** No destination yet: ticks advance the timestamp but nothing is sent. */
  | 'none'
  /** The address and port from the peer's SDP (c= and m= lines). */
  | 'sdp'
  /** Where the peer's RTP actually came from (symmetric RTP, RFC 4961). */
  | 'learned';

function random32(): number {
  return randomBytes(4).readUInt32BE(0);
}

export class RtpSender implements ClockSubscriber {
  /** Our synchronization source identifier (RFC 3550 §5.1). */
  readonly ssrc: number;
  readonly payloadType: number;
  /** RTP packets sent (for RTCP SR "sender's packet count", RFC 3550 §6.4.1). */
  packetsSent = 0;
  /** Payload octets sent (for RTCP SR "sender's octet count"). */
  octetsSent = 0;
  /** Ticks on which the source gave a payload of the wrong length (padded with silence or cut). */
  badFrames = 0;
  /** Times the destination was changed by learnRemote(). */
  remoteChanges = 0;
  /** Monotonic time (ns) of the last packet sent, with its timestamp: an RTCP SR maps one to the other. */
  lastSentAt = 0n;

  private readonly sendFn: RtpSendFunction;
  /** What a tick sends when the source has nothing (may change between ticks). */
  idle: RtpIdlePolicy;
  private readonly silence: number;
  private readonly keepaliveFrames: number;
  /**
   * Frame index of the last packet sent; before the first, far enough back that a keepalive is due (a small
   * integer, not -Infinity: a double field would make V8 box the arithmetic on every tick).
   */
  private lastSentFrame = -1_000_000;
  private readonly ring: Buffer[];
  private ringIndex = 0;

  private seq: number;
  /**
   * The current frame's timestamp kept as a signed int32 (`| 0`): a uint32 above 2^31 does not fit V8's
   * small-integer form and would allocate a heap number on every tick (measured: 16 bytes per packet).
   * writeRtpHeader masks the bytes, so the sign does not matter there; getters give the unsigned value.
   */
  private ts: number;
  private sentTs = 0;
  private lastFrame: number | undefined = undefined;
  private source: RtpFrameSource | undefined = undefined;
  /** The next packet carrying audio starts a talkspurt. */
  private markNext = true;
  /** The first packet of the stream, whatever it carries, gets the marker. */
  private first = true;

  private address: string | undefined = undefined;
  private port = 0;
  private origin: RtpRemoteOrigin = 'none';
  private closed = false;

  constructor(options: RtpSenderOptions) {
    const pt = options.payloadType;
    if (!Number.isInteger(pt) || pt < 0 || pt > 127) throw new TypeError(`payloadType must be 0-127, got ${pt}`);
    const ringSize = options.ringSize ?? 16;
    if (!Number.isInteger(ringSize) || ringSize < 1) throw new TypeError(`ringSize must be >= 1, got ${ringSize}`);
    this.sendFn = options.send;
    this.payloadType = pt;
    this.silence = (options.silenceByte ?? silenceCode(pt === 8 ? 'PCMA' : 'PCMU')) & 0xff;
    this.idle = options.idle ?? 'silence';
    const keepalive = options.keepaliveFrames ?? 50;
    if (!Number.isInteger(keepalive) || keepalive < 1) throw new TypeError(`keepaliveFrames must be >= 1, got ${keepalive}`);
    this.keepaliveFrames = keepalive;
    this.ssrc = (options.ssrc ?? random32()) >>> 0;
    this.seq = (options.sequenceNumber ?? random32()) & 0xffff;
    this.ts = (options.timestamp ?? random32()) | 0;
    this.ring = [];
    for (let i = 0; i < ringSize; i++) this.ring.push(allocRtpPacket(G711_FRAME_BYTES + (options.trailerRoom ?? 0)));
  }

  /** The sequence number the next packet will carry. */
  get nextSequenceNumber(): number {
    return this.seq;
  }

  /** The timestamp of the frame of the last tick (the first tick uses the initial one); +160 per tick. */
  get timestamp(): number {
    return this.ts >>> 0;
  }

  /** The timestamp of the last packet sent (with lastSentAt, what an RTCP SR maps to wall time). */
  get lastSentTimestamp(): number {
    return this.sentTs >>> 0;
  }

  /** Current destination, or undefined before setRemote/learnRemote. */
  get remote(): { address: string; port: number; origin: RtpRemoteOrigin } | undefined {
    return this.address === undefined ? undefined : { address: this.address, port: this.port, origin: this.origin };
  }

  /**
   * Plays from `next` from the next tick on (undefined: nothing, i.e. idle). The first audio packet from a new
   * source carries the marker bit: a new prompt starts a talkspurt.
   */
  setSource(next: RtpFrameSource | undefined): void {
    this.source = next;
    this.markNext = true;
  }

  /**
   * The next audio packet starts a talkspurt and carries the marker bit (RFC 3551 §4.1): a new prompt, a new
   * relayed stream, or the first audio after a hold during which the sender was not ticked.
   */
  startTalkspurt(): void {
    this.markNext = true;
  }

  /** The destination from the peer's SDP (also on a re-INVITE, which overrides a learned address). */
  setRemote(address: string, port: number): void {
    this.address = address;
    this.port = port;
    this.origin = 'sdp';
  }

  /**
   * The address the peer's RTP arrives from (RFC 4961 §3: "a device that sends and receives RTP using the same
   * port"): send there from now on. Returns true when the destination changed. The caller (the receiver)
   * decides which packets to trust; this just latches.
   */
  learnRemote(address: string, port: number): boolean {
    if (this.address === address && this.port === port) {
      if (this.origin === 'sdp') this.origin = 'learned';
      return false;
    }
    this.address = address;
    this.port = port;
    this.origin = 'learned';
    this.remoteChanges++;
    return true;
  }

  /** Stops sending for good; later ticks do nothing. */
  close(): void {
    this.closed = true;
    this.source = undefined;
  }

  /** One clock tick. Never throws unless `send` or the source does (the clock reports it and carries on). */
  tick(now: bigint, frameIndex: number): void {
    if (this.closed) return;
    if (this.lastFrame !== undefined) {
      const frames = frameIndex - this.lastFrame;
      // A tick for a frame already handled (a second clock, a replay) must not send twice.
      if (frames <= 0) return;
      // RFC 3550 §5.1: the timestamp "reflects the sampling instant"; frames we were not ticked for (the
      // sender was off the clock) still elapsed.
      this.ts = (this.ts + G711_FRAME_BYTES * frames) | 0;
    }
    this.lastFrame = frameIndex;

    const payload = this.source === undefined ? undefined : this.source();
    if (payload === undefined) {
      // A pause: the next audio starts a talkspurt (RFC 3551 §4.1).
      this.markNext = true;
      if (this.idle === 'none') return;
      if (this.idle === 'keepalive' && frameIndex - this.lastSentFrame < this.keepaliveFrames) return;
    }
    if (this.address === undefined) return;

    const buf = this.ring[this.ringIndex]!;
    this.ringIndex = this.ringIndex + 1 === this.ring.length ? 0 : this.ringIndex + 1;
    // RFC 3551 §4.1: a packet after frames that were not sent starts a talkspurt (a keepalive always does).
    let marker = this.first || frameIndex - this.lastSentFrame > 1;
    if (payload === undefined) {
      buf.fill(this.silence, RTP_HEADER_LENGTH);
    } else {
      marker ||= this.markNext;
      this.markNext = false;
      const n = payload.length;
      if (n === G711_FRAME_BYTES) {
        buf.set(payload, RTP_HEADER_LENGTH);
      } else {
        // A short last frame of a prompt is padded with silence so every packet is 20 ms, as the timestamp says.
        this.badFrames++;
        const take = n < G711_FRAME_BYTES ? n : G711_FRAME_BYTES;
        for (let i = 0; i < take; i++) buf[RTP_HEADER_LENGTH + i] = payload[i]!;
        if (take < G711_FRAME_BYTES) buf.fill(this.silence, RTP_HEADER_LENGTH + take);
      }
    }
    this.first = false;
    this.lastSentFrame = frameIndex;
    writeRtpHeader(buf, this.payloadType, marker, this.seq, this.ts, this.ssrc);
    this.seq = seqNext(this.seq);
    this.packetsSent++;
    this.octetsSent += G711_FRAME_BYTES;
    this.lastSentAt = now;
    this.sentTs = this.ts;
    this.sendFn(buf, RTP_HEADER_LENGTH + G711_FRAME_BYTES, this.port, this.address);
  }
}
