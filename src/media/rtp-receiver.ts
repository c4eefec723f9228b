/**
 * The inbound packet path of one call's RTP socket: SRTP check and decryption, RTP parsing, source
 * latching (symmetric RTP), and dispatch by payload type to the audio path or the telephone-event decoder.
 *
 * Latching (RFC 4961 symmetric RTP, and the "strict RTP" idea of Asterisk): the first valid packet from a
 * LEGITIMATE source fixes the peer's media address; the sender is told to send there. Legitimate means the
 * call could have sent it: the host named by the current SDP's c= line (any port: a NAT may move the port), or
 * one of `trusted` (the PBX's own addresses and its media anchors, pbx[].addresses and pbx[].mediaAddresses).
 * Anything else is dropped and never latched, at set-up or later: a host that guesses our port can neither
 * hear the call (we never send to it) nor put audio into a message.
 *
 * Re-latching (README, "RTP sources"): once latched, other sources are dropped while the latched one keeps
 * sending. After `relatchAfterMs` of silence from it, the next packet from ANOTHER LEGITIMATE source takes
 * over: a PBX that re-anchors media to another of its gateways, or a NAT that changed the port, without a
 * re-INVITE. A new offer/answer (re-INVITE, UPDATE) re-opens latching against its new c= address. An attacker
 * meets neither rule unless it can send from the PBX's or the SDP's address.
 *
 * With SRTP, a packet must authenticate before it can latch or be counted as media (RFC 3711 §3.3: a packet
 * that fails authentication MUST be discarded).
 *
 * Never throws, allocates nothing per packet (one reused view; SRTP works in place on the received buffer).
 */
import { parseRtp, RtpPacketView } from './rtp-packet.js';
import type { SrtpContext } from './srtp/context.js';

/** A set of source addresses (IPv4/IPv6, CIDR): sip/trust.ts's AddressMatcher has this shape. */
export interface AddressSet {
  /** True when `address` is in the set; never throws. */
  matches(address: string): boolean;
}

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
  /** From a legitimate source other than the latched one while it was active. */
  foreignSource: number;
  /** From an address that is neither the SDP's nor trusted: never latched, never heard. */
  untrustedSource: number;
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
    datagrams: 0, accepted: 0, malformed: 0, srtpRejected: 0, foreignSource: 0, untrustedSource: 0, unknownPayloadType: 0,
    latches: 0,
  };
  /** Monotonic ms of the last accepted packet (0: none yet). */
  lastAcceptedAtMs = 0;
  private readonly view = new RtpPacketView();
  private eventPt = -1;
  private srtp: SrtpContext | undefined = undefined;
  private latchedAddress: string | undefined = undefined;
  private latchedPort = 0;
  /** The host of the current SDP's c= line (IPv4-mapped form stripped), or undefined (none, or on hold). */
  private sdpAddress: string | undefined = undefined;

  /**
   * @param trusted sources that may send this call's media besides the SDP's c= address (the PBX, its media
   *   anchors). Required: pass an empty set to trust the SDP address alone.
   */
  constructor(
    private readonly delegate: RtpReceiverDelegate,
    private readonly now: () => number,
    private readonly trusted: AddressSet,
    /** Silence of the latched source after which another legitimate source may take over. */
    readonly relatchAfterMs = 1000,
  ) {}

  /**
   * After each offer/answer: the telephone-event PT (or undefined), the inbound SRTP context (or none), and
   * the peer's c= address (undefined, 0.0.0.0 or :: when it names none).
   */
  configure(eventPayloadType: number | undefined, srtp: SrtpContext | undefined, remoteAddress: string | undefined): void {
    this.eventPt = eventPayloadType ?? -1;
    this.srtp = srtp;
    this.sdpAddress = remoteAddress === undefined || remoteAddress === '0.0.0.0' || remoteAddress === '::' ? undefined : canonical(remoteAddress);
    // A new answer may move the peer's media (RFC 3264 §8.3.1): learn its address again.
    this.latchedAddress = undefined;
  }

  /** The latched source's address (undefined: none yet, or latching re-opened) and port. */
  get sourceAddress(): string | undefined {
    return this.latchedAddress;
  }

  get sourcePort(): number {
    return this.latchedPort;
  }

  /** Whether packets from `address` may be this call's media (see the module comment). Also asked for RTCP. */
  isLegitimate(address: string): boolean {
    return (this.sdpAddress !== undefined && unmapped(address) === this.sdpAddress) || this.trusted.matches(address);
  }

  /** The dgram 'message' listener. */
  readonly onMessage = (msg: Buffer, rinfo: { address: string; port: number }): void => {
    this.stats.datagrams++;
    // A stranger's datagram is dropped before any work is spent on it (no SRTP, no parsing, no RTCP).
    const address = rinfo.address;
    if (address !== this.latchedAddress && !this.isLegitimate(address)) {
      this.stats.untrustedSource++;
      return;
    }
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
    if (!this.admit(address, rinfo.port)) return;
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
    // A legitimate source (onMessage checked) that is not the latched one takes over only once that one is quiet.
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

/** "::ffff:192.0.2.1" (what a dual-stack socket reports for an IPv4 peer) as "192.0.2.1"; anything else as is. */
function unmapped(address: string): string {
  return address.charCodeAt(0) === 58 /* : */ && address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * An SDP address in the form a socket reports a source in: IPv6 in RFC 5952 canonical text (lower case,
 * longest zero run compressed, as inet_ntop writes it), an IPv4-mapped one as plain IPv4. Per offer/answer,
 * not per packet.
 */
function canonical(address: string): string {
  const plain = unmapped(address.toLowerCase());
  if (!plain.includes(':')) return plain;
  try {
    return new URL(`http://[${plain}]/`).hostname.slice(1, -1);
  } catch {
    return address.toLowerCase();
  }
}
