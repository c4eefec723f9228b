/**
 * The inbound packet path of one call's RTP socket: SRTP check and decryption, RTP parsing, source
 * latching (symmetric RTP), and dispatch by payload type to the audio path or the telephone-event decoder.
 *
 * Latching (RFC 4961 symmetric RTP, and the "strict RTP" idea of Asterisk): the first valid packet fixes the
 * peer's media address; the sender is told to send there. Packets from anywhere else are dropped (someone
 * guessing our port cannot inject audio into a message) unless the latched source has been silent for
 * `relatchAfterMs`: then a new source takes over, which is what a PBX that re-anchors media without a
 * re-INVITE looks like. A new offer/answer (re-INVITE) re-opens latching.
 *
 * With SRTP, a packet must authenticate before it can latch or be counted as media (RFC 3711 §3.3: a packet
 * that fails authentication MUST be discarded).
 *
 * Never throws, allocates nothing per packet (one reused view; SRTP works in place on the received buffer).
 */
import { parseRtp, RtpPacketView } from './rtp-packet.js';
import type { SrtpContext } from './srtp/context.js';

export interface RtpReceiverDelegate {
  /** An audio (PCMU/PCMA) or comfort-noise packet from the latched source. */
  onAudio(view: RtpPacketView, buf: Buffer): void;
  /** A telephone-event packet (the negotiated PT) from the latched source. */
  onEvent(view: RtpPacketView, buf: Buffer): void;
  /** The peer's media address was learnt or changed: send there. */
  onLatch(address: string, port: number): void;
  /** An RTCP packet multiplexed on the RTP port (RFC 5761 §4: PT 200-204 in the second byte). */
  onRtcp(buf: Buffer, length: number): void;
}

export interface RtpReceiveStats {
  /** Datagrams that reached the socket. */
  datagrams: number;
  /** Packets taken as media (after SRTP, latching and payload-type checks). */
  accepted: number;
  /** Not RTP version 2, or too short. */
  malformed: number;
  /** SRTP authentication or replay check failed (tampered, replayed, or wrong key). */
  srtpRejected: number;
  /** From an address other than the latched one. */
  foreignSource: number;
  /** A payload type we did not negotiate and do not understand. */
  unknownPayloadType: number;
  /** Times the source address was (re)latched. */
  latches: number;
}

/** RFC 3551 static payload types we decode whatever was negotiated: a PBX may switch law mid-call. */
const PT_PCMU = 0;
const PT_PCMA = 8;
/** RFC 3389 §5 comfort noise. */
const PT_CN = 13;

export class RtpReceiver {
  readonly stats: RtpReceiveStats = {
    datagrams: 0, accepted: 0, malformed: 0, srtpRejected: 0, foreignSource: 0, unknownPayloadType: 0, latches: 0,
  };
  /** Monotonic ms of the last accepted packet (0: none yet). */
  lastAcceptedAtMs = 0;
  private readonly view = new RtpPacketView();
  private eventPt = -1;
  private srtp: SrtpContext | undefined = undefined;
  private latchedAddress: string | undefined = undefined;
  private latchedPort = 0;

  constructor(
    private readonly delegate: RtpReceiverDelegate,
    private readonly now: () => number,
    private readonly relatchAfterMs = 1000,
  ) {}

  /** After each offer/answer: the telephone-event PT (or undefined) and the inbound SRTP context (or none). */
  configure(eventPayloadType: number | undefined, srtp: SrtpContext | undefined): void {
    this.eventPt = eventPayloadType ?? -1;
    this.srtp = srtp;
    // A new answer may move the peer's media (RFC 3264 §8.3.1): learn its address again.
    this.latchedAddress = undefined;
  }

  /** The dgram 'message' listener. */
  readonly onMessage = (msg: Buffer, rinfo: { address: string; port: number }): void => {
    this.stats.datagrams++;
    let length = msg.length;
    if (length >= 2 && msg[1]! >= 200 && msg[1]! <= 204) {
      this.delegate.onRtcp(msg, length);
      return;
    }
    if (this.srtp !== undefined) {
      length = this.srtp.unprotect(msg, length);
      if (length < 0) {
        this.stats.srtpRejected++;
        return;
      }
    }
    const view = this.view;
    if (!parseRtp(msg, view, length)) {
      this.stats.malformed++;
      return;
    }
    const pt = view.payloadType;
    const isAudio = pt === PT_PCMU || pt === PT_PCMA || pt === PT_CN;
    if (!isAudio && pt !== this.eventPt) {
      this.stats.unknownPayloadType++;
      return;
    }
    if (!this.admit(rinfo.address, rinfo.port)) return;
    this.stats.accepted++;
    if (isAudio) this.delegate.onAudio(view, msg);
    else this.delegate.onEvent(view, msg);
  };

  private admit(address: string, port: number): boolean {
    const now = this.now();
    if (address === this.latchedAddress && port === this.latchedPort) {
      this.lastAcceptedAtMs = now;
      return true;
    }
    if (this.latchedAddress !== undefined && now - this.lastAcceptedAtMs < this.relatchAfterMs) {
      this.stats.foreignSource++;
      return false;
    }
    this.latchedAddress = address;
    this.latchedPort = port;
    this.lastAcceptedAtMs = now;
    this.stats.latches++;
    this.delegate.onLatch(address, port);
    return true;
  }
}
