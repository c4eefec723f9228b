/**
 * G.711 u-law and A-law (ITU-T G.711) tables: decode, encode, transcoding.
 *
 * Covers: the known code points (silence 0xFF/0xD5, full scale, negative zero), that every decoded level
 * re-encodes to its own code, the quantizing error over all 65,536 inputs against the step size of
 * G.711's segments, monotonicity, table/segment-method agreement, the block helpers with offsets, and the
 * u<->A transcoding tables (round trips and error bound).
 * Does not cover: speed (bench/media.bench.ts), codec choice (sdp), the RTP framing (media-rtp-packet).
 */
import { describe, expect, it } from 'vitest';
import {
  ALAW_SILENCE, ALAW_TO_LINEAR, ALAW_TO_ULAW, LINEAR_TO_ALAW, LINEAR_TO_ULAW, ULAW_SILENCE, ULAW_TO_ALAW,
  ULAW_TO_LINEAR, decodeG711, decodeTable, encodeG711, encodeTable, linearToAlaw, linearToUlaw, silenceCode,
  transcodeG711,
} from '../../src/media/g711.js';

/** Step between reconstruction levels of the segment a u-law code belongs to, in 16-bit units. */
function ulawStep(code: number): number {
  return 8 << ((~code >> 4) & 7);
}
/** Same for A-law: segments 0 and 1 share the smallest step. */
function alawStep(code: number): number {
  const segment = ((code ^ 0x55) >> 4) & 7;
  return 16 << Math.max(0, segment - 1);
}

describe('u-law (G.711 Table 2)', () => {
  it('decodes the known code points', () => {
    expect(ULAW_TO_LINEAR[0xff]).toBe(0); // +0
    expect(ULAW_TO_LINEAR[0x7f]).toBe(0); // -0
    expect(ULAW_TO_LINEAR[0x80]).toBe(32124); // positive full scale (8031 * 4)
    expect(ULAW_TO_LINEAR[0x00]).toBe(-32124);
    expect(ULAW_TO_LINEAR[0xfe]).toBe(8); // smallest non-zero step: 2 in 14-bit units
    expect(ULAW_TO_LINEAR[0xef]).toBe(132); // first level of segment 1
  });

  it('encodes silence as 0xFF and clips beyond the overload point', () => {
    expect(linearToUlaw(0)).toBe(ULAW_SILENCE);
    expect(ULAW_SILENCE).toBe(0xff);
    expect(linearToUlaw(-1)).toBe(0x7f);
    expect(linearToUlaw(32767)).toBe(0x80);
    expect(linearToUlaw(-32768)).toBe(0x00);
  });

  it('re-encodes every decoded level to the same code (except -0, which becomes +0)', () => {
    for (let code = 0; code < 256; code++) {
      expect(linearToUlaw(ULAW_TO_LINEAR[code]!)).toBe(code === 0x7f ? 0xff : code);
    }
  });

  it('quantizes every 16-bit input within half a step of its segment', () => {
    let worst = 0;
    for (let x = -32124; x <= 32124; x++) {
      const code = linearToUlaw(x);
      const excess = Math.abs(ULAW_TO_LINEAR[code]! - x) - ulawStep(code) / 2;
      worst = Math.max(worst, excess);
    }
    // +1: G.191 quantizes a negative sample as its one's complement, half an LSB off the midpoint.
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('is monotonic: a larger input never decodes to a smaller level', () => {
    let previous = -Infinity;
    for (let x = -32768; x <= 32767; x++) {
      const level = ULAW_TO_LINEAR[linearToUlaw(x)]!;
      expect(level >= previous).toBe(true);
      previous = level;
    }
  });

  it('has a 64K encode table that agrees with the segment method everywhere', () => {
    for (let x = -32768; x <= 32767; x++) {
      if (LINEAR_TO_ULAW[x & 0xffff] !== linearToUlaw(x)) throw new Error(`u-law table differs at ${x}`);
    }
  });
});

describe('A-law (G.711 Table 1)', () => {
  it('decodes the known code points', () => {
    expect(ALAW_TO_LINEAR[0xd5]).toBe(8); // +smallest level: silence
    expect(ALAW_TO_LINEAR[0x55]).toBe(-8);
    expect(ALAW_TO_LINEAR[0xaa]).toBe(32256); // positive full scale (4032 * 8)
    expect(ALAW_TO_LINEAR[0x2a]).toBe(-32256);
  });

  it('encodes silence as 0xD5 (even bits inverted) and clips at full scale', () => {
    expect(linearToAlaw(0)).toBe(ALAW_SILENCE);
    expect(ALAW_SILENCE).toBe(0xd5);
    expect(linearToAlaw(-1)).toBe(0x55);
    expect(linearToAlaw(32767)).toBe(0xaa);
    expect(linearToAlaw(-32768)).toBe(0x2a);
  });

  it('re-encodes every decoded level to the same code', () => {
    for (let code = 0; code < 256; code++) expect(linearToAlaw(ALAW_TO_LINEAR[code]!)).toBe(code);
  });

  it('quantizes every 16-bit input within half a step of its segment', () => {
    let worst = 0;
    for (let x = -32256; x <= 32256; x++) {
      const code = linearToAlaw(x);
      worst = Math.max(worst, Math.abs(ALAW_TO_LINEAR[code]! - x) - alawStep(code) / 2);
    }
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('has a 64K encode table that agrees with the segment method everywhere', () => {
    for (let x = -32768; x <= 32767; x++) {
      if (LINEAR_TO_ALAW[x & 0xffff] !== linearToAlaw(x)) throw new Error(`A-law table differs at ${x}`);
    }
  });
});

describe('block encode/decode', () => {
  it('decodes a payload at an offset into a frame at an offset', () => {
    const payload = Uint8Array.from([0xaa, 0xff, 0x80, 0x00, 0xfe]);
    const out = new Int16Array(6).fill(7);
    decodeG711(decodeTable('PCMU'), payload, 1, 4, out, 2);
    expect([...out]).toEqual([7, 7, 0, 32124, -32124, 8]);
  });

  it('encodes a frame and decodes it back within the quantizing error', () => {
    const pcm = new Int16Array(160);
    for (let i = 0; i < 160; i++) pcm[i] = Math.round(10000 * Math.sin((2 * Math.PI * 1000 * i) / 8000));
    for (const law of ['PCMU', 'PCMA'] as const) {
      const bytes = new Uint8Array(160);
      encodeG711(encodeTable(law), pcm, 0, 160, bytes, 0);
      const back = new Int16Array(160);
      decodeG711(decodeTable(law), bytes, 0, 160, back, 0);
      for (let i = 0; i < 160; i++) expect(Math.abs(back[i]! - pcm[i]!)).toBeLessThanOrEqual(512); // half the top step
    }
  });

  it('names the silence code of each law', () => {
    expect(silenceCode('PCMU')).toBe(0xff);
    expect(silenceCode('PCMA')).toBe(0xd5);
  });
});

describe('transcoding u-law <-> A-law', () => {
  it('maps silence to the nearest level: u-law 0 to A-law +8, A-law +8 to u-law +8', () => {
    expect(ULAW_TO_ALAW[0xff]).toBe(0xd5);
    expect(ULAW_TO_ALAW[0x7f]).toBe(0xd5); // -0 decodes to 0, which has no sign
    expect(ALAW_TO_ULAW[0xd5]).toBe(0xfe); // u-law has a level at 8, one step above its silence
    expect(ULAW_TO_ALAW[0x80]).toBe(0xaa); // full scale stays full scale
    expect(ALAW_TO_ULAW[0x2a]).toBe(0x00);
  });

  it('lands within one step of the other law at every level', () => {
    for (let u = 0; u < 256; u++) {
      const a = ULAW_TO_ALAW[u]!;
      expect(Math.abs(ALAW_TO_LINEAR[a]! - ULAW_TO_LINEAR[u]!)).toBeLessThanOrEqual(alawStep(a));
    }
    for (let a = 0; a < 256; a++) {
      const u = ALAW_TO_ULAW[a]!;
      expect(Math.abs(ULAW_TO_LINEAR[u]! - ALAW_TO_LINEAR[a]!)).toBeLessThanOrEqual(ulawStep(u));
    }
  });

  it('round-trips A -> u -> A for all but the 16 levels where u-law is coarser, and those by one step', () => {
    let moved = 0;
    for (let a = 0; a < 256; a++) {
      const back = ULAW_TO_ALAW[ALAW_TO_ULAW[a]!]!;
      if (back !== a) {
        moved++;
        expect(Math.abs(ALAW_TO_LINEAR[back]! - ALAW_TO_LINEAR[a]!)).toBeLessThanOrEqual(alawStep(a) * 2);
      }
    }
    expect(moved).toBe(16);
  });

  it('transcodes a buffer in place', () => {
    const bytes = Uint8Array.from([0xff, 0x80, 0x00]);
    transcodeG711(ULAW_TO_ALAW, bytes, 0, 3, bytes, 0);
    expect([...bytes]).toEqual([0xd5, 0xaa, 0x2a]);
  });
});
