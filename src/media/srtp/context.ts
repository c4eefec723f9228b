/**
 * One direction's SRTP/SRTCP cryptographic context (RFC 3711 §3.2): AES_CM_128 encryption with HMAC-SHA1
 * authentication, the rollover counter (§3.3.1, Appendix A) and the 64-packet replay list (§3.3.2), per SSRC.
 *
 * A call has two: one keyed with our SDES key that only protects, one keyed with the peer's that only
 * unprotects. Every method works in place on a caller's buffer and returns a length, or -1 for a packet
 * that must be dropped (malformed, no room, bad tag, replayed, too old); none throws on the packet path.
 * Cipher objects are made once per context (kdf.ts `AesCm`); the HMAC is computed from precomputed
 * inner/outer SHA-1 states (RFC 2104) copied per packet.
 *
 * Not here: key exchange (sdes.ts), key derivation rate other than 0, more than one master key, key
 * lifetime enforcement (the session counts packets against SdesCrypto.lifetime), AEAD suites, F8.
 */
import { createHash, timingSafeEqual, type Hash } from 'node:crypto';
import { AesCm, MASTER_KEY_LENGTH, MASTER_SALT_LENGTH, deriveSessionKeys, type SessionKeys } from './kdf.js';

/** The SDES crypto-suites we implement (RFC 4568 §6.2). */
export type SrtpSuite = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32';

/** Per-suite tag lengths in bytes. */
export const SRTP_SUITES: Readonly<Record<SrtpSuite, { readonly rtpTagLength: number; readonly rtcpTagLength: number }>> = {
  AES_CM_128_HMAC_SHA1_80: { rtpTagLength: 10, rtcpTagLength: 10 },
  // RFC 4568 §6.2.2 defines AES_CM_128_HMAC_SHA1_32 as _80 with a 32-bit SRTP tag; SRTCP keeps the 80-bit tag
  // (RFC 5764 §4.1.2 spells the profile out: "auth_tag_length: 32" for SRTP, 80 bits for SRTCP; RFC 3711
  // §7.5 warns that short tags suit only RTP's stateless playback). libsrtp, pjmedia and Asterisk do the same.
  AES_CM_128_HMAC_SHA1_32: { rtpTagLength: 4, rtcpTagLength: 10 },
};

/** Bytes protect() may add to an RTP packet: the 80-bit tag plus the largest MKI we accept. */
export const SRTP_MAX_TRAILER = 10 + 4;
/** Bytes protectRtcp() adds: E flag and SRTCP index (4), MKI (up to 4), 80-bit tag. */
export const SRTCP_MAX_TRAILER = 4 + 4 + 10;

/** Options of a context. */
export interface SrtpContextOptions {
  /** The master key identifier carried in every packet (RFC 3711 §3.1), when SDES gave one. Default: none. */
  readonly mki?: { readonly value: number; readonly length: number };
  /** SSRCs tracked at once; the oldest is forgotten beyond this. Default 16. */
  readonly maxStreams?: number;
}

/** Per-SSRC SRTP state: the highest sequence number s_l, its ROC, and the replay list. */
interface RtpStream {
  roc: number;
  highestSeq: number;
  readonly window: ReplayWindow;
}

const RTP_HEADER = 12;
const RTCP_HEADER = 8;
/** RFC 3711 §3.4: "SRTCP index: 31 bits". */
const MAX_SRTCP_INDEX = 0x7fffffff;

/** One direction's SRTP + SRTCP crypto context. Use one instance to protect or to unprotect, not both. */
export class SrtpContext {
  readonly suite: SrtpSuite;
  private readonly rtpTag: number;
  private readonly rtcpTag: number;
  private readonly mkiLength: number;
  private readonly mki: Buffer;
  private readonly maxStreams: number;
  private readonly rtpCipher: AesCm;
  private readonly rtcpCipher: AesCm;
  private readonly rtpSalt: Buffer;
  private readonly rtcpSalt: Buffer;
  private readonly rtpMac: HmacSha1;
  private readonly rtcpMac: HmacSha1;
  private readonly iv = Buffer.alloc(16);
  private readonly rocBytes = Buffer.alloc(4);
  private readonly rtpStreams = new Map<number, RtpStream>();
  private readonly rtcpWindows = new Map<number, ReplayWindow>();
  private rtcpIndex = 0;

  constructor(suite: SrtpSuite, masterKey: Uint8Array, masterSalt: Uint8Array, options: SrtpContextOptions = {}) {
    if (!(suite in SRTP_SUITES)) throw new TypeError(`unsupported SRTP suite ${String(suite)}`);
    if (masterKey.length !== MASTER_KEY_LENGTH) throw new TypeError('SRTP master key must be 16 bytes');
    if (masterSalt.length !== MASTER_SALT_LENGTH) throw new TypeError('SRTP master salt must be 14 bytes');
    const mki = options.mki;
    if (mki && (mki.length < 1 || mki.length > 4 || mki.value < 0 || mki.value >= 2 ** (8 * mki.length))) {
      throw new TypeError('MKI must be 1-4 bytes and its value must fit');
    }
    this.suite = suite;
    this.rtpTag = SRTP_SUITES[suite].rtpTagLength;
    this.rtcpTag = SRTP_SUITES[suite].rtcpTagLength;
    this.mkiLength = mki ? mki.length : 0;
    this.mki = Buffer.alloc(this.mkiLength);
    if (mki) this.mki.writeUIntBE(mki.value, 0, mki.length);
    this.maxStreams = options.maxStreams ?? 16;
    const keys = deriveSessionKeys(masterKey, masterSalt);
    this.rtpCipher = new AesCm(keys.rtp.encryption);
    this.rtcpCipher = new AesCm(keys.rtcp.encryption);
    this.rtpSalt = keys.rtp.salt;
    this.rtcpSalt = keys.rtcp.salt;
    this.rtpMac = new HmacSha1(keys.rtp);
    this.rtcpMac = new HmacSha1(keys.rtcp);
  }

  /**
   * Encrypts the payload of the RTP packet `rtp[0, length)` in place and appends MKI and tag (RFC 3711 §3.3).
   * `rtp` must have room for SRTP_MAX_TRAILER more bytes. Returns the SRTP length, or -1 (malformed, no
   * room, payload too long, or the 2^48 packet indices of this SSRC are used up).
   */
  protect(rtp: Buffer, length: number): number {
    const trailer = this.mkiLength + this.rtpTag;
    if (length > rtp.length || rtp.length < length + trailer) return -1;
    const headerLength = rtpHeaderLength(rtp, length);
    if (headerLength < 0) return -1;
    const seq = rtp.readUInt16BE(2);
    const ssrc = rtp.readUInt32BE(8);
    let stream = this.rtpStreams.get(ssrc);
    let roc = 0;
    if (stream) {
      roc = estimateRoc(stream, seq);
      // A sender's ROC never goes below 0, nor past 2^32 - 1 (RFC 3711 §9.2: 2^48 packets per master key).
      if (roc < 0 || roc > 0xffffffff) return -1;
    }
    this.setRtpIv(ssrc, roc, seq);
    if (!this.rtpCipher.xor(this.iv, rtp, headerLength, length - headerLength)) return -1;
    if (!stream) stream = this.addStream(ssrc, seq);
    if (roc * 0x10000 + seq > stream.roc * 0x10000 + stream.highestSeq) {
      stream.roc = roc;
      stream.highestSeq = seq;
    }
    // RFC 3711 §3.1: the MKI sits between the encrypted portion and the tag, and is not authenticated.
    this.mki.copy(rtp, length);
    this.rocBytes.writeUInt32BE(roc, 0);
    this.rtpMac.tag(rtp.subarray(0, length), this.rocBytes, rtp, length + this.mkiLength, this.rtpTag);
    return length + trailer;
  }

  /**
   * Verifies and decrypts the SRTP packet `srtp[0, length)` in place (RFC 3711 §3.3). Returns the RTP
   * length, or -1 for a packet to drop: malformed, wrong MKI, bad tag, replayed, or older than the
   * 64-packet replay window.
   */
  unprotect(srtp: Buffer, length: number): number {
    const trailer = this.mkiLength + this.rtpTag;
    if (length > srtp.length || length < RTP_HEADER + trailer) return -1;
    const authenticated = length - trailer;
    const headerLength = rtpHeaderLength(srtp, authenticated);
    if (headerLength < 0) return -1;
    if (this.mkiLength > 0 && !srtp.subarray(authenticated, authenticated + this.mkiLength).equals(this.mki)) {
      return -1;
    }
    const seq = srtp.readUInt16BE(2);
    const ssrc = srtp.readUInt32BE(8);
    const stream = this.rtpStreams.get(ssrc);
    // RFC 3711 §3.3.1: "the receiver ... initializes s_l to the first sequence number received" with ROC 0.
    const roc = stream ? estimateRoc(stream, seq) : 0;
    if (roc < 0 || roc > 0xffffffff) return -1;
    const index = roc * 0x10000 + seq;
    // RFC 3711 §3.3 step 2: "If the packet has already been received ... the packet is discarded" — the
    // replay list is consulted before the tag, but only updated after the tag verifies (step 6).
    if (stream && !stream.window.acceptable(index)) return -1;
    // RFC 3711 §3.3 step 4: "compute the authentication tag ... compare ... If the result is 'AUTHENTICATION
    // FAILURE', the packet MUST be discarded" — before anything is decrypted or any state is changed.
    this.rocBytes.writeUInt32BE(roc, 0);
    if (!this.rtpMac.verify(srtp.subarray(0, authenticated), this.rocBytes, srtp, length - this.rtpTag, this.rtpTag)) {
      return -1;
    }
    this.setRtpIv(ssrc, roc, seq);
    if (!this.rtpCipher.xor(this.iv, srtp, headerLength, authenticated - headerLength)) return -1;
    // RFC 3711 §3.3.1: "ROC and s_l [are] updated only after the packet has been authenticated".
    const s = stream ?? this.addStream(ssrc, seq);
    if (index > s.roc * 0x10000 + s.highestSeq) {
      s.roc = roc;
      s.highestSeq = seq;
    }
    s.window.accept(index);
    return authenticated;
  }

  /**
   * Protects the RTCP compound packet `rtcp[0, length)` in place (RFC 3711 §3.4): encrypts everything after
   * the first 8 bytes, appends E=1 || SRTCP index, the MKI, and the 80-bit tag. Returns the SRTCP length, or
   * -1 (malformed, no room, or 2^31 SRTCP packets sent with this key).
   */
  protectRtcp(rtcp: Buffer, length: number): number {
    const trailer = 4 + this.mkiLength + this.rtcpTag;
    if (length > rtcp.length || length < RTCP_HEADER || rtcp.length < length + trailer) return -1;
    if (rtcp[0]! >> 6 !== 2) return -1;
    if (this.rtcpIndex > MAX_SRTCP_INDEX) return -1;
    const index = this.rtcpIndex;
    const ssrc = rtcp.readUInt32BE(4);
    this.setRtcpIv(ssrc, index);
    if (!this.rtcpCipher.xor(this.iv, rtcp, RTCP_HEADER, length - RTCP_HEADER)) return -1;
    this.rtcpIndex++;
    // RFC 3711 §3.4: "E-flag: 1 bit, REQUIRED ... indicates if the current SRTCP packet is encrypted or
    // unencrypted"; "SRTCP index: 31 bits, REQUIRED ... a counter for the SRTCP packet".
    rtcp.writeUInt32BE((0x80000000 | index) >>> 0, length);
    this.mki.copy(rtcp, length + 4);
    // §3.4: the tag covers the header, the encrypted portion and E||index; not the MKI.
    this.rtcpMac.tag(rtcp.subarray(0, length + 4), null, rtcp, length + 4 + this.mkiLength, this.rtcpTag);
    return length + trailer;
  }

  /**
   * Verifies and (if E=1) decrypts the SRTCP packet `srtcp[0, length)` in place. Returns the RTCP length, or
   * -1 for a malformed, wrong-MKI, badly tagged, replayed or too-old packet.
   */
  unprotectRtcp(srtcp: Buffer, length: number): number {
    const trailer = 4 + this.mkiLength + this.rtcpTag;
    if (length > srtcp.length || length < RTCP_HEADER + trailer) return -1;
    if (srtcp[0]! >> 6 !== 2) return -1;
    const authenticated = length - this.mkiLength - this.rtcpTag;
    const rtcpLength = authenticated - 4;
    if (this.mkiLength > 0 && !srtcp.subarray(authenticated, authenticated + this.mkiLength).equals(this.mki)) {
      return -1;
    }
    const word = srtcp.readUInt32BE(rtcpLength);
    const encrypted = (word & 0x80000000) !== 0;
    const index = word & MAX_SRTCP_INDEX;
    const ssrc = srtcp.readUInt32BE(4);
    const window = this.rtcpWindows.get(ssrc);
    if (window && !window.acceptable(index)) return -1;
    if (!this.rtcpMac.verify(srtcp.subarray(0, authenticated), null, srtcp, length - this.rtcpTag, this.rtcpTag)) {
      return -1;
    }
    if (encrypted) {
      this.setRtcpIv(ssrc, index);
      if (!this.rtcpCipher.xor(this.iv, srtcp, RTCP_HEADER, rtcpLength - RTCP_HEADER)) return -1;
    }
    let w = window;
    if (!w) {
      if (this.rtcpWindows.size >= this.maxStreams) this.rtcpWindows.delete(this.rtcpWindows.keys().next().value!);
      w = new ReplayWindow();
      this.rtcpWindows.set(ssrc, w);
    }
    w.accept(index);
    return rtcpLength;
  }

  /** The ROC this context holds for `ssrc` (for the session's diagnostics), or undefined. */
  rolloverCounter(ssrc: number): number | undefined {
    return this.rtpStreams.get(ssrc >>> 0)?.roc;
  }

  private addStream(ssrc: number, seq: number): RtpStream {
    if (this.rtpStreams.size >= this.maxStreams) this.rtpStreams.delete(this.rtpStreams.keys().next().value!);
    const stream: RtpStream = { roc: 0, highestSeq: seq, window: new ReplayWindow() };
    this.rtpStreams.set(ssrc, stream);
    return stream;
  }

  /**
   * RFC 3711 §4.1.1: "IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16)", with i = 2^16 * ROC + SEQ.
   */
  private setRtpIv(ssrc: number, roc: number, seq: number): void {
    const iv = this.iv;
    this.rtpSalt.copy(iv, 0);
    iv[14] = 0;
    iv[15] = 0;
    iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
    iv.writeUInt32BE((iv.readUInt32BE(8) ^ roc) >>> 0, 8);
    iv.writeUInt16BE(iv.readUInt16BE(12) ^ seq, 12);
  }

  /** RFC 3711 §4.1.1 for SRTCP: the same IV with the 31-bit SRTCP index as i. */
  private setRtcpIv(ssrc: number, index: number): void {
    const iv = this.iv;
    this.rtcpSalt.copy(iv, 0);
    iv[14] = 0;
    iv[15] = 0;
    iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
    iv.writeUInt32BE((iv.readUInt32BE(10) ^ index) >>> 0, 10);
  }
}

/**
 * HMAC-SHA1 (RFC 2104) with the keyed inner and outer SHA-1 states computed once; each packet copies
 * them (`Hash.copy()`), which skips re-keying. Tags are truncated to the leftmost bytes (RFC 3711 §4.2).
 */
class HmacSha1 {
  private readonly inner: Hash;
  private readonly outer: Hash;

  constructor(keys: SessionKeys) {
    const pad = Buffer.alloc(64);
    keys.authentication.copy(pad);
    for (let i = 0; i < 64; i++) pad[i]! ^= 0x36;
    this.inner = createHash('sha1').update(pad);
    for (let i = 0; i < 64; i++) pad[i]! ^= 0x36 ^ 0x5c;
    this.outer = createHash('sha1').update(pad);
  }

  private digest(data: Uint8Array, suffix: Uint8Array | null): Buffer {
    const inner = this.inner.copy().update(data);
    if (suffix) inner.update(suffix);
    return this.outer.copy().update(inner.digest()).digest();
  }

  /** Writes the leftmost `tagLength` bytes of HMAC(data || suffix) at `out[at]`. */
  tag(data: Uint8Array, suffix: Uint8Array | null, out: Buffer, at: number, tagLength: number): void {
    this.digest(data, suffix).copy(out, at, 0, tagLength);
  }

  /** Compares the tag at `packet[at, at + tagLength)` in constant time. */
  verify(data: Uint8Array, suffix: Uint8Array | null, packet: Buffer, at: number, tagLength: number): boolean {
    const mac = this.digest(data, suffix);
    return timingSafeEqual(mac.subarray(0, tagLength), packet.subarray(at, at + tagLength));
  }
}

/**
 * RFC 3711 Appendix A: the receiver's guess v of the ROC of a packet with sequence number `seq`, from the
 * highest sequence number s_l seen and its ROC. May return -1 (a packet from before the first one seen).
 */
export function estimateRoc(stream: { readonly roc: number; readonly highestSeq: number }, seq: number): number {
  const sl = stream.highestSeq;
  if (sl < 32768) {
    // "if (SEQ - s_l > 32768) set v to (ROC-1) mod 2^32 else set v to ROC"
    return seq - sl > 32768 ? stream.roc - 1 : stream.roc;
  }
  // "if (s_l - 32768 > SEQ) set v to (ROC+1) mod 2^32 else set v to ROC"
  return sl - 32768 > seq ? stream.roc + 1 : stream.roc;
}

/**
 * The replay list of RFC 3711 §3.3.2 as a sliding window of 64 indices ("a sliding window ... SRTP_WINDOW_SIZE
 * MUST be at least 64"): the highest index accepted and a 64-bit bitmap (two 32-bit words) of the 64
 * indices at and below it. Indices up to 2^48 are exact in a JS number.
 */
export class ReplayWindow {
  /** Highest index accepted, -1 before the first. */
  private highest = -1;
  /** Bit k set: index highest - k was accepted (k 0-31 in lo, 32-63 in hi). */
  private lo = 0;
  private hi = 0;

  /** Window size in packets. */
  static readonly SIZE = 64;

  /** False for an index already accepted or older than the window ("too old"); true otherwise. */
  acceptable(index: number): boolean {
    if (this.highest < 0 || index > this.highest) return true;
    const k = this.highest - index;
    if (k >= ReplayWindow.SIZE) return false;
    return ((k < 32 ? this.lo >>> k : this.hi >>> (k - 32)) & 1) === 0;
  }

  /** Records an index; call only after the packet authenticated. */
  accept(index: number): void {
    if (this.highest < 0 || index > this.highest) {
      const d = this.highest < 0 ? ReplayWindow.SIZE : index - this.highest;
      if (d >= ReplayWindow.SIZE) {
        this.hi = 0;
        this.lo = 0;
      } else if (d >= 32) {
        this.hi = this.lo << (d - 32);
        this.lo = 0;
      } else {
        this.hi = (this.hi << d) | (this.lo >>> (32 - d));
        this.lo = this.lo << d;
      }
      this.lo |= 1;
      this.highest = index;
      return;
    }
    const k = this.highest - index;
    if (k >= ReplayWindow.SIZE) return;
    if (k < 32) this.lo |= 1 << k;
    else this.hi |= 1 << (k - 32);
  }
}

/**
 * Offset of the payload of the RTP packet `buf[0, length)`: 12 + 4·CC, plus a header extension
 * (RFC 3550 §5.3.1), or -1 when malformed. Padding stays inside the encrypted portion (RFC 3711 §3.1).
 */
function rtpHeaderLength(buf: Buffer, length: number): number {
  if (length < RTP_HEADER || buf[0]! >> 6 !== 2) return -1;
  let offset = RTP_HEADER + (buf[0]! & 0x0f) * 4;
  if ((buf[0]! & 0x10) !== 0) {
    if (offset + 4 > length) return -1;
    offset += 4 + buf.readUInt16BE(offset + 2) * 4;
  }
  return offset > length ? -1 : offset;
}
