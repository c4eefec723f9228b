/**
 * RTP fixed header (RFC 3550 §5.1): parse into a reused view, write in place, sequence/timestamp arithmetic.
 *
 * Covers: a captured-style PCMU packet in hex, marker/PT/seq/timestamp/SSRC with high bits set, CSRC list,
 * header extension skipped (§5.3.1), padding removed (§5.1), every malformed form returning false (short,
 * version 0/1/3, CSRCs or extension past the end, zero or oversized padding count, length beyond the
 * buffer), that the view object is reused, the writer's bytes, and 16-bit/32-bit wrap-around helpers.
 * Does not cover: RTCP, SRTP, what the session does with a packet (receive-buffer, rfc4733 tests).
 */
import { describe, expect, it } from 'vitest';
import {
  G711_FRAME_BYTES, RTP_HEADER_LENGTH, RtpPacketView, allocRtpPacket, parseRtp, seqAfter, seqDelta, seqNext,
  tsAdd, tsDelta, writeRtpHeader,
} from '../../src/media/rtp-packet.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('parseRtp (RFC 3550 §5.1)', () => {
  it('reads the fixed header of a PCMU packet', () => {
    // V=2, M=1, PT=0, seq 0xBEEF, ts 0xDEADBEEF, SSRC 0xFEEDF00D, 4 payload bytes.
    const pkt = hex('80 80 beef deadbeef feedf00d ff ff 7f 00');
    const view = new RtpPacketView();
    expect(parseRtp(pkt, view)).toBe(true);
    expect(view).toMatchObject({
      marker: true, payloadType: 0, sequenceNumber: 0xbeef, timestamp: 0xdeadbeef, ssrc: 0xfeedf00d,
      csrcCount: 0, padding: false, extension: false, payloadOffset: 12, payloadLength: 4,
    });
  });

  it('skips the CSRC list: "The number of CSRC identifiers that follow the fixed header"', () => {
    const pkt = hex('82 08 0001 00000010 00000001 11111111 22222222 d5d5');
    const view = new RtpPacketView();
    expect(parseRtp(pkt, view)).toBe(true);
    expect(view).toMatchObject({ csrcCount: 2, payloadType: 8, marker: false, payloadOffset: 20, payloadLength: 2 });
  });

  it('skips a header extension by its length in 32-bit words (§5.3.1)', () => {
    // X=1, CC=1; extension profile 0xBEDE, length 2 words.
    const pkt = hex('91 00 0002 00000020 00000001 33333333 bede0002 01020304 05060708 aabbcc');
    const view = new RtpPacketView();
    expect(parseRtp(pkt, view)).toBe(true);
    expect(view.extension).toBe(true);
    expect(view.payloadOffset).toBe(12 + 4 + 4 + 8);
    expect(view.payloadLength).toBe(3);
  });

  it('excludes padding: "The last octet of the padding contains a count of how many padding octets"', () => {
    const pkt = hex('a0 00 0003 00000030 00000001 ffffff 000003');
    const view = new RtpPacketView();
    expect(parseRtp(pkt, view)).toBe(true);
    expect(view.padding).toBe(true);
    expect(view.payloadLength).toBe(3);
  });

  it('parses only the first `length` bytes of a larger receive buffer', () => {
    const buf = Buffer.alloc(1500, 0xee);
    hex('80 00 0001 00000001 00000001 ffff').copy(buf);
    const view = new RtpPacketView();
    expect(parseRtp(buf, view, 14)).toBe(true);
    expect(view.payloadLength).toBe(2);
  });

  it('accepts a packet with an empty payload', () => {
    const view = new RtpPacketView();
    expect(parseRtp(hex('80 0d 0001 00000001 00000001'), view)).toBe(true);
    expect(view.payloadLength).toBe(0);
  });

  describe('returns false, never throws, for malformed packets', () => {
    const cases: Array<[string, Buffer, number?]> = [
      ['shorter than the fixed header', hex('80 00 0001 00000001 000000')],
      ['empty', Buffer.alloc(0)],
      ['version 0', hex('00 00 0001 00000001 00000001 ff')],
      ['version 1', hex('40 00 0001 00000001 00000001 ff')],
      ['version 3', hex('c0 00 0001 00000001 00000001 ff')],
      ['CSRC list past the end', hex('83 00 0001 00000001 00000001 11111111')],
      ['extension header past the end', hex('90 00 0001 00000001 00000001 bede')],
      ['extension body past the end', hex('90 00 0001 00000001 00000001 bede0004 00000000')],
      ['padding count of zero', hex('a0 00 0001 00000001 00000001 ff 00')],
      ['padding count larger than the payload', hex('a0 00 0001 00000001 00000001 ff 05')],
      ['length beyond the buffer', hex('80 00 0001 00000001 00000001 ff'), 100],
    ];
    for (const [name, pkt, length] of cases) {
      it(name, () => expect(parseRtp(pkt, new RtpPacketView(), length)).toBe(false));
    }
  });

  it('reuses one view for every packet (no allocation per packet)', () => {
    const view = new RtpPacketView();
    parseRtp(hex('80 00 0001 00000001 00000001 ff'), view);
    const same = view;
    parseRtp(hex('80 88 0002 00000002 00000002 ffff'), view);
    expect(view).toBe(same);
    expect(view).toMatchObject({ sequenceNumber: 2, marker: true, payloadType: 8, payloadLength: 2 });
  });
});

describe('writeRtpHeader', () => {
  it('fills a preallocated 12+160 byte packet in place and parses back', () => {
    const pkt = allocRtpPacket();
    expect(pkt.length).toBe(RTP_HEADER_LENGTH + G711_FRAME_BYTES);
    pkt.fill(0xff, RTP_HEADER_LENGTH);
    writeRtpHeader(pkt, 8, true, 0xfffe, 0xfffffff0, 0x80000001);
    expect(pkt.subarray(0, 12).toString('hex')).toBe('8088fffefffffff080000001');
    const view = new RtpPacketView();
    expect(parseRtp(pkt, view)).toBe(true);
    expect(view).toMatchObject({ payloadType: 8, marker: true, sequenceNumber: 0xfffe, timestamp: 0xfffffff0, ssrc: 0x80000001, payloadLength: 160 });
  });

  it('masks values to their field widths', () => {
    const pkt = allocRtpPacket(0);
    writeRtpHeader(pkt, 0x80 + 101, false, 0x10001, 0x100000002, 3);
    const view = new RtpPacketView();
    parseRtp(pkt, view);
    expect(view).toMatchObject({ payloadType: 101, sequenceNumber: 1, timestamp: 2, marker: false });
  });
});

describe('sequence and timestamp arithmetic', () => {
  it('compares 16-bit sequence numbers across the wrap', () => {
    expect(seqDelta(1, 0xffff)).toBe(2);
    expect(seqDelta(0xffff, 1)).toBe(-2);
    expect(seqAfter(0, 0xffff)).toBe(true);
    expect(seqAfter(0xffff, 0)).toBe(false);
    expect(seqAfter(5, 5)).toBe(false);
    expect(seqDelta(0x8000, 0)).toBe(-32768);
    expect(seqNext(0xffff)).toBe(0);
  });

  it('compares 32-bit timestamps across the wrap', () => {
    expect(tsDelta(80, 0xffffffb0)).toBe(160);
    expect(tsDelta(0xffffffb0, 80)).toBe(-160);
    expect(tsAdd(0xffffffb0, 160)).toBe(80);
  });
});
