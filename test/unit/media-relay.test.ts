/**
 * The media relay (src/media/relay.ts) with byte fixtures and two fake legs: no sockets, no clock.
 *
 * Covers: payloads forwarded byte for byte and in order; PCMU<->PCMA mapped with the g711 tables when the
 * legs differ; packets of other sizes (10 ms, 30 ms) re-framed into 160-byte frames; nothing before the first
 * frame, silence in the output law on underrun after it; the oldest bytes dropped beyond maxFrames (bounded
 * delay); both directions at once; stop() giving each leg back to its player.
 * Does not cover: the RTP headers of the relayed streams (each leg's RtpSender; the integration test checks
 * SSRC, sequence and timestamp continuity on the wire), SRTP, timing.
 */
import { describe, expect, it } from 'vitest';
import { FrameFifo, MediaRelay, type RelayEndpoint } from '../../src/media/relay.js';
import { ALAW_SILENCE, ALAW_TO_ULAW, ULAW_SILENCE, ULAW_TO_ALAW, type G711Law } from '../../src/media/g711.js';
import type { RtpFrameSource } from '../../src/media/rtp-sender.js';

/** `n` bytes counting up from `start` (mod 256), as a packet payload at offset 12 of a buffer. */
function packet(start: number, n: number): Buffer {
  const buf = Buffer.alloc(12 + n);
  for (let i = 0; i < n; i++) buf[12 + i] = (start + i) & 0xff;
  return buf;
}

const bytes = (frame: Uint8Array | undefined): number[] => (frame ? [...frame] : []);

describe('FrameFifo', () => {
  it('gives the payload back in 160-byte frames, in order and unchanged when the laws match', () => {
    const fifo = new FrameFifo();
    fifo.push(packet(0, 160), 12, 160, 'PCMU', 'PCMU');
    fifo.push(packet(160, 160), 12, 160, 'PCMU', 'PCMU');
    expect(bytes(fifo.pull('PCMU'))).toEqual(bytes(packet(0, 160).subarray(12)));
    expect(bytes(fifo.pull('PCMU'))).toEqual(bytes(packet(160, 160).subarray(12)));
  });

  it('maps PCMU to PCMA byte for byte with the g711 table', () => {
    const fifo = new FrameFifo();
    fifo.push(packet(40, 160), 12, 160, 'PCMU', 'PCMA');
    const expected = [...packet(40, 160).subarray(12)].map((b) => ULAW_TO_ALAW[b]!);
    expect(bytes(fifo.pull('PCMA'))).toEqual(expected);
  });

  it('re-frames 10 ms and 30 ms packets into 20 ms frames without losing or reordering a byte', () => {
    const fifo = new FrameFifo(4);
    fifo.push(packet(0, 80), 12, 80, 'PCMA', 'PCMA');
    expect(fifo.pull('PCMA')).toBeUndefined();
    fifo.push(packet(80, 240), 12, 240, 'PCMA', 'PCMA');
    const out = [...bytes(fifo.pull('PCMA')), ...bytes(fifo.pull('PCMA'))];
    expect(out).toEqual(Array.from({ length: 320 }, (_, i) => i & 0xff));
  });

  it('gives nothing before the first frame, then silence in the output law on underrun', () => {
    const fifo = new FrameFifo();
    expect(fifo.pull('PCMU')).toBeUndefined();
    fifo.push(packet(1, 160), 12, 160, 'PCMU', 'PCMU');
    fifo.pull('PCMU');
    expect(bytes(fifo.pull('PCMU'))).toEqual(new Array(160).fill(ULAW_SILENCE));
    expect(bytes(fifo.pull('PCMA'))).toEqual(new Array(160).fill(ALAW_SILENCE));
    expect(fifo.stats.underruns).toBe(2);
  });

  it('drops the oldest bytes beyond maxFrames, so the added delay stays bounded', () => {
    const fifo = new FrameFifo(3);
    for (let f = 0; f < 5; f++) fifo.push(packet(f, 160), 12, 160, 'PCMU', 'PCMU');
    expect(fifo.size).toBe(3 * 160);
    expect(fifo.stats.droppedBytes).toBe(2 * 160);
    // Frames 2, 3, 4 remain: the first byte of each frame is its index.
    expect([fifo.pull('PCMU')![0], fifo.pull('PCMU')![0], fifo.pull('PCMU')![0]]).toEqual([2, 3, 4]);
  });
});

/** A leg as the relay sees it: what it would send comes from `source`, its player when unset. */
class FakeLeg implements RelayEndpoint {
  onAudioPayload: ((buf: Buffer, offset: number, length: number, law: G711Law) => void) | undefined = undefined;
  source: RtpFrameSource | undefined = undefined;
  constructor(public sendCodec: G711Law) {}
  setRelaySource(source: RtpFrameSource | undefined): void {
    this.source = source;
  }
  /** A packet arrives on this leg. */
  receive(buf: Buffer, law: G711Law): void {
    this.onAudioPayload?.(buf, 12, buf.length - 12, law);
  }
  /** The frame this leg sends on the next tick. */
  tick(): number[] {
    return bytes(this.source?.());
  }
}

describe('MediaRelay', () => {
  it('sends what each leg receives out of the other, both ways at once, in the other leg law', () => {
    const caller = new FakeLeg('PCMU');
    const callee = new FakeLeg('PCMA');
    const relay = new MediaRelay(caller, callee);
    relay.start();
    caller.receive(packet(10, 160), 'PCMU');
    callee.receive(packet(90, 160), 'PCMA');
    expect(callee.tick()).toEqual([...packet(10, 160).subarray(12)].map((b) => ULAW_TO_ALAW[b]!));
    expect(caller.tick()).toEqual([...packet(90, 160).subarray(12)].map((b) => ALAW_TO_ULAW[b]!));
  });

  it('gives each leg back to its player on stop()', () => {
    const a = new FakeLeg('PCMU');
    const b = new FakeLeg('PCMU');
    const relay = new MediaRelay(a, b);
    relay.start();
    expect(a.source).toBeDefined();
    relay.stop();
    expect(a.source).toBeUndefined();
    expect(b.source).toBeUndefined();
    expect(a.onAudioPayload).toBeUndefined();
    a.receive(packet(0, 160), 'PCMU');
    expect(relay.forward.size).toBe(0);
  });
});
