/**
 * RTP fixed header (RFC 3550 §5.1): parse into a reused view, write into a preallocated buffer, and compare
 * 16-bit sequence numbers and 32-bit timestamps across wrap-around.
 *
 * Pure byte-level code: no sockets, no timers, and nothing allocated per packet. parseRtp() never throws: a
 * malformed packet returns false and leaves the view in an unspecified state.
 *
 * Not here: RTCP (a packet whose second byte is 200-204 is RTCP when a peer multiplexes it, RFC 5761 §4;
 * the session layer decides that before calling us), SRTP, header-extension contents (skipped, not read).
 */

/** Length of the fixed header without CSRCs (RFC 3550 §5.1). */
export const RTP_HEADER_LENGTH = 12;
/** 20 ms of G.711 at 8 kHz: the payload length of every packet we send. */
export const G711_FRAME_BYTES = 160;

/** The parsed fields of one RTP packet. One view is reused for every packet of a socket. */
export class RtpPacketView {
  /** P bit: the payload is followed by padding (already excluded from payloadLength). */
  padding = false;
  /** X bit: a header extension followed the CSRC list (skipped). */
  extension = false;
  /** CC: number of CSRC identifiers. */
  csrcCount = 0;
  /** M bit: for audio, the first packet of a talkspurt (RFC 3551 §4.1). */
  marker = false;
  /** PT: 0 PCMU, 8 PCMA, 13 CN, dynamic for telephone-event. */
  payloadType = 0;
  /** 16-bit sequence number. */
  sequenceNumber = 0;
  /** 32-bit timestamp, unsigned. */
  timestamp = 0;
  /** 32-bit SSRC, unsigned. */
  ssrc = 0;
  /** Offset of the payload in the buffer that was parsed. */
  payloadOffset = 0;
  /** Length of the payload, padding excluded (may be 0). */
  payloadLength = 0;
}

/**
 * Parses the first `length` bytes of `buf` (default: all of it) into `view`. Returns false for anything
 * that is not a well-formed RTP version 2 packet; never throws and never allocates.
 */
export function parseRtp(buf: Uint8Array, view: RtpPacketView, length: number = buf.length): boolean {
  if (length > buf.length || length < RTP_HEADER_LENGTH) return false;
  const b0 = buf[0]!;
  // RFC 3550 §5.1: "version (V): 2 bits ... The version defined by this specification is two (2)."
  if (b0 >> 6 !== 2) return false;
  const b1 = buf[1]!;
  const csrcCount = b0 & 0x0f;
  let offset = RTP_HEADER_LENGTH + csrcCount * 4;
  if (offset > length) return false;
  const extension = (b0 & 0x10) !== 0;
  if (extension) {
    // RFC 3550 §5.3.1: a 16-bit profile field, then "a 16-bit length field that counts the number of
    // 32-bit words in the extension, excluding the four-octet extension header".
    if (offset + 4 > length) return false;
    const words = (buf[offset + 2]! << 8) | buf[offset + 3]!;
    offset += 4 + words * 4;
    if (offset > length) return false;
  }
  let end = length;
  const padding = (b0 & 0x20) !== 0;
  if (padding) {
    // RFC 3550 §5.1: "The last octet of the padding contains a count of how many padding octets should
    // be ignored, including itself." Zero, or more than the payload holds, is malformed.
    const count = buf[length - 1]!;
    if (count === 0 || offset + count > length) return false;
    end = length - count;
  }
  view.padding = padding;
  view.extension = extension;
  view.csrcCount = csrcCount;
  view.marker = (b1 & 0x80) !== 0;
  view.payloadType = b1 & 0x7f;
  view.sequenceNumber = (buf[2]! << 8) | buf[3]!;
  view.timestamp = ((buf[4]! << 24) | (buf[5]! << 16) | (buf[6]! << 8) | buf[7]!) >>> 0;
  view.ssrc = ((buf[8]! << 24) | (buf[9]! << 16) | (buf[10]! << 8) | buf[11]!) >>> 0;
  view.payloadOffset = offset;
  view.payloadLength = end - offset;
  return true;
}

/** A buffer for one outgoing packet: 12 header bytes + `payloadBytes` (default 160, 20 ms of G.711). */
export function allocRtpPacket(payloadBytes: number = G711_FRAME_BYTES): Buffer {
  return Buffer.alloc(RTP_HEADER_LENGTH + payloadBytes);
}

/**
 * Writes a 12-byte header (V=2, no padding, no extension, no CSRC) at the start of `buf`, in place.
 * The payload goes at RTP_HEADER_LENGTH. Values are masked to their field widths.
 */
export function writeRtpHeader(
  buf: Uint8Array,
  payloadType: number,
  marker: boolean,
  sequenceNumber: number,
  timestamp: number,
  ssrc: number,
): void {
  buf[0] = 0x80;
  buf[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  buf[2] = (sequenceNumber >>> 8) & 0xff;
  buf[3] = sequenceNumber & 0xff;
  buf[4] = (timestamp >>> 24) & 0xff;
  buf[5] = (timestamp >>> 16) & 0xff;
  buf[6] = (timestamp >>> 8) & 0xff;
  buf[7] = timestamp & 0xff;
  buf[8] = (ssrc >>> 24) & 0xff;
  buf[9] = (ssrc >>> 16) & 0xff;
  buf[10] = (ssrc >>> 8) & 0xff;
  buf[11] = ssrc & 0xff;
}

/**
 * a - b for 16-bit sequence numbers, as a signed distance in [-32768, 32767]: positive when `a` is after
 * `b` modulo 2^16 (RFC 3550 §A.1 compares sequence numbers the same way, as unsigned 16-bit differences).
 */
export function seqDelta(a: number, b: number): number {
  return (((a - b) & 0xffff) << 16) >> 16;
}

/** True when sequence number `a` comes after `b` (modulo 2^16). */
export function seqAfter(a: number, b: number): boolean {
  return seqDelta(a, b) > 0;
}

/** The sequence number after `seq`, wrapping at 2^16. */
export function seqNext(seq: number): number {
  return (seq + 1) & 0xffff;
}

/** a - b for 32-bit RTP timestamps, as a signed 32-bit distance (positive when `a` is later). */
export function tsDelta(a: number, b: number): number {
  return (a - b) | 0;
}

/** `ts` + `samples`, wrapped to an unsigned 32-bit timestamp. */
export function tsAdd(ts: number, samples: number): number {
  return (ts + samples) >>> 0;
}
