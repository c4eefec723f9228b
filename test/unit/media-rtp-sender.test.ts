/**
 * RtpSender: one call's outbound RTP stream, ticked by the media clock.
 *
 * Covers: each packet parses as RTP v2 with our payload type and SSRC; sequence +1 per packet and timestamp
 * +160 per 20 ms frame, across the 16-bit and 32-bit wrap (RFC 3550 §5.1); random SSRC/sequence/timestamp
 * starts; payload bytes exactly as the source gave them; the marker bit on the first packet, on the first
 * packet of each new prompt and on the first audio after a pause, and nowhere else (RFC 3551 §4.1); comfort
 * silence while idle (default) with the timestamp advancing, or nothing at all with idle 'none' (timestamp
 * still advancing, sequence not), or one marked keepalive per interval with idle 'keepalive'; a change of idle
 * policy between ticks; a short frame padded with silence; nothing sent before a destination is
 * known; symmetric RTP: the SDP address, then the latched source address (RFC 4961); a frame index seen twice
 * is not sent twice; frames missed while off the clock advance the timestamp; no allocation per packet
 * (no GC and < 512 KiB heap growth over 100k packets); with a REAL dgram socket, a synchronous catch-up burst of 8
 * ticks delivers 8 distinct payloads (dgram reads the buffer on nextTick, hence the ring); driven by a
 * MediaClock with a fake time source, a stall costs no packets.
 * Does not cover: SRTP, RTCP, RFC 4733 events, codec negotiation (sdp/), real network timing (bench/).
 */
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { MediaClock, type ClockTimeSource } from '../../src/media/pacer.js';
import { RtpPacketView, parseRtp, seqNext, tsAdd } from '../../src/media/rtp-packet.js';
import { RtpSender, type RtpSendFunction } from '../../src/media/rtp-sender.js';

interface Sent { bytes: Buffer; port: number; address: string; view: RtpPacketView }

/** A send function that copies each packet (the sender reuses its buffers) and parses it. */
function capture(): { sent: Sent[]; send: RtpSendFunction } {
  const sent: Sent[] = [];
  const send: RtpSendFunction = (buf, length, port, address) => {
    const bytes = Buffer.from(buf.subarray(0, length));
    const view = new RtpPacketView();
    if (!parseRtp(bytes, view)) throw new Error('sender produced a malformed RTP packet');
    sent.push({ bytes, port, address, view });
  };
  return { sent, send };
}

/** 160 bytes all equal to `v` (distinct per frame in tests). */
const frame = (v: number): Uint8Array => new Uint8Array(160).fill(v);

/** A prompt of `n` frames with values start, start+1, ... */
function prompt(n: number, start: number): () => Uint8Array | undefined {
  let i = 0;
  return () => (i < n ? frame(start + i++) : undefined);
}

const NOW = 1n;

describe('RtpSender packets (RFC 3550 §5.1)', () => {
  it('writes RTP v2 packets of 172 bytes with our payload type and SSRC, to the SDP address', () => {
    const { sent, send } = capture();
    const s = new RtpSender({ send, payloadType: 8, silenceByte: 0xd5 });
    s.setRemote('192.0.2.7', 40000);
    s.setSource(prompt(3, 1));
    for (let f = 0; f < 3; f++) s.tick(NOW, f);
    expect(sent).toHaveLength(3);
    for (const p of sent) {
      expect(p.bytes.length).toBe(172);
      expect(p.view).toMatchObject({ payloadType: 8, ssrc: s.ssrc, payloadOffset: 12, payloadLength: 160 });
      expect(p).toMatchObject({ port: 40000, address: '192.0.2.7' });
    }
  });

  it('"The initial value of the sequence number SHOULD be random": SSRC, sequence and timestamp start random', () => {
    const starts = Array.from({ length: 8 }, () => new RtpSender({ send: () => {}, payloadType: 0 }));
    expect(new Set(starts.map((s) => s.ssrc)).size).toBeGreaterThan(6);
    expect(new Set(starts.map((s) => s.nextSequenceNumber)).size).toBeGreaterThan(6);
    expect(new Set(starts.map((s) => s.timestamp)).size).toBeGreaterThan(6);
  });

  it('increments the sequence by one per packet and the timestamp by 160 per frame, across both wraps', () => {
    const { sent, send } = capture();
    const s = new RtpSender({ send, payloadType: 0, sequenceNumber: 0xfffd, timestamp: 0xffffff00 });
    s.setRemote('192.0.2.7', 40000);
    s.setSource(prompt(100, 0));
    for (let f = 10; f < 16; f++) s.tick(NOW, f);
    expect(sent.map((p) => p.view.sequenceNumber)).toEqual([0xfffd, 0xfffe, 0xffff, 0, 1, 2]);
    expect(sent.map((p) => p.view.timestamp)).toEqual(
      [0, 1, 2, 3, 4, 5].map((k) => tsAdd(0xffffff00, 160 * k)),
    );
    expect(sent[2]!.view.timestamp).toBe(0x40); // 0xffffff00 + 320 wrapped
  });

  it('sends the payload bytes exactly as the source gave them', () => {
    const { sent, send } = capture();
    const s = new RtpSender({ send, payloadType: 0 });
    s.setRemote('192.0.2.7', 40000);
    const frames = Array.from({ length: 20 }, (_, k) => Uint8Array.from({ length: 160 }, (_, i) => (i * 7 + k * 31) & 0xff));
    let i = 0;
    s.setSource(() => frames[i++]);
    for (let f = 0; f < 20; f++) s.tick(NOW, f);
    expect(sent.map((p) => [...p.bytes.subarray(12)])).toEqual(frames.map((fr) => [...fr]));
  });

  it('pads a short last frame with silence so the packet still holds 20 ms', () => {
    const { sent, send } = capture();
    const s = new RtpSender({ send, payloadType: 0 });
    s.setRemote('192.0.2.7', 40000);
    s.setSource(() => new Uint8Array(60).fill(0x11));
    s.tick(NOW, 0);
    const payload = sent[0]!.bytes.subarray(12);
    expect([...payload.subarray(0, 60)].every((b) => b === 0x11)).toBe(true);
    expect([...payload.subarray(60)].every((b) => b === 0xff)).toBe(true);
    expect(s.badFrames).toBe(1);
  });

  it('sends nothing before a destination is known, but the timestamp keeps the sampling clock', () => {
    const { sent, send } = capture();
    const s = new RtpSender({ send, payloadType: 0, timestamp: 1000, sequenceNumber: 5 });
    s.setSource(prompt(10, 1));
    s.tick(NOW, 0);
    s.tick(NOW, 1);
    s.setRemote('192.0.2.7', 40000);
    s.tick(NOW, 2);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.view).toMatchObject({ sequenceNumber: 5, timestamp: 1000 + 320, marker: true });
  });

  it('does not send twice for a frame index it has already handled', () => {
    const { sent, send } = capture();
    const s = new RtpSender({ send, payloadType: 0 });
    s.setRemote('192.0.2.7', 40000);
    s.tick(NOW, 4);
    s.tick(NOW, 4);
    s.tick(NOW, 3);
    expect(sent).toHaveLength(1);
  });

  it('advances the timestamp over frames it was not ticked for (off the clock for a while)', () => {
    const { sent, send } = capture();
    const s = new RtpSender({ send, payloadType: 0, timestamp: 0 });
    s.setRemote('192.0.2.7', 40000);
    s.tick(NOW, 100);
    s.tick(NOW, 110);
    expect(sent.map((p) => p.view.timestamp)).toEqual([0, 1600]);
    expect(sent[1]!.view.sequenceNumber).toBe(seqNext(sent[0]!.view.sequenceNumber));
  });
});

describe('RtpSender marker bit (RFC 3551 §4.1: "the first packet of a talkspurt ... SHOULD be distinguished")', () => {
  it('sets it on the first packet, the first packet of each new prompt, and the first audio after a pause only', () => {
    const { sent, send } = capture();
    const s = new RtpSender({ send, payloadType: 0 });
    s.setRemote('192.0.2.7', 40000);
    s.setSource(prompt(3, 10)); // frames 0-2: prompt A; frames 3-4: idle silence
    for (let f = 0; f < 5; f++) s.tick(NOW, f);
    let paused = false;
    let j = 0;
    s.setSource(() => (paused ? undefined : frame(50 + j++))); // frames 5-6 audio, 7 paused, 8-9 audio
    s.tick(NOW, 5);
    s.tick(NOW, 6);
    paused = true;
    s.tick(NOW, 7);
    paused = false;
    s.tick(NOW, 8);
    s.tick(NOW, 9);
    s.setSource(prompt(2, 90)); // a new prompt straight after the last, no pause between
    s.tick(NOW, 10);
    s.tick(NOW, 11);
    expect(sent.map((p) => (p.view.marker ? 1 : 0))).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0]);
  });
});

describe('RtpSender while idle', () => {
  it('sends G.711 silence by default, keeping the sequence and timestamp continuous', () => {
    const { sent, send } = capture();
    const s = new RtpSender({ send, payloadType: 8 }); // PCMA: silence is 0xd5 (G.711 Table 1a)
    s.setRemote('192.0.2.7', 40000);
    for (let f = 0; f < 4; f++) s.tick(NOW, f);
    expect(sent).toHaveLength(4);
    for (const p of sent) expect([...p.bytes.subarray(12)].every((b) => b === 0xd5)).toBe(true);
    for (let k = 1; k < 4; k++) {
      expect(sent[k]!.view.sequenceNumber).toBe(seqNext(sent[k - 1]!.view.sequenceNumber));
      expect(sent[k]!.view.timestamp).toBe(tsAdd(sent[k - 1]!.view.timestamp, 160));
    }
  });

  it("with idle 'none', sends nothing during a pause; after it the timestamp has advanced and the sequence has not", () => {
    const { sent, send } = capture();
    const s = new RtpSender({ send, payloadType: 0, idle: 'none' });
    s.setRemote('192.0.2.7', 40000);
    let paused = false;
    let j = 0;
    s.setSource(() => (paused ? undefined : frame(j++)));
    s.tick(NOW, 0);
    s.tick(NOW, 1);
    paused = true;
    for (let f = 2; f < 7; f++) s.tick(NOW, f);
    paused = false;
    s.tick(NOW, 7);
    expect(sent).toHaveLength(3);
    const [, b, c] = sent;
    expect(c!.view.sequenceNumber).toBe(seqNext(b!.view.sequenceNumber));
    expect(c!.view.timestamp).toBe(tsAdd(b!.view.timestamp, 6 * 160));
    expect(c!.view.marker).toBe(true);
  });

  it("with idle 'keepalive', sends one marked silence packet per keepaliveFrames during a pause, on the stream's timeline", () => {
    const { sent, send } = capture();
    const s = new RtpSender({ send, payloadType: 0, idle: 'keepalive', keepaliveFrames: 5 });
    s.setRemote('192.0.2.7', 40000);
    s.setSource(prompt(2, 1)); // frames 0-1: audio; 2-16: a pause; 17: audio again
    for (let f = 0; f < 17; f++) s.tick(NOW, f);
    s.setSource(prompt(1, 9));
    s.tick(NOW, 17);
    // Audio at 0 and 1; keepalives 5 frames after the last packet: 6, 11, 16; audio at 17.
    const at = (p: Sent): number => ((p.view.timestamp - sent[0]!.view.timestamp) >>> 0) / 160;
    expect(sent.map(at)).toEqual([0, 1, 6, 11, 16, 17]);
    expect(sent.map((p) => p.view.marker)).toEqual([true, false, true, true, true, true]);
    for (const p of sent.slice(2, 5)) expect([...p.bytes.subarray(12)].every((b) => b === 0xff)).toBe(true);
    for (let k = 1; k < sent.length; k++) expect(sent[k]!.view.sequenceNumber).toBe(seqNext(sent[k - 1]!.view.sequenceNumber));
  });

  it('follows a change of idle policy from the next tick (the session switches it while recording)', () => {
    const { sent, send } = capture();
    const s = new RtpSender({ send, payloadType: 0 });
    s.setRemote('192.0.2.7', 40000);
    for (let f = 0; f < 3; f++) s.tick(NOW, f);
    s.idle = 'none';
    for (let f = 3; f < 10; f++) s.tick(NOW, f);
    s.idle = 'silence';
    s.tick(NOW, 10);
    expect(sent).toHaveLength(4);
    expect(sent[3]!.view.marker, 'the first packet after frames that were not sent').toBe(true);
  });
});

describe('RtpSender symmetric RTP (RFC 4961)', () => {
  it('sends to the SDP address, then latches onto where the peer\'s packets come from', () => {
    const { sent, send } = capture();
    const s = new RtpSender({ send, payloadType: 0 });
    s.setRemote('10.0.0.5', 30000);
    s.tick(NOW, 0);
    expect(s.learnRemote('203.0.113.9', 61000)).toBe(true);
    s.tick(NOW, 1);
    expect(s.learnRemote('203.0.113.9', 61000)).toBe(false);
    s.tick(NOW, 2);
    expect(sent.map((p) => `${p.address}:${p.port}`)).toEqual(['10.0.0.5:30000', '203.0.113.9:61000', '203.0.113.9:61000']);
    expect(s.remote).toEqual({ address: '203.0.113.9', port: 61000, origin: 'learned' });
    expect(s.remoteChanges).toBe(1);
  });

  it('lets a new SDP (re-INVITE) override a latched address', () => {
    const { sent, send } = capture();
    const s = new RtpSender({ send, payloadType: 0 });
    s.learnRemote('203.0.113.9', 61000);
    s.setRemote('198.51.100.1', 20000);
    s.tick(NOW, 0);
    expect(sent[0]).toMatchObject({ address: '198.51.100.1', port: 20000 });
    expect(s.remote?.origin).toBe('sdp');
  });
});

describe('RtpSender allocation', () => {
  it('allocates nothing per packet: no garbage collection and no heap growth over 100k packets', async () => {
    let count = 0;
    let lastLen = 0;
    const send: RtpSendFunction = (_b, length) => { count++; lastLen = length; };
    // A timestamp above 2^31 for the whole run: such a uint32 is not a V8 small integer, and keeping it in a
    // field as-is would allocate a heap number per packet.
    const s = new RtpSender({ send, payloadType: 0, timestamp: 0xfff00000, ssrc: 0xdeadbeef });
    s.setRemote('192.0.2.7', 40000);
    const f = frame(0x42);
    s.setSource(() => f);
    for (let i = 0; i < 5000; i++) s.tick(NOW, i); // JIT warm-up
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    let collections = 0;
    const obs = new PerformanceObserver((list) => { collections += list.getEntries().length; });
    obs.observe({ entryTypes: ['gc'] });
    const before = process.memoryUsage().heapUsed;
    for (let i = 5000; i < 105_000; i++) s.tick(NOW, i);
    const growth = process.memoryUsage().heapUsed - before;
    await new Promise((r) => setTimeout(r, 50)); // gc entries are delivered asynchronously
    obs.disconnect();
    console.log(`RtpSender: 100k packets, heap growth ${(growth / 1024).toFixed(1)} KiB, GCs during the loop ${collections}`);
    expect(count).toBe(105_000);
    expect(lastLen).toBe(172);
    // One 172-byte Buffer per packet would be ~17 MB: several scavenges or megabytes of growth.
    expect(collections).toBe(0);
    expect(growth).toBeLessThan(512 * 1024);
  });
});

describe('RtpSender with a real UDP socket', () => {
  it('delivers distinct payloads when the clock runs a catch-up burst synchronously', async () => {
    const rx = createSocket('udp4');
    const tx = createSocket('udp4');
    await new Promise<void>((r) => rx.bind(0, '127.0.0.1', r));
    await new Promise<void>((r) => tx.bind(0, '127.0.0.1', r));
    const got: number[] = [];
    const done = new Promise<void>((resolve) => rx.on('message', (m) => { got.push(m[12]!); if (got.length === 8) resolve(); }));
    const s = new RtpSender({ send: (b, l, p, a) => tx.send(b, 0, l, p, a), payloadType: 0 });
    s.setRemote('127.0.0.1', (rx.address() as AddressInfo).port);
    s.setSource(prompt(8, 1));
    for (let f = 0; f < 8; f++) s.tick(NOW, f); // 8 ticks in one synchronous burst, as after a stall
    await Promise.race([done, new Promise((r) => setTimeout(r, 2000))]);
    rx.close();
    tx.close();
    expect(got.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe('RtpSender driven by the MediaClock', () => {
  it('sends one packet per frame with continuous sequence and timestamp across a 150 ms stall', () => {
    let t = 0n;
    let timer: { at: bigint; fn: () => void } | undefined;
    const time: ClockTimeSource = {
      now: () => t,
      set: (fn, ms) => (timer = { at: t + BigInt(Math.max(1, ms)) * 1_000_000n, fn }),
      clear: () => { timer = undefined; },
    };
    const run = (untilMs: number): void => {
      const end = BigInt(untilMs) * 1_000_000n;
      while (timer !== undefined && timer.at <= end) {
        const tm = timer;
        timer = undefined;
        if (tm.at > t) t = tm.at;
        tm.fn();
      }
      t = end;
    };
    const clock = new MediaClock({ time });
    const { sent, send } = capture();
    const s = new RtpSender({ send, payloadType: 0 });
    s.setRemote('192.0.2.7', 40000);
    s.setSource(prompt(1000, 0));
    clock.subscribe(s);
    run(100);
    t += 150_000_000n; // the event loop is blocked for 150 ms
    run(400);
    clock.close();
    expect(sent).toHaveLength(20); // 400 ms of audio, none lost to the stall
    for (let k = 1; k < sent.length; k++) {
      expect(sent[k]!.view.sequenceNumber).toBe(seqNext(sent[k - 1]!.view.sequenceNumber));
      expect(sent[k]!.view.timestamp).toBe(tsAdd(sent[k - 1]!.view.timestamp, 160));
      expect(sent[k]!.bytes[12]).toBe((sent[k - 1]!.bytes[12]! + 1) & 0xff);
    }
  });
});
