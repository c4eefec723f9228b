/**
 * RTCP (RFC 3550 §6): parseRtcpCompound() over hand-built compound packets, and the SR/RR writers.
 *
 * Covers: a softphone-shaped RR+SDES (CNAME and TOOL) with a block about us; SR+SDES+BYE (with and without a
 * reason); the report-block fields (fraction lost raw and as a ratio, signed 24-bit cumulative loss, jitter,
 * extended highest sequence, LSR/DLSR) and the SR's sender info; blocks about another SSRC counted but not
 * taken as ours; a block about us among several; unknown types (205 RTPFB, 206 PSFB, 207 XR) and APP
 * counted; padding on the last packet (§6.4.1) and every rejected form of it; wrong version, length overrun,
 * trailing bytes, first packet not SR/RR (§A.2), RTP sent to the RTCP port, `length` shorter/longer than the
 * buffer; that a rejected packet changes nothing but `malformed`; 10k random buffers and every truncation and
 * byte mutation of valid packets never throwing; NTP conversion of known dates (2026-01-01, the 2036 era
 * wrap, half a second); LSR/DLSR/round-trip helpers and §A.3 fraction lost; writer round trips (SR and RR,
 * with and without a block, with BYE), the SDES CNAME layout and padding for every CNAME length 0-12, and
 * the writer's argument errors.
 * Does not cover: sending on a timer, SRTCP, computing reception statistics from RTP (receive side), and
 * that nothing is allocated per packet (by construction, not measured).
 */
import { describe, expect, it } from 'vitest';
import {
  NTP_UNIX_OFFSET_S, RTCP_REPORT_INTERVAL_MS, RTCP_REPORT_MAX_BYTES, RtcpReceiveStats, dlsrFromMs,
  fractionLostByte, ntpFraction, ntpMiddle32, ntpSeconds, parseRtcpCompound, rtcpRoundTripMs,
  writeReceiverReport, writeSenderReport,
} from '../../src/media/rtcp.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ascii = (s: string): string => Buffer.from(s, 'ascii').toString('hex');

const OURS = 0xcafebabe;
const PEER = 0x1a2b3c4d;

/** RR (one block about 0xcafebabe) + SDES (CNAME "alice@10.0.0.5", TOOL "Linphone"), as a softphone sends. */
const softphoneRr = (): Buffer => hex(
  // RR: V=2 RC=1 PT=201 length 7 (32 bytes), sender SSRC
  '81 c9 0007 1a2b3c4d'
  // block: SSRC_1, fraction lost 0x19, cumulative lost 7, extended highest seq 0x00012345, jitter 80,
  // LSR 0x12345678, DLSR 0x00008000 (0.5 s)
  + 'cafebabe 19 000007 00012345 00000050 12345678 00008000'
  // SDES: V=2 SC=1 PT=202 length 8 (36 bytes); chunk SSRC; CNAME (1) 14 bytes; TOOL (6) 8 bytes; null; pad
  + '81 ca 0008 1a2b3c4d'
  + `01 0e ${ascii('alice@10.0.0.5')} 06 08 ${ascii('Linphone')} 00 00`,
);

/** SR (RC=0) + SDES CNAME "abcd" + BYE for the same SSRC. */
const srSdesBye = (byeHex = '81 cb 0001 1a2b3c4d'): Buffer => hex(
  // SR: V=2 RC=0 PT=200 length 6 (28 bytes), SSRC, NTP 0xed003780.80000000, RTP ts, 1000 packets, 160000 octets
  '80 c8 0006 1a2b3c4d ed003780 80000000 00abcdef 000003e8 00027100'
  + `81 ca 0003 1a2b3c4d 01 04 ${ascii('abcd')} 00 00`
  + byeHex,
);

function parse(buf: Uint8Array, stats = new RtcpReceiveStats(), length = buf.length): RtcpReceiveStats {
  parseRtcpCompound(buf, length, stats, OURS);
  return stats;
}

describe('parseRtcpCompound: well-formed compound packets (RFC 3550 §6.1)', () => {
  it('counts a softphone RR+SDES and takes the report block about our SSRC', () => {
    const stats = new RtcpReceiveStats();
    expect(parseRtcpCompound(softphoneRr(), softphoneRr().length, stats, OURS)).toBe(true);
    expect(stats).toMatchObject({
      packets: 1, malformed: 0, rrCount: 1, srCount: 0, sdes: 1, bye: 0, app: 0, other: 0,
      reportBlocks: 1, reportBlocksAboutUs: 1, lastReporterSsrc: PEER,
      lastFractionLost: 0x19, lastFractionLostRatio: 0x19 / 256, lastCumulativeLost: 7,
      lastHighestSeq: 0x00012345, lastJitter: 80, lastLsr: 0x12345678, lastDlsr: 0x8000,
    });
  });

  it('reads an SR\'s sender info: LSR is "the middle 32 bits out of 64 in the NTP timestamp"', () => {
    const stats = parse(srSdesBye());
    expect(stats).toMatchObject({
      packets: 1, srCount: 1, rrCount: 0, sdes: 1, bye: 1, byeReceived: 1, reportBlocks: 0,
      lastSrSsrc: PEER, lastSrNtpMiddle: 0x37808000, lastSrRtpTimestamp: 0xabcdef,
      lastSrPacketCount: 1000, lastSrOctetCount: 160000,
    });
  });

  it('accepts a BYE with a reason ("length of the text" after the SSRC list, §6.6)', () => {
    const stats = parse(srSdesBye(`81 cb 0003 1a2b3c4d 06 ${ascii('hangup')} 00`));
    expect(stats).toMatchObject({ packets: 1, bye: 1, byeReceived: 1, malformed: 0 });
  });

  it('does not count a BYE naming only our own SSRC as the peer leaving', () => {
    const stats = parse(srSdesBye('81 cb 0001 cafebabe'));
    expect(stats).toMatchObject({ packets: 1, bye: 1, byeReceived: 0 });
  });

  it('does not take a report block about a different SSRC as ours', () => {
    const pkt = softphoneRr();
    pkt.writeUInt32BE(0x11111111, 8);
    const stats = parse(pkt);
    expect(stats).toMatchObject({ packets: 1, reportBlocks: 1, reportBlocksAboutUs: 0, lastFractionLost: 0,
      lastJitter: 0, lastLsr: 0 });
  });

  it('finds the block about us among several in an SR (RC=2)', () => {
    const pkt = hex(
      '82 c8 0012 1a2b3c4d ed003780 00000000 00000001 00000002 00000003'
      + '11111111 ff 7fffff 00000001 00000002 00000003 00000004'
      + 'cafebabe 80 fffffe 0002ffff 000000a0 9abcdef0 00010000'
      + `81 ca 0002 1a2b3c4d 01 01 ${ascii('x')} 00`,
    );
    const stats = parse(pkt);
    expect(stats).toMatchObject({
      packets: 1, srCount: 1, reportBlocks: 2, reportBlocksAboutUs: 1,
      lastFractionLost: 0x80, lastFractionLostRatio: 0.5, lastCumulativeLost: -2,
      lastHighestSeq: 0x0002ffff, lastJitter: 160, lastLsr: 0x9abcdef0, lastDlsr: 0x10000,
    });
  });

  it('sign-extends cumulative lost: "this can be negative if there are duplicates"', () => {
    const cases: Array<[string, number]> = [
      ['000000', 0], ['7fffff', 0x7fffff], ['800000', -0x800000], ['ffffff', -1], ['012345', 0x12345],
    ];
    for (const [field, expected] of cases) {
      const pkt = softphoneRr();
      hex(field).copy(pkt, 13);
      expect(parse(pkt).lastCumulativeLost).toBe(expected);
    }
  });

  it('gives fraction lost as sent and as "the loss fraction" (fixed point, binary point at the left)', () => {
    for (const [raw, ratio] of [[0, 0], [0x40, 0.25], [0xff, 255 / 256]] as const) {
      const pkt = softphoneRr();
      pkt[12] = raw;
      expect(parse(pkt)).toMatchObject({ lastFractionLost: raw, lastFractionLostRatio: ratio });
    }
  });

  it('keeps the latest report: a second compound overwrites the last* fields and adds to the counters', () => {
    const stats = parse(softphoneRr());
    const second = softphoneRr();
    second[12] = 0x02;
    second.writeUInt32BE(12, 20);
    parse(second, stats);
    expect(stats).toMatchObject({ packets: 2, rrCount: 2, reportBlocksAboutUs: 2, lastFractionLost: 2, lastJitter: 12 });
  });

  it('counts APP and types it does not know (205 RTPFB, 206 PSFB, 207 XR) instead of rejecting them', () => {
    const pkt = hex(
      '80 c9 0001 1a2b3c4d'
      + '81 cc 0002 1a2b3c4d 41424344'          // APP, name "ABCD"
      + '81 cd 0002 1a2b3c4d cafebabe'          // RTPFB generic NACK header (FCI omitted)
      + '81 ce 0002 1a2b3c4d cafebabe'          // PSFB PLI
      + '80 cf 0001 1a2b3c4d',                  // XR with no blocks
    );
    expect(parse(pkt)).toMatchObject({ packets: 1, rrCount: 1, app: 1, other: 3, malformed: 0, reportBlocks: 0 });
  });

  it('accepts an empty RR alone ("an empty RR is sent" when there is nothing to report)', () => {
    expect(parse(hex('80 c9 0001 1a2b3c4d'))).toMatchObject({ packets: 1, rrCount: 1, reportBlocks: 0 });
  });

  it('parses only the first `length` bytes of a larger buffer', () => {
    const pkt = Buffer.concat([softphoneRr(), Buffer.alloc(64, 0xee)]);
    expect(parse(pkt, new RtcpReceiveStats(), softphoneRr().length)).toMatchObject({ packets: 1, malformed: 0 });
  });
});

describe('parseRtcpCompound: padding (RFC 3550 §6.4.1)', () => {
  // RR (RC=0) + SDES with P set and 4 octets of padding, the last "a count of how many padding octets".
  const padded = (lastOctet: string): Buffer =>
    hex(`80 c9 0001 1a2b3c4d a1 ca 0003 1a2b3c4d 01 01 ${ascii('x')} 00 000000${lastOctet}`);

  it('accepts padding on the last packet', () => {
    expect(parse(padded('04'))).toMatchObject({ packets: 1, rrCount: 1, sdes: 1, malformed: 0 });
  });

  it('excludes padding from the packet body: an RR whose block would lie in the padding is malformed', () => {
    // RR with RC=1 but only padding where the block should be: 4 + 4 + 24 bytes, the last 24 padding.
    const pkt = Buffer.concat([hex('a1 c9 0007 1a2b3c4d'), Buffer.alloc(24)]);
    pkt[31] = 24;
    expect(parse(pkt)).toMatchObject({ packets: 0, malformed: 1 });
  });

  it('accepts an SR with padding when it is the only packet (first and last at once)', () => {
    const pkt = hex('a0 c8 0007 1a2b3c4d ed003780 00000000 00000001 00000002 00000003 00000004');
    expect(parse(pkt)).toMatchObject({ packets: 1, srCount: 1 });
  });

  it('rejects "the padding bit set on the first individual packet" of several', () => {
    const pkt = hex(`a0 c9 0002 1a2b3c4d 00000004 81 ca 0002 1a2b3c4d 01 01 ${ascii('x')} 00`);
    expect(parse(pkt)).toMatchObject({ packets: 0, malformed: 1, rrCount: 0, sdes: 0 });
  });

  it('rejects a padding count of zero or larger than the packet', () => {
    expect(parse(padded('00')).malformed).toBe(1);
    expect(parse(padded('11')).malformed).toBe(1);
  });
});

describe('parseRtcpCompound: header validity checks (RFC 3550 §A.2)', () => {
  function expectRejected(pkt: Uint8Array, length = pkt.length): void {
    const stats = new RtcpReceiveStats();
    expect(parseRtcpCompound(pkt, length, stats, OURS)).toBe(false);
    expect(stats).toEqual({ ...new RtcpReceiveStats(), malformed: 1 });
  }

  it('"RTCP version field must equal 2": first packet version 0, 1, 3', () => {
    for (const b0 of [0x01, 0x41, 0xc1]) {
      const pkt = softphoneRr();
      pkt[0] = b0;
      expectRejected(pkt);
    }
  });

  it('rejects a later packet whose version is not 2, without counting the earlier one', () => {
    const pkt = softphoneRr();
    pkt[32] = 0x41;
    expectRejected(pkt);
  });

  it('"The payload type field of the first RTCP packet ... must be equal to SR or RR"', () => {
    expectRejected(hex(`81 ca 0002 1a2b3c4d 01 01 ${ascii('x')} 00 80 c9 0001 1a2b3c4d`)); // SDES first
    expectRejected(hex('81 cb 0001 1a2b3c4d'));                                             // BYE alone
    expectRejected(hex('81 cc 0002 1a2b3c4d 41424344'));                                    // APP alone
    expectRejected(hex('81 cd 0002 1a2b3c4d cafebabe'));                                    // RTPFB alone
  });

  it('rejects an RTP packet that reached the RTCP port', () => {
    expectRejected(hex('80 00 beef deadbeef feedf00d ffffffff'));
  });

  it('"length fields ... must add up to the overall length": overrun of the last packet', () => {
    const pkt = softphoneRr();
    pkt.writeUInt16BE(9, 34); // SDES claims 40 bytes, 36 present
    expectRejected(pkt);
  });

  it('"length fields ... must add up to the overall length": bytes left over', () => {
    expectRejected(Buffer.concat([softphoneRr(), hex('00000000')]));
    expectRejected(Buffer.concat([softphoneRr(), hex('80')]));
  });

  it('rejects a report count that does not fit in the packet length', () => {
    const pkt = softphoneRr();
    pkt[0] = 0x82; // RC=2, length still holds one block
    expectRejected(pkt);
    expectRejected(hex('82 c8 0006 1a2b3c4d ed003780 00000000 00000001 00000002 00000003')); // SR RC=2
  });

  it('rejects a BYE whose SSRC count overruns it, and an APP without its name', () => {
    expectRejected(hex('80 c9 0001 1a2b3c4d 82 cb 0001 1a2b3c4d'));
    expectRejected(hex('80 c9 0001 1a2b3c4d 81 cc 0001 1a2b3c4d'));
  });

  it('rejects empty and short input and a length beyond the buffer', () => {
    expectRejected(new Uint8Array(0));
    expectRejected(hex('80 c9 00'));
    expectRejected(hex('80 c9 0001'));
    expectRejected(softphoneRr(), softphoneRr().length + 4);
    expectRejected(softphoneRr(), Number.NaN);
    expectRejected(softphoneRr(), -4);
  });

  it('changes nothing but `malformed` when a valid report is followed by a broken packet', () => {
    const stats = parse(softphoneRr());
    const broken = Buffer.concat([softphoneRr(), hex('81 cb 0005 1a2b3c4d')]);
    broken[12] = 0xaa;
    expect(parseRtcpCompound(broken, broken.length, stats, OURS)).toBe(false);
    expect(stats).toMatchObject({ packets: 1, malformed: 1, rrCount: 1, sdes: 1, bye: 0, lastFractionLost: 0x19 });
  });
});

describe('parseRtcpCompound never throws', () => {
  // xorshift32: a fixed seed keeps any failure reproducible.
  let seed = 0x9e3779b9;
  const rand = (): number => {
    seed ^= seed << 13; seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5; seed >>>= 0;
    return seed;
  };

  it('on 10,000 random buffers, every call counted once as accepted or malformed', () => {
    const stats = new RtcpReceiveStats();
    const buf = new Uint8Array(256);
    for (let i = 0; i < 10_000; i++) {
      const length = rand() % 257;
      for (let j = 0; j < length; j++) buf[j] = rand() & 0xff;
      // Half of them look like RTCP in their first two octets, to get past the first check.
      if (i % 2 === 0 && length >= 2) { buf[0] = 0x80 | (buf[0]! & 0x3f); buf[1] = 200 + (rand() & 1); }
      expect(typeof parseRtcpCompound(buf, length, stats, rand())).toBe('boolean');
    }
    expect(stats.packets + stats.malformed).toBe(10_000);
    expect(stats.malformed).toBeGreaterThan(9_000);
  });

  it('on every truncation and 20,000 byte mutations of valid compound packets', () => {
    const stats = new RtcpReceiveStats();
    const seeds = [softphoneRr(), srSdesBye(), srSdesBye(`81 cb 0003 1a2b3c4d 06 ${ascii('hangup')} 00`)];
    let calls = 0;
    for (const pkt of seeds) {
      for (let len = 0; len < pkt.length; len++) {
        expect(typeof parseRtcpCompound(pkt, len, stats, OURS)).toBe('boolean');
        calls++;
      }
    }
    for (let i = 0; i < 20_000; i++) {
      const pkt = Buffer.from(seeds[i % seeds.length]!);
      for (let k = 1 + (rand() % 3); k > 0; k--) pkt[rand() % pkt.length] = rand() & 0xff;
      parseRtcpCompound(pkt, pkt.length - (rand() % 2) * (rand() % pkt.length), stats, OURS);
      calls++;
    }
    expect(stats.packets + stats.malformed).toBe(calls);
    expect(stats.packets).toBeGreaterThan(0); // mutations in payload bytes keep the packet valid
  });
});

describe('NTP timestamps (RFC 3550 §4)', () => {
  it('2026-01-01T00:00:00Z is NTP second 3976214400 (0xED003780), fraction 0', () => {
    const ms = Date.parse('2026-01-01T00:00:00Z');
    // 1767225600 s after 1970, plus the 70 years (17 leap days) from 1900: 25567 days * 86400 s.
    expect(NTP_UNIX_OFFSET_S).toBe(25567 * 86400);
    expect(ntpSeconds(ms)).toBe(3976214400);
    expect(ntpSeconds(ms)).toBe(0xed003780);
    expect(ntpFraction(ms)).toBe(0);
  });

  it('half a second is fraction 0x80000000; a quarter 0x40000000', () => {
    expect(ntpFraction(Date.parse('2026-01-01T00:00:00.500Z'))).toBe(0x80000000);
    expect(ntpFraction(Date.parse('2026-01-01T00:00:00.250Z'))).toBe(0x40000000);
    expect(ntpFraction(999.9999999)).toBeLessThanOrEqual(0xffffffff);
  });

  it('wraps to second 0 at 2036-02-07T06:28:16Z (NTP era 1), as on the wire', () => {
    expect(ntpSeconds(Date.parse('2036-02-07T06:28:16Z'))).toBe(0);
    expect(ntpSeconds(Date.parse('2036-02-07T06:28:15Z'))).toBe(0xffffffff);
  });

  it('the middle 32 bits are the low 16 bits of the seconds and the high 16 of the fraction', () => {
    expect(ntpMiddle32(Date.parse('2026-01-01T00:00:00.500Z'))).toBe(0x37808000);
  });
});

describe('report helpers (RFC 3550 §6.4.1, §A.3)', () => {
  it('DLSR counts "units of 1/65536 seconds"', () => {
    expect(dlsrFromMs(1000)).toBe(65536);
    expect(dlsrFromMs(500)).toBe(32768);
    expect(dlsrFromMs(0)).toBe(0);
    expect(dlsrFromMs(-5)).toBe(0);
  });

  it('round trip is A - LSR - DLSR, -1 when no SR was received (LSR 0) or the result is negative', () => {
    const sent = Date.parse('2026-01-01T00:00:00Z');
    const lsr = ntpMiddle32(sent);
    // The peer held our SR for 250 ms; its report arrives 330 ms after we sent the SR: 80 ms round trip.
    expect(rtcpRoundTripMs(ntpMiddle32(sent + 330), lsr, dlsrFromMs(250))).toBeCloseTo(80, 0);
    expect(rtcpRoundTripMs(ntpMiddle32(sent + 330), 0, 0)).toBe(-1);
    expect(rtcpRoundTripMs(ntpMiddle32(sent + 100), lsr, dlsrFromMs(250))).toBe(-1);
  });

  it('fraction lost is (lost_interval << 8) / expected_interval, 0 when nothing or less than nothing lost', () => {
    expect(fractionLostByte(100, 75)).toBe(64);
    expect(fractionLostByte(50, 0)).toBe(255);
    expect(fractionLostByte(100, 100)).toBe(0);
    expect(fractionLostByte(100, 102)).toBe(0); // duplicates
    expect(fractionLostByte(0, 0)).toBe(0);
  });

  it('the report interval is the RECOMMENDED 5 s minimum', () => {
    expect(RTCP_REPORT_INTERVAL_MS).toBe(5000);
  });
});

describe('writeSenderReport / writeReceiverReport', () => {
  const block = {
    ssrc: PEER, fractionLost: 0x33, cumulativeLost: -3, highestSeqExtended: 0x0001fff0, jitter: 42,
    lsr: 0x37808000, dlsr: 0x00024000,
  };
  const sr = {
    ssrc: OURS, ntpTimeMs: Date.parse('2026-01-01T00:00:00.500Z'), rtpTimestamp: 0xfffffff0,
    packetCount: 250, octetCount: 40000, cname: 'vmpilot@192.0.2.10',
  };

  it('writes an SR+SDES the parser reads back, with the NTP time in 32.32 fixed point', () => {
    const buf = Buffer.alloc(RTCP_REPORT_MAX_BYTES);
    const length = writeSenderReport(buf, sr);
    expect(length % 4).toBe(0);
    expect(buf.subarray(0, 28).toString('hex')).toBe('80c80006cafebabeed00378080000000fffffff0000000fa00009c40');
    // The peer parses it; our SSRC is theirs, so we parse as PEER.
    const stats = new RtcpReceiveStats();
    expect(parseRtcpCompound(buf, length, stats, PEER)).toBe(true);
    expect(stats).toMatchObject({
      srCount: 1, sdes: 1, reportBlocks: 0, lastSrSsrc: OURS, lastSrNtpMiddle: 0x37808000,
      lastSrRtpTimestamp: 0xfffffff0, lastSrPacketCount: 250, lastSrOctetCount: 40000,
    });
  });

  it('writes one report block about the peer that round-trips field by field', () => {
    const buf = Buffer.alloc(RTCP_REPORT_MAX_BYTES);
    const length = writeSenderReport(buf, { ...sr, receiver: block });
    expect(buf[0]).toBe(0x81);
    expect(buf.readUInt16BE(2)).toBe(12);
    const stats = new RtcpReceiveStats();
    expect(parseRtcpCompound(buf, length, stats, PEER)).toBe(true);
    expect(stats).toMatchObject({
      reportBlocksAboutUs: 1, lastReporterSsrc: OURS, lastFractionLost: 0x33, lastCumulativeLost: -3,
      lastHighestSeq: 0x0001fff0, lastJitter: 42, lastLsr: 0x37808000, lastDlsr: 0x24000,
    });
  });

  it('clamps fraction lost to 0-255 and cumulative lost to the 24-bit signed range (§A.3)', () => {
    const buf = Buffer.alloc(RTCP_REPORT_MAX_BYTES);
    const stats = new RtcpReceiveStats();
    let length = writeReceiverReport(buf, { ssrc: OURS, cname: 'c', receiver: { ...block, fractionLost: 300, cumulativeLost: 1e9 } });
    parseRtcpCompound(buf, length, stats, PEER);
    expect(stats).toMatchObject({ lastFractionLost: 255, lastCumulativeLost: 0x7fffff });
    length = writeReceiverReport(buf, { ssrc: OURS, cname: 'c', receiver: { ...block, fractionLost: -1, cumulativeLost: -1e9 } });
    parseRtcpCompound(buf, length, stats, PEER);
    expect(stats).toMatchObject({ lastFractionLost: 0, lastCumulativeLost: -0x800000 });
  });

  it('writes "an empty RR" + SDES when we have sent nothing, and RR with a block', () => {
    const buf = Buffer.alloc(RTCP_REPORT_MAX_BYTES);
    let length = writeReceiverReport(buf, { ssrc: OURS, cname: 'vm' });
    expect(buf.subarray(0, length).toString('hex')).toBe(`80c90001cafebabe81ca0003cafebabe0102${ascii('vm')}00000000`);
    length = writeReceiverReport(buf, { ssrc: OURS, cname: 'vm', receiver: block });
    const stats = new RtcpReceiveStats();
    expect(parseRtcpCompound(buf, length, stats, PEER)).toBe(true);
    expect(stats).toMatchObject({ rrCount: 1, srCount: 0, sdes: 1, reportBlocksAboutUs: 1, lastJitter: 42 });
  });

  it('appends a BYE for our SSRC when asked', () => {
    const buf = Buffer.alloc(RTCP_REPORT_MAX_BYTES);
    const length = writeSenderReport(buf, { ...sr, bye: true });
    expect(buf.subarray(length - 8, length).toString('hex')).toBe('81cb0001cafebabe');
    const stats = new RtcpReceiveStats();
    expect(parseRtcpCompound(buf, length, stats, PEER)).toBe(true);
    expect(stats).toMatchObject({ srCount: 1, sdes: 1, bye: 1, byeReceived: 1 });
  });

  it('ends the CNAME item list with null octets up to "the next 32-bit boundary", for every CNAME length', () => {
    const buf = Buffer.alloc(RTCP_REPORT_MAX_BYTES, 0xee);
    for (let n = 0; n <= 12; n++) {
      buf.fill(0xee);
      const cname = 'abcdefghijkl'.slice(0, n);
      const length = writeReceiverReport(buf, { ssrc: OURS, cname });
      const sdes = buf.subarray(8, length);
      expect(sdes.length % 4).toBe(0);
      expect(sdes.readUInt16BE(2)).toBe(sdes.length / 4 - 1);
      expect(sdes.subarray(8, 10).toString('hex')).toBe(`01${n.toString(16).padStart(2, '0')}`);
      expect(sdes.subarray(10, 10 + n).toString('ascii')).toBe(cname);
      const tail = sdes.subarray(10 + n);
      expect(tail.length).toBeGreaterThanOrEqual(1);
      expect(tail.length).toBeLessThanOrEqual(4);
      expect([...tail].every((b) => b === 0)).toBe(true);
    }
  });

  it('writes a 255-byte UTF-8 CNAME within RTCP_REPORT_MAX_BYTES and refuses 256 bytes', () => {
    const buf = Buffer.alloc(RTCP_REPORT_MAX_BYTES);
    const longest = 'é'.repeat(127) + 'a'; // 255 bytes
    const length = writeSenderReport(buf, { ...sr, cname: longest, receiver: block, bye: true });
    expect(length).toBe(RTCP_REPORT_MAX_BYTES);
    expect(buf.subarray(62, 62 + 255).toString('utf8')).toBe(longest);
    expect(parseRtcpCompound(buf, length, new RtcpReceiveStats(), PEER)).toBe(true);
    expect(() => writeSenderReport(buf, { ...sr, cname: 'é'.repeat(128) })).toThrow(TypeError);
  });

  it('refuses a buffer too small instead of writing a truncated report', () => {
    expect(() => writeReceiverReport(Buffer.alloc(23), { ssrc: OURS, cname: 'vm' })).toThrow(TypeError);
    expect(writeReceiverReport(Buffer.alloc(24), { ssrc: OURS, cname: 'vm' })).toBe(24);
  });
});
