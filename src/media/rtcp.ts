/**
 * RTCP (RFC 3550 §6) for one call's media session: read the peer's compound packets into a caller-owned stats
 * object (what metrics and call-quality logs show), and write our own report (SR or RR, then SDES CNAME,
 * optionally BYE) into a preallocated buffer.
 *
 * - parseRtcpCompound() applies the header validity checks of §A.2 to the whole compound packet before it
 *   reads anything, so a rejected packet only increments `malformed`. It never throws and never allocates.
 * - Report blocks about our SSRC (the peer telling us how our stream reaches it) are kept field by field;
 *   blocks about any other SSRC are only counted.
 * - When to send: the session sends one report every RTCP_REPORT_INTERVAL_MS (5 s) from the shared media
 *   clock, an SR while we have sent RTP since the previous report and an RR otherwise (§6.4: "The sender
 *   report is issued by a participant that has sent RTP packets since the second previous report"; we
 *   simplify to the previous one). A two-party call needs none of the §6.3 interval computation: with 5 % of
 *   64 kbit/s for RTCP and two members the computed interval is far below the 5 s minimum. No jitter is
 *   applied to the interval (§6.3.1 randomizes it to avoid synchronized senders in large sessions).
 *
 * Not here: sockets, timers, SRTCP (the session protects the written bytes; leave SRTCP_MAX_TRAILER bytes of
 * room), SDES items other than CNAME (counted, not read), RFC 5506 reduced-size RTCP (a compound that does
 * not start with SR or RR is malformed: we never offer a=rtcp-rsize), RTPFB/PSFB/XR contents (counted in
 * `other`), computing the reception statistics we report (the receive side does, §A.3).
 */

/**
 * RFC 3550 §6.2: "The RECOMMENDED value for a fixed minimum interval is 5 seconds." vmpilot sends one report
 * per call every 5 s (see the module comment); nothing else computes an interval.
 */
export const RTCP_REPORT_INTERVAL_MS = 5000;

/** Packet types (RFC 3550 §12.1). 205-207 (RFC 4585 RTPFB/PSFB, RFC 3611 XR) are counted as `other`. */
export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
export const RTCP_APP = 204;

/** Seconds from the NTP epoch (1900-01-01T00:00:00Z) to the Unix epoch (1970-01-01T00:00:00Z). */
export const NTP_UNIX_OFFSET_S = 2208988800;

const HEADER = 4;
const SENDER_INFO = 20;
const REPORT_BLOCK = 24;
const MAX_CNAME_BYTES = 255;

/**
 * The largest compound writeSenderReport()/writeReceiverReport() produce: SR with one report block (52),
 * SDES with one chunk holding a 255-byte CNAME (268), BYE (8). Preallocate this much (plus the SRTCP trailer).
 */
export const RTCP_REPORT_MAX_BYTES =
  HEADER + 4 + SENDER_INFO + REPORT_BLOCK + HEADER + pad4(4 + 2 + MAX_CNAME_BYTES + 1) + HEADER + 4;

/**
 * What one call has received over RTCP. The caller owns one instance per call and passes it to every
 * parseRtcpCompound() call; fields only ever change in place. `last*` fields keep their previous value until
 * a packet carries a new one (compare counters to see whether it did).
 */
export class RtcpReceiveStats {
  /** Compound packets (datagrams) that passed the §A.2 validity checks. */
  packets = 0;
  /** Datagrams rejected as not a valid compound RTCP packet; nothing else is updated for them. */
  malformed = 0;
  /** Sender report packets (PT 200). */
  srCount = 0;
  /** Receiver report packets (PT 201). */
  rrCount = 0;
  /** Source description packets (PT 202); their items are not read. */
  sdes = 0;
  /** Goodbye packets (PT 203). */
  bye = 0;
  /** Application-defined packets (PT 204). */
  app = 0;
  /** Packets of any other type, e.g. 205 RTPFB, 206 PSFB (RFC 4585), 207 XR (RFC 3611). */
  other = 0;
  /** BYE packets naming an SSRC other than ours: the peer saying its source is leaving (§6.6). */
  byeReceived = 0;

  /** Report blocks in SR and RR packets, whatever SSRC they are about. */
  reportBlocks = 0;
  /** Report blocks whose SSRC_n is ours; the fields below come from the latest of them. */
  reportBlocksAboutUs = 0;
  /** SSRC of the packet sender that sent the latest block about us. */
  lastReporterSsrc = 0;
  /** Fraction of our packets lost since its previous report, 0-255 as sent (fixed point, /256). */
  lastFractionLost = 0;
  /** lastFractionLost as a ratio, 0 to 255/256. */
  lastFractionLostRatio = 0;
  /** Cumulative number of our packets lost (signed 24-bit: negative when duplicates arrived). */
  lastCumulativeLost = 0;
  /** Extended highest sequence number received from us (cycles << 16 | highest sequence number). */
  lastHighestSeq = 0;
  /** Interarrival jitter of our stream, in timestamp units (8000 per second for G.711). */
  lastJitter = 0;
  /** LSR: middle 32 bits of the NTP timestamp of our last SR the peer received; 0 if none. */
  lastLsr = 0;
  /** DLSR: delay between that SR arriving and this report leaving, in 1/65536 s; 0 if no SR yet. */
  lastDlsr = 0;

  /** SSRC of the latest sender report's sender. */
  lastSrSsrc = 0;
  /**
   * Middle 32 bits of the latest SR's NTP timestamp: the LSR we put in our next report block. The caller
   * records the arrival time itself (when srCount changes) to compute our DLSR (dlsrFromMs()).
   */
  lastSrNtpMiddle = 0;
  /** RTP timestamp of the latest SR (same instant as its NTP timestamp). */
  lastSrRtpTimestamp = 0;
  /** The sender's packet count in the latest SR. */
  lastSrPacketCount = 0;
  /** The sender's octet count in the latest SR. */
  lastSrOctetCount = 0;
}

/**
 * Reads the first `length` bytes of `buf` as one compound RTCP packet. Returns false (and counts it in
 * `stats.malformed`, changing nothing else) unless it passes the §A.2 checks; otherwise counts every packet
 * in it, updates the report fields and returns true. `ourSsrc` is the SSRC of the RTP stream we send.
 * Never throws and never allocates.
 */
export function parseRtcpCompound(buf: Uint8Array, length: number, stats: RtcpReceiveStats, ourSsrc: number): boolean {
  if (!(length >= 0 && length <= buf.length) || !walk(buf, length, null, 0)) {
    stats.malformed++;
    return false;
  }
  walk(buf, length, stats, ourSsrc >>> 0);
  stats.packets++;
  return true;
}

/**
 * One pass over the compound packet: checks only when `stats` is null, records when it is not (the second
 * pass runs only over a packet the first pass accepted).
 */
function walk(buf: Uint8Array, length: number, stats: RtcpReceiveStats | null, ourSsrc: number): boolean {
  // RFC 3550 §A.2: "The payload type field of the first RTCP packet in a compound packet must be equal to SR
  // or RR." (An RTP packet sent to the RTCP port fails this: its PT is at most 127.)
  if (length < HEADER || (buf[1] !== RTCP_SR && buf[1] !== RTCP_RR)) return false;
  let offset = 0;
  while (offset < length) {
    if (offset + HEADER > length) return false;
    const b0 = buf[offset]!;
    // §6.4.1: "version (V): 2 bits ... The version defined by this specification is two (2)."
    if (b0 >> 6 !== 2) return false;
    // §6.4.1: "length: 16 bits The length of this RTCP packet in 32-bit words minus one, including the
    // header and any padding."
    const size = (((buf[offset + 2]! << 8) | buf[offset + 3]!) + 1) * 4;
    const next = offset + size;
    // §A.2: "The length fields of the individual RTCP packets must add up to the overall length of the
    // compound RTCP packet as received."
    if (next > length) return false;
    let end = next;
    if ((b0 & 0x20) !== 0) {
      // §6.4.1: "padding MUST only be added to the last individual packet, and if padding is added to that
      // packet, the padding bit MUST be set only on that packet." §A.2 also wants P clear on the first
      // packet; we accept a lone packet (first and last at once) with padding, as an encrypting peer may
      // send one. "The last octet of the padding is a count of how many padding octets should be ignored,
      // including itself".
      if (next !== length) return false;
      const count = buf[next - 1]!;
      if (count === 0 || count > size - HEADER) return false;
      end = next - count;
    }
    if (!readPacket(buf, offset, end, stats, ourSsrc)) return false;
    offset = next;
  }
  return offset === length;
}

/** Checks (stats null) or records one individual packet spanning [offset, end), padding excluded. */
function readPacket(buf: Uint8Array, offset: number, end: number, stats: RtcpReceiveStats | null, ourSsrc: number): boolean {
  const count = buf[offset]! & 0x1f;
  const pt = buf[offset + 1]!;
  const body = offset + HEADER;
  switch (pt) {
    case RTCP_SR: {
      // §6.4.1: SSRC of sender, 20 octets of sender info, RC report blocks, then optional profile extensions.
      if (body + 4 + SENDER_INFO + count * REPORT_BLOCK > end) return false;
      if (stats === null) return true;
      stats.srCount++;
      stats.lastSrSsrc = u32(buf, body);
      // §6.4.1 LSR: "The middle 32 bits out of 64 in the NTP timestamp ... received as part of the most
      // recent RTCP sender report (SR) packet".
      stats.lastSrNtpMiddle = u32(buf, body + 6);
      stats.lastSrRtpTimestamp = u32(buf, body + 12);
      stats.lastSrPacketCount = u32(buf, body + 16);
      stats.lastSrOctetCount = u32(buf, body + 20);
      readReportBlocks(buf, body + 4 + SENDER_INFO, count, u32(buf, body), stats, ourSsrc);
      return true;
    }
    case RTCP_RR: {
      if (body + 4 + count * REPORT_BLOCK > end) return false;
      if (stats === null) return true;
      stats.rrCount++;
      readReportBlocks(buf, body + 4, count, u32(buf, body), stats, ourSsrc);
      return true;
    }
    case RTCP_SDES:
      if (stats !== null) stats.sdes++;
      return true;
    case RTCP_BYE: {
      // §6.6: SC SSRC/CSRC identifiers, then an optional reason.
      if (body + count * 4 > end) return false;
      if (stats === null) return true;
      stats.bye++;
      for (let i = 0; i < count; i++) {
        if (u32(buf, body + i * 4) !== ourSsrc) {
          stats.byeReceived++;
          break;
        }
      }
      return true;
    }
    case RTCP_APP:
      // §6.7: SSRC/CSRC and a four-octet name precede the application data.
      if (body + 8 > end) return false;
      if (stats !== null) stats.app++;
      return true;
    default:
      // §A.2: "The packet type is not checked for subsequent packets since unknown packet types may be
      // present and should be ignored."
      if (stats !== null) stats.other++;
      return true;
  }
}

function readReportBlocks(
  buf: Uint8Array, offset: number, count: number, reporter: number, stats: RtcpReceiveStats, ourSsrc: number,
): void {
  stats.reportBlocks += count;
  for (let i = 0; i < count; i++, offset += REPORT_BLOCK) {
    if (u32(buf, offset) !== ourSsrc) continue;
    stats.reportBlocksAboutUs++;
    stats.lastReporterSsrc = reporter;
    // §6.4.1 fraction lost: "expressed as a fixed point number with the binary point at the left edge of the
    // field. (That is equivalent to taking the integer part after multiplying the loss fraction by 256.)"
    const fraction = buf[offset + 4]!;
    stats.lastFractionLost = fraction;
    stats.lastFractionLostRatio = fraction / 256;
    // §6.4.1 cumulative number of packets lost: 24 bits, "Note that this can be negative if there are
    // duplicates." Sign-extend from bit 23.
    stats.lastCumulativeLost = ((buf[offset + 5]! << 24) | (buf[offset + 6]! << 16) | (buf[offset + 7]! << 8)) >> 8;
    stats.lastHighestSeq = u32(buf, offset + 8);
    stats.lastJitter = u32(buf, offset + 12);
    stats.lastLsr = u32(buf, offset + 16);
    stats.lastDlsr = u32(buf, offset + 20);
  }
}

function u32(buf: Uint8Array, o: number): number {
  return ((buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!) >>> 0;
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

// ---------------------------------------------------------------------------------------------------------
// Time conversions

/**
 * NTP seconds for a Unix time in ms. RFC 3550 §4: NTP time is "in seconds relative to 0h UTC on 1 January
 * 1900", "a 64-bit unsigned fixed-point number with the integer part in the first 32 bits and the fractional
 * part in the last 32 bits". The seconds wrap to 0 in 2036 (NTP era 1), as on the wire.
 */
export function ntpSeconds(unixMs: number): number {
  return (Math.floor(unixMs / 1000) + NTP_UNIX_OFFSET_S) >>> 0;
}

/** The 32-bit NTP fraction of a second (units of 2^-32 s) for a Unix time in ms. */
export function ntpFraction(unixMs: number): number {
  const ms = unixMs - Math.floor(unixMs / 1000) * 1000;
  return Math.min(0xffffffff, Math.floor((ms / 1000) * 0x100000000)) >>> 0;
}

/** The middle 32 bits of the 64-bit NTP timestamp (16.16 seconds), as LSR and round trips use it (§6.4.1). */
export function ntpMiddle32(unixMs: number): number {
  return (((ntpSeconds(unixMs) & 0xffff) << 16) | (ntpFraction(unixMs) >>> 16)) >>> 0;
}

/**
 * A DLSR value for a delay in ms: §6.4.1 "The delay, expressed in units of 1/65536 seconds, between receiving
 * the last SR packet from source SSRC_n and sending this reception report block."
 */
export function dlsrFromMs(delayMs: number): number {
  const units = Math.round((delayMs * 65536) / 1000);
  return units > 0 ? Math.min(units, 0xffffffff) : 0;
}

/**
 * Round-trip time in ms from a report block about us, or -1 when it cannot be known (LSR 0: the peer has not
 * received an SR from us) or comes out negative (clock trouble). §6.4.1: the sender records "the time A when
 * this reception report block is received" and computes the round-trip propagation delay as
 * "(A - LSR - DLSR)". `arrivalNtpMiddle` is ntpMiddle32() of the arrival time.
 */
export function rtcpRoundTripMs(arrivalNtpMiddle: number, lsr: number, dlsr: number): number {
  if (lsr === 0) return -1;
  const units = (arrivalNtpMiddle - lsr - dlsr) | 0;
  return units < 0 ? -1 : (units * 1000) / 65536;
}

/**
 * Fraction lost as sent in a report block (0-255) from this interval's counts, as in RFC 3550 §A.3:
 * "lost_interval = expected_interval - received_interval; if (expected_interval == 0 || lost_interval <= 0)
 * fraction = 0; else fraction = (lost_interval << 8) / expected_interval;"
 */
export function fractionLostByte(expectedInterval: number, receivedInterval: number): number {
  const lost = expectedInterval - receivedInterval;
  if (expectedInterval <= 0 || lost <= 0) return 0;
  return Math.min(255, Math.floor((lost * 256) / expectedInterval));
}

// ---------------------------------------------------------------------------------------------------------
// Writing our report

/** One reception report block (RFC 3550 §6.4.1) about the peer's stream. */
export interface RtcpReportBlock {
  /** SSRC of the peer's stream this block is about. */
  ssrc: number;
  /** Fraction lost since our previous report, 0-255 (fractionLostByte()); clamped. */
  fractionLost: number;
  /** Cumulative packets lost, signed; clamped to 24 bits as §A.3 does. */
  cumulativeLost: number;
  /** Extended highest sequence number received (cycles << 16 | highest). */
  highestSeqExtended: number;
  /** Interarrival jitter in timestamp units (§6.4.1, §A.8). */
  jitter: number;
  /** The peer's lastSrNtpMiddle, or 0 if no SR received. */
  lsr: number;
  /** Delay since that SR arrived, in 1/65536 s (dlsrFromMs()), or 0 if no SR received. */
  dlsr: number;
}

export interface ReceiverReportOptions {
  /** Our SSRC (the SSRC of the RTP stream we send). Required. */
  ssrc: number;
  /** SDES CNAME (§6.5.1), at most 255 UTF-8 bytes. Required. */
  cname: string;
  /** A report block about the peer's stream; omitted before we have received RTP. Default none. */
  receiver?: RtcpReportBlock;
  /** Append a BYE for our SSRC (§6.6), when the call ends. Default false. */
  bye?: boolean;
}

export interface SenderReportOptions extends ReceiverReportOptions {
  /** Wall-clock time of the report, ms since 1970 (fractions allowed). Required. */
  ntpTimeMs: number;
  /** RTP timestamp of the same instant as ntpTimeMs. Required. */
  rtpTimestamp: number;
  /** RTP packets sent since the stream started (§6.4.1 sender's packet count). Required. */
  packetCount: number;
  /** RTP payload octets sent since the stream started (§6.4.1 sender's octet count). Required. */
  octetCount: number;
}

/**
 * Writes SR (with 0 or 1 report block), SDES CNAME and optionally BYE at the start of `buf`; returns the
 * length. Throws TypeError when the CNAME is longer than 255 bytes or `buf` is too small (programming errors:
 * RTCP_REPORT_MAX_BYTES always suffices).
 */
export function writeSenderReport(buf: Buffer, opts: SenderReportOptions): number {
  const blocks = opts.receiver === undefined ? 0 : 1;
  const reportLength = HEADER + 4 + SENDER_INFO + blocks * REPORT_BLOCK;
  checkRoom(buf, reportLength, opts);
  writeHeader(buf, 0, blocks, RTCP_SR, reportLength);
  buf.writeUInt32BE(opts.ssrc >>> 0, 4);
  buf.writeUInt32BE(ntpSeconds(opts.ntpTimeMs), 8);
  buf.writeUInt32BE(ntpFraction(opts.ntpTimeMs), 12);
  buf.writeUInt32BE(opts.rtpTimestamp >>> 0, 16);
  buf.writeUInt32BE(opts.packetCount >>> 0, 20);
  buf.writeUInt32BE(opts.octetCount >>> 0, 24);
  if (opts.receiver !== undefined) writeReportBlock(buf, 28, opts.receiver);
  return writeTrailer(buf, reportLength, opts);
}

/**
 * Writes RR (with 0 or 1 report block), SDES CNAME and optionally BYE: our report while we send no RTP.
 * §6.1: "This is true even if no data has been sent or received, in which case an empty RR is sent".
 * Returns the length; throws TypeError like writeSenderReport().
 */
export function writeReceiverReport(buf: Buffer, opts: ReceiverReportOptions): number {
  const blocks = opts.receiver === undefined ? 0 : 1;
  const reportLength = HEADER + 4 + blocks * REPORT_BLOCK;
  checkRoom(buf, reportLength, opts);
  writeHeader(buf, 0, blocks, RTCP_RR, reportLength);
  buf.writeUInt32BE(opts.ssrc >>> 0, 4);
  if (opts.receiver !== undefined) writeReportBlock(buf, 8, opts.receiver);
  return writeTrailer(buf, reportLength, opts);
}

function sdesLength(cnameBytes: number): number {
  // §6.5: "The list of items in each chunk MUST be terminated by one or more null octets ... additional null
  // octets MUST be included if needed to pad until the next 32-bit boundary."
  return HEADER + pad4(4 + 2 + cnameBytes + 1);
}

function checkRoom(buf: Buffer, reportLength: number, opts: ReceiverReportOptions): void {
  const cnameBytes = Buffer.byteLength(opts.cname, 'utf8');
  if (cnameBytes > MAX_CNAME_BYTES) throw new TypeError(`RTCP CNAME is ${cnameBytes} bytes; at most 255 fit`);
  const total = reportLength + sdesLength(cnameBytes) + (opts.bye === true ? HEADER + 4 : 0);
  if (buf.length < total) throw new TypeError(`RTCP report needs ${total} bytes; the buffer has ${buf.length}`);
}

function writeHeader(buf: Buffer, offset: number, count: number, pt: number, length: number): void {
  buf[offset] = 0x80 | count;
  buf[offset + 1] = pt;
  buf.writeUInt16BE(length / 4 - 1, offset + 2);
}

function writeReportBlock(buf: Buffer, o: number, block: RtcpReportBlock): void {
  buf.writeUInt32BE(block.ssrc >>> 0, o);
  buf[o + 4] = Math.max(0, Math.min(255, Math.floor(block.fractionLost)));
  // §A.3 clamps the cumulative count to the 24-bit signed range before sending it.
  const lost = Math.max(-0x800000, Math.min(0x7fffff, Math.trunc(block.cumulativeLost))) & 0xffffff;
  buf[o + 5] = lost >>> 16;
  buf[o + 6] = (lost >>> 8) & 0xff;
  buf[o + 7] = lost & 0xff;
  buf.writeUInt32BE(block.highestSeqExtended >>> 0, o + 8);
  buf.writeUInt32BE(block.jitter >>> 0, o + 12);
  buf.writeUInt32BE(block.lsr >>> 0, o + 16);
  buf.writeUInt32BE(block.dlsr >>> 0, o + 20);
}

/** SDES with our CNAME, then BYE if asked, from `offset`; returns the total length. */
function writeTrailer(buf: Buffer, offset: number, opts: ReceiverReportOptions): number {
  // §6.5: one chunk (SC = 1): SSRC, then the CNAME item (type 1, length, text; "The text is not null
  // terminated"), then the null octets that end the list and pad the chunk to 32 bits.
  const cnameBytes = buf.write(opts.cname, offset + HEADER + 4 + 2, 'utf8');
  const sdes = sdesLength(cnameBytes);
  writeHeader(buf, offset, 1, RTCP_SDES, sdes);
  buf.writeUInt32BE(opts.ssrc >>> 0, offset + HEADER);
  buf[offset + HEADER + 4] = 1;
  buf[offset + HEADER + 5] = cnameBytes;
  buf.fill(0, offset + HEADER + 6 + cnameBytes, offset + sdes);
  offset += sdes;
  if (opts.bye === true) {
    // §6.6: BYE with SC = 1 and no reason.
    writeHeader(buf, offset, 1, RTCP_BYE, HEADER + 4);
    buf.writeUInt32BE(opts.ssrc >>> 0, offset + HEADER);
    offset += HEADER + 4;
  }
  return offset;
}
