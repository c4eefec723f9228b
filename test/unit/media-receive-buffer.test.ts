/**
 * ReceiveBuffer: RTP for recording, reordered, de-duplicated and gap-filled by timestamp (RFC 3550, RFC 3389).
 *
 * Covers: in-order decode (PCMU and PCMA), reordering within the window, duplicates held and already
 * played, loss declared after maxMisorder later packets, late packets after that, silence suppression with
 * and without a comfort-noise packet, telephone-events consuming sequence numbers, sequence and timestamp
 * wrap, SSRC change (restart, stale old-SSRC packets), a confirmed sequence restart and a stray packet
 * (RFC 3550 §A.1 probation), padSilence and the trimming of packets it overlaps, timestamp discontinuities,
 * oversize held packets, and a randomized stream whose output length must equal its timestamp span.
 * On the caller's clock (issue 9 items 11, 12): startAt() beginning at the caller's "now" with a backlog of
 * earlier packets still to be read (trimmed) and after a silence-suppressed gap (not recorded), padTo() filling
 * a silence to its true length, the first packet after a start with nothing known and a new SSRC placed by
 * when they arrived, and packets delivered in late bursts giving exactly the timestamp span from the start.
 * Does not cover: sockets, SRTP, the recorder's file (media-wav), playout jitter buffering.
 */
import { describe, expect, it } from 'vitest';
import { ALAW_TO_LINEAR, ULAW_TO_LINEAR } from '../../src/media/g711.js';
import { ReceiveBuffer, type ReceiveBufferOptions } from '../../src/media/receive-buffer.js';
import { RtpPacketView, parseRtp, writeRtpHeader } from '../../src/media/rtp-packet.js';

const SSRC = 0x11223344;
/** u-law code of packet k: a distinct positive level per packet so the output shows its order. */
const codeOf = (k: number): number => 0x80 + (k % 100) + 1;
const levelOf = (k: number): number => ULAW_TO_LINEAR[codeOf(k)]!;

interface Pkt {
  seq: number;
  ts: number;
  pt?: number;
  ssrc?: number;
  bytes?: number;
  fill?: number;
  /** When the packet is read, ms (ReceiveBuffer.push's arrivalMs). */
  at?: number;
}

function harness(options: ReceiveBufferOptions = {}) {
  const out: number[] = [];
  const rb = new ReceiveBuffer((samples, count) => {
    for (let i = 0; i < count; i++) out.push(samples[i]!);
  }, options);
  const view = new RtpPacketView();
  const push = (p: Pkt): void => {
    const bytes = p.bytes ?? 160;
    const buf = Buffer.alloc(12 + bytes, p.fill ?? 0);
    writeRtpHeader(buf, p.pt ?? 0, false, p.seq & 0xffff, p.ts >>> 0, p.ssrc ?? SSRC);
    if (p.fill === undefined) buf.fill(codeOf(p.seq & 0xffff), 12);
    if (!parseRtp(buf, view)) throw new Error('bad test packet');
    rb.push(view, buf, p.at);
  };
  return { rb, out, push };
}

/** The output as [level, count] runs. */
function runs(out: number[]): Array<[number, number]> {
  const r: Array<[number, number]> = [];
  for (const v of out) {
    const last = r[r.length - 1];
    if (last && last[0] === v) last[1]++;
    else r.push([v, 1]);
  }
  return r;
}

const audio = (seq: number, base = 1000): Pkt => ({ seq, ts: base + seq * 160 });

describe('ReceiveBuffer', () => {
  it('decodes in-order PCMU packets straight through', () => {
    const { rb, out, push } = harness();
    for (let s = 1; s <= 3; s++) push(audio(s));
    expect(runs(out)).toEqual([[levelOf(1), 160], [levelOf(2), 160], [levelOf(3), 160]]);
    expect(rb.stats.samplesOut).toBe(480);
  });

  it('decodes PCMA (payload type 8) with the A-law table', () => {
    const { out, push } = harness();
    push({ seq: 1, ts: 0, pt: 8, fill: 0xd5 });
    expect(out.length).toBe(160);
    expect(out.every((v) => v === ALAW_TO_LINEAR[0xd5])).toBe(true);
  });

  it('puts packets reordered within the window back in sequence order', () => {
    const { rb, out, push } = harness();
    for (const s of [1, 3, 2, 5, 4, 6]) push(audio(s));
    expect(runs(out).map(([level]) => level)).toEqual([1, 2, 3, 4, 5, 6].map(levelOf));
    expect(out.length).toBe(6 * 160);
    expect(rb.stats.lost).toBe(0);
    expect(rb.stats.late).toBe(0);
  });

  it('drops duplicates, whether still held or already played', () => {
    const { rb, out, push } = harness();
    for (const s of [1, 3, 3, 2, 2, 1, 4]) push(audio(s));
    expect(out.length).toBe(4 * 160);
    expect(rb.stats.duplicates).toBe(1); // the second 3, while held
    expect(rb.stats.late).toBe(2); // 2 and 1 again, after they were played
  });

  it('gives a missing packet up after maxMisorder later packets and fills its time with silence', () => {
    const { rb, out, push } = harness({ maxMisorder: 3 });
    for (const s of [1, 2, 4, 5, 6]) push(audio(s));
    expect(out.length).toBe(2 * 160); // 3 is still awaited: 4, 5, 6 held
    push(audio(7)); // the fourth packet past 3: give it up
    expect(runs(out)).toEqual([
      [levelOf(1), 160], [levelOf(2), 160], [0, 160], [levelOf(4), 160], [levelOf(5), 160], [levelOf(6), 160], [levelOf(7), 160],
    ]);
    expect(rb.stats.lost).toBe(1);
    push(audio(3)); // too late now
    expect(rb.stats.late).toBe(1);
    expect(out.length).toBe(7 * 160);
  });

  it('flush() outputs held packets and declares the missing ones lost (end of a recording)', () => {
    const { rb, out, push } = harness();
    for (const s of [1, 3, 4]) push(audio(s));
    rb.flush();
    expect(runs(out)).toEqual([[levelOf(1), 160], [0, 160], [levelOf(3), 160], [levelOf(4), 160]]);
    expect(rb.stats.lost).toBe(1);
  });

  it('fills a silence-suppressed period that a comfort-noise packet (PT 13) started (RFC 3389)', () => {
    const { rb, out, push } = harness();
    push(audio(1));
    push(audio(2));
    push({ seq: 3, ts: 1000 + 3 * 160, pt: 13, bytes: 1, fill: 40 }); // noise level -40 dBov
    push({ seq: 4, ts: 1000 + 3 * 160 + 8000 }); // speech resumes one second later
    expect(runs(out)).toEqual([[levelOf(1), 160], [levelOf(2), 160], [0, 8000], [levelOf(4), 160]]);
    expect(rb.stats.comfortNoise).toBe(1);
    expect(rb.stats.lost).toBe(0);
    expect(rb.stats.filledSamples).toBe(8000);
  });

  it('fills a timestamp gap without comfort noise (sender simply stopped)', () => {
    const { out, push } = harness();
    push({ seq: 1, ts: 0 });
    push({ seq: 2, ts: 160 + 4000 });
    expect(runs(out)).toEqual([[levelOf(1), 160], [0, 4000], [levelOf(2), 160]]);
  });

  it('lets telephone-event packets consume sequence numbers without losses or audio', () => {
    const { rb, out, push } = harness();
    push({ seq: 1, ts: 0 });
    for (const seq of [2, 3, 4, 5]) push({ seq, ts: 160, pt: 101, bytes: 4, fill: 5 });
    push({ seq: 6, ts: 160 + 800 });
    expect(runs(out)).toEqual([[levelOf(1), 160], [0, 800], [levelOf(6), 160]]);
    expect(rb.stats.lost).toBe(0);
    expect(rb.stats.nonAudio).toBe(4);
  });

  it('reorders across the 16-bit sequence wrap', () => {
    const { rb, out, push } = harness();
    for (const s of [65534, 0, 65535, 1]) push({ seq: s, ts: 50_000 + ((s + 2) & 0xffff) * 160 });
    expect(runs(out).map(([level]) => level)).toEqual([65534, 65535, 0, 1].map(levelOf));
    expect(rb.stats.late + rb.stats.lost).toBe(0);
  });

  it('fills gaps across the 32-bit timestamp wrap', () => {
    const { out, push } = harness();
    push({ seq: 1, ts: 0xffffff00 });
    push({ seq: 2, ts: 0x100 }); // 512 samples later: 256 after the first packet's end... minus its 160
    expect(runs(out)).toEqual([[levelOf(1), 160], [0, 512 - 160], [levelOf(2), 160]]);
  });

  it('restarts on a new SSRC without filling, and drops late packets of the old one', () => {
    const { rb, out, push } = harness();
    push({ seq: 1, ts: 0 });
    push({ seq: 900, ts: 777_777, ssrc: 0xabcdef }); // new stream, random origin
    push({ seq: 901, ts: 777_777 + 160, ssrc: 0xabcdef });
    push({ seq: 2, ts: 160 }); // the old source, late
    expect(runs(out)).toEqual([[levelOf(1), 160], [levelOf(900), 160], [levelOf(901), 160]]);
    expect(rb.stats.restarts).toBe(1);
    expect(rb.stats.staleSsrc).toBe(1);
  });

  it('resynchronizes on a sequence jump once the next packet confirms it (RFC 3550 §A.1)', () => {
    const { rb, out, push } = harness();
    push({ seq: 1, ts: 0 });
    push({ seq: 20_000, ts: 160 });
    expect(out.length).toBe(160); // on probation
    push({ seq: 20_001, ts: 320 });
    expect(runs(out)).toEqual([[levelOf(1), 160], [levelOf(20_000), 160], [levelOf(20_001), 160]]);
    expect(rb.stats.restarts).toBe(1);
  });

  it('drops a single stray packet far from the expected sequence', () => {
    const { rb, out, push } = harness();
    push({ seq: 1, ts: 0 });
    push({ seq: 30_000, ts: 160 });
    push({ seq: 2, ts: 160 });
    push({ seq: 3, ts: 320 });
    expect(runs(out).map(([level]) => level)).toEqual([1, 2, 3].map(levelOf));
    expect(rb.stats.restarts).toBe(0);
  });

  it('padSilence() records time with no packets and trims a later packet that overlaps it', () => {
    const { rb, out, push } = harness();
    push({ seq: 1, ts: 0 });
    rb.padSilence(240); // the tick saw nothing for 30 ms
    push({ seq: 2, ts: 160 }); // its first 240 samples are already covered
    push({ seq: 3, ts: 320 }); // partly covered: 80 samples remain
    push({ seq: 4, ts: 480 });
    expect(runs(out)).toEqual([[levelOf(1), 160], [0, 240], [levelOf(3), 80], [levelOf(4), 160]]);
    expect(rb.stats.trimmedSamples).toBe(160 + 80);
  });

  it('treats a timestamp jump beyond maxGapMs as a discontinuity, not a pause to fill', () => {
    const { rb, out, push } = harness({ maxGapMs: 1000 });
    push({ seq: 1, ts: 0 });
    push({ seq: 2, ts: 9000 + 160 });
    expect(out.length).toBe(320);
    expect(rb.stats.discontinuities).toBe(1);
  });

  it('drops an out-of-order packet larger than maxPayloadBytes but plays in-order ones of any size', () => {
    const { rb, out, push } = harness({ maxPayloadBytes: 160 });
    push({ seq: 1, ts: 0, bytes: 320 });
    push({ seq: 3, ts: 480, bytes: 320 });
    push({ seq: 2, ts: 320, bytes: 160 });
    rb.flush();
    expect(rb.stats.oversize).toBe(1);
    expect(out.length).toBe(320 + 160);
  });

  it('outputs exactly the timestamp span of a stream with reordering, loss, duplicates and silence', () => {
    let seed = 42;
    const random = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const packets: Pkt[] = [];
    let ts = 0xfffe0000; // wraps during the stream
    for (let seq = 65000; seq < 65000 + 600; seq++) {
      packets.push({ seq: seq & 0xffff, ts });
      ts = (ts + 160 + (random() < 0.03 ? Math.floor(random() * 16000) : 0)) >>> 0; // occasional silence
    }
    const last = packets[packets.length - 1]!;
    const first = packets[0]!;
    // Network: swap neighbours, drop 5%, duplicate 3% -- but keep the first and last packets.
    const sent: Pkt[] = [];
    for (let i = 0; i < packets.length; i++) {
      const p = packets[i]!;
      if (i > 0 && i < packets.length - 1 && random() < 0.05) continue;
      sent.push(p);
      if (random() < 0.03) sent.push(p);
    }
    for (let i = 1; i + 2 < sent.length; i++) if (random() < 0.1) [sent[i], sent[i + 1]] = [sent[i + 1]!, sent[i]!];
    const { rb, out, push } = harness();
    for (const p of sent) push(p);
    rb.flush();
    expect(out.length).toBe(((last.ts - first.ts) >>> 0) + 160);
  });
});

describe("ReceiveBuffer on the caller's clock (startAt, padTo, placement by arrival)", () => {
  const BASE = 50_000;
  /** Packet k of a stream that started at t = 0 ms: 20 ms of audio from k * 20 ms, sent when it ends. */
  const live = (k: number, at = (k + 1) * 20, base = BASE, ssrc = SSRC): Pkt => ({ seq: k, ts: base + k * 160, at, ssrc });
  /** Output from `from` on, as [level, count] runs. */
  const after = (out: number[], from: number): Array<[number, number]> => runs(out.slice(from));

  it("startAt MUST begin at the caller's now: packets for earlier time read after it are trimmed, not recorded", () => {
    const { rb, out, push } = harness();
    for (let k = 0; k < 40; k++) push(live(k));
    rb.startAt(1000); // packets 40-49 (800-1000 ms) are still in the socket
    const start = out.length;
    for (let k = 40; k < 50; k++) push(live(k, 1010)); // read just after the start, in a burst
    for (let k = 50; k < 100; k++) push(live(k));
    expect(after(out, start)).toEqual(Array.from({ length: 50 }, (_, i) => [levelOf(50 + i), 160]));
    expect(rb.stats.skippedSamples).toBe(10 * 160);
  });

  it('startAt MUST NOT record a silence-suppressed gap before it; a gap after it MUST last as long as it did', () => {
    const { rb, out, push } = harness();
    for (let k = 0; k < 50; k++) push(live(k)); // talking until 1 s, then silent (no RTP at all)
    rb.startAt(2000); // the beep ends at 2 s
    const start = out.length;
    for (let t = 2020; t < 3000; t += 20) rb.padTo(t - 500); // the ticks, irregular or not
    for (let k = 150; k < 160; k++) push(live(k)); // talking again from 3 s
    expect(after(out, start)).toEqual([[0, 8000], ...Array.from({ length: 10 }, (_, i): [number, number] => [levelOf(150 + i), 160])]);
  });

  it('the first packet after a start with no packet ever MUST be placed by when it arrived', () => {
    const { out, rb, push } = harness();
    rb.startAt(1000);
    rb.padTo(1200 - 500); // nothing yet to pad: the clock says 700 ms, before the start
    rb.padTo(1700 - 500); // 200 ms of silence
    push({ seq: 7, ts: 123_456, at: 1400 + 500 }); // sent when it ended, at 1900 ms: it began at 1880
    expect(runs(out)).toEqual([[0, 880 * 8], [levelOf(7), 160]]);
  });

  it('a new SSRC MUST be placed by when it arrived, the time between the streams recorded as silence', () => {
    const { out, rb, push } = harness();
    for (let k = 0; k < 50; k++) push(live(k));
    push({ seq: 9, ts: 777, ssrc: 0x5555, at: 1500 });
    push({ seq: 10, ts: 777 + 160, ssrc: 0x5555, at: 1520 });
    expect(after(out, 50 * 160)).toEqual([[0, 480 * 8], [levelOf(9), 160], [levelOf(10), 160]]);
    expect(rb.stats.restarts).toBe(1);
  });

  it('packets delivered late in bursts MUST give exactly the timestamp span from the start to the last packet', () => {
    let seed = 7;
    const random = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    // 30 s of packets; the network holds them and delivers them in bursts (0-300 ms apart, each 0-100 ms late
    // again: up to 400 ms late, less than the 500 ms the session waits before padding), neighbours swapped.
    const arrivals: Pkt[] = [];
    let released = 0;
    let nextBurst = 15;
    for (let k = 0; k < 1500; k++) {
      if (k + 1 < nextBurst && k < 1499) continue;
      const burstAt = (k + 1) * 20 + Math.floor(random() * 100);
      const burst = Array.from({ length: k + 1 - released }, (_, i) => live(released + i, burstAt));
      for (let i = 0; i + 1 < burst.length; i++) {
        if (random() >= 0.2) continue;
        [burst[i], burst[i + 1]] = [burst[i + 1]!, burst[i]!];
        i++; // disjoint swaps: no packet more than one place out of order
      }
      arrivals.push(...burst);
      released = k + 1;
      nextBurst = k + 1 + Math.floor(random() * 15);
    }
    const { rb, out, push } = harness();
    // The session's loop: packets as they arrive; every 20 ms tick pads only after PAD_AFTER_MS without one.
    const PAD_AFTER_MS = 500;
    let next = 0;
    let lastArrival = 0;
    let start = -1;
    const startMs = 5000;
    for (let now = 20; next < arrivals.length; now += 20) {
      while (next < arrivals.length && arrivals[next]!.at! <= now) {
        lastArrival = arrivals[next]!.at!;
        push(arrivals[next++]!);
      }
      if (start < 0 && now >= startMs) {
        rb.startAt(now);
        start = out.length;
      }
      if (start >= 0 && now - lastArrival > PAD_AFTER_MS) rb.padTo(now - PAD_AFTER_MS);
    }
    rb.flush();
    const recorded = out.length - start;
    const span = 1500 * 160 - startMs * 8; // from the caller's clock at the start to the last packet's end
    expect(Math.abs(recorded - span)).toBeLessThanOrEqual(160);
    expect(rb.stats.paddedSamples).toBe(0);
    // Sample-exact: the stream from where the start fell to its last packet, nothing added, nothing moved.
    const got = after(out, start);
    const firstK = 1500 - got.length;
    expect(got[0]![0]).toBe(levelOf(firstK));
    expect(got.slice(1)).toEqual(Array.from({ length: got.length - 1 }, (_, i) => [levelOf(firstK + 1 + i), 160]));
  });
});
