/**
 * In-band DTMF detection (DtmfToneDetector) over G.711-quantized 8 kHz audio.
 *
 * Covers: all 16 keys at levels from -3 to -30 dBm0 and at every block alignment, each detected exactly
 * once; twist limits (normal 8 dB / reverse 4 dB accepted, 12 / 8 dB rejected); the absolute level
 * threshold; minimum duration (40 ms always detected, 15 ms never); the 40 ms pause that separates two
 * presses and the 20 ms dropout (a lost packet) that must not; frequency tolerance (+-1.5% accepted,
 * +-3.5% rejected); keys in white noise; A-law; frame-size independence; the reported start sample;
 * and talk-off: the recorded speech fixture (espeak-ng, 22.7 s, at three levels) and music-like chords
 * give no key -- while the same speech does give keys once the guards are relaxed, so the guards are
 * what reject it.
 * Does not cover: RFC 4733 or INFO keys, trimming the tone from a recording.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DtmfToneDetector, type DtmfToneDetectorOptions } from '../../src/media/dtmf/goertzel.js';
import { ALAW_TO_LINEAR, LINEAR_TO_ALAW, LINEAR_TO_ULAW, ULAW_TO_LINEAR } from '../../src/media/g711.js';

const ROWS = [697, 770, 852, 941];
const COLUMNS = [1209, 1336, 1477, 1633];
const KEYPAD = '123A456B789C*0#D';
/** Peak amplitude of a 0 dBm0 sine (full scale is +3.14 dBm0). */
const DBM0_PEAK = 32768 / Math.pow(10, 3.14 / 20);

interface Tone {
  key: string;
  ms: number;
  /** Low-group (row) and high-group (column) levels, dBm0. */
  low?: number;
  high?: number;
  /** Relative frequency error of both tones. */
  deviation?: number;
  phase?: number;
}

function tone({ key, ms, low = -7, high = -5, deviation = 0, phase = 0 }: Tone): number[] {
  const index = KEYPAD.indexOf(key);
  const fr = ROWS[index >> 2]! * (1 + deviation);
  const fc = COLUMNS[index & 3]! * (1 + deviation);
  const ar = DBM0_PEAK * Math.pow(10, low / 20);
  const ac = DBM0_PEAK * Math.pow(10, high / 20);
  const out: number[] = [];
  for (let t = 0; t < Math.round(ms * 8); t++) {
    out.push(ar * Math.sin((2 * Math.PI * fr * t) / 8000 + phase) + ac * Math.sin((2 * Math.PI * fc * t) / 8000 + 2 * phase));
  }
  return out;
}

const silence = (samples: number): number[] => new Array<number>(Math.round(samples)).fill(0);

/** What the caller's phone sends through a G.711 u-law (or A-law) channel. */
function g711(x: number[], law: 'PCMU' | 'PCMA' = 'PCMU'): Int16Array {
  const out = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = Math.max(-32768, Math.min(32767, Math.round(x[i]!))) & 0xffff;
    out[i] = law === 'PCMU' ? ULAW_TO_LINEAR[LINEAR_TO_ULAW[v]!]! : ALAW_TO_LINEAR[LINEAR_TO_ALAW[v]!]!;
  }
  return out;
}

function detect(pcm: Int16Array, options: DtmfToneDetectorOptions = {}, frame = 160): string {
  let keys = '';
  const detector = new DtmfToneDetector((key) => (keys += key), options);
  for (let at = 0; at < pcm.length; at += frame) detector.process(pcm, at, Math.min(frame, pcm.length - at));
  return keys;
}

/** One press of `key` after `lead` samples of silence, then 100 ms of silence. */
const press = (t: Tone, lead = 0): Int16Array => g711([...silence(lead), ...tone(t), ...silence(800)]);

/** Offsets covering every alignment of a tone to the 102-sample blocks (step 7 samples). */
const ALIGNMENTS = Array.from({ length: 15 }, (_, i) => i * 7);

let seed = 7;
function gaussian(): number {
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  return sum - 6;
}

function speechFixture(gain: number): Int16Array {
  const raw = readFileSync(new URL('../fixtures/audio/speech-8k-ulaw.raw', import.meta.url));
  const pcm = new Int16Array(raw.length);
  for (let i = 0; i < raw.length; i++) pcm[i] = Math.round(ULAW_TO_LINEAR[raw[i]!]! * gain);
  return pcm;
}

describe('DtmfToneDetector', () => {
  describe('detects each key exactly once', () => {
    for (const [low, high] of [[-3, -1], [-7, -5], [-15, -15], [-25, -23], [-30, -30]] as const) {
      it(`at ${low}/${high} dBm0, every alignment`, () => {
        for (const key of KEYPAD) {
          for (const lead of ALIGNMENTS) expect(detect(press({ key, ms: 60, low, high }, lead)), `${key} +${lead}`).toBe(key);
        }
      });
    }

    it('through an A-law channel', () => {
      for (const key of KEYPAD) expect(detect(g711([...tone({ key, ms: 60 }), ...silence(800)], 'PCMA'))).toBe(key);
    });

    it('whatever the frame size the samples come in (1, 160, 1000 samples)', () => {
      const pcm = g711(['1', '5', '9', '#'].flatMap((key) => [...tone({ key, ms: 50 }), ...silence(400)]));
      expect(detect(pcm, {}, 1)).toBe('159#');
      expect(detect(pcm, {}, 160)).toBe('159#');
      expect(detect(pcm, {}, 1000)).toBe('159#');
    });

    it('reporting the first sample of the tone (to one block)', () => {
      const starts: number[] = [];
      const detector = new DtmfToneDetector((_, start) => starts.push(start));
      detector.process(g711([...silence(1000), ...tone({ key: '#', ms: 80 }), ...silence(800)]));
      expect(starts.length).toBe(1);
      expect(Math.abs(starts[0]! - 1000)).toBeLessThanOrEqual(102);
    });
  });

  describe('twist (high group minus low group level)', () => {
    it('accepts normal twist up to 8 dB and reverse twist up to 4 dB', () => {
      for (const key of KEYPAD) {
        for (const lead of [0, 30, 60]) {
          expect(detect(press({ key, ms: 60, low: -18, high: -10 }, lead)), `${key} normal 8 dB`).toBe(key);
          expect(detect(press({ key, ms: 60, low: -10, high: -14 }, lead)), `${key} reverse 4 dB`).toBe(key);
        }
      }
    });

    it('rejects normal twist of 12 dB and reverse twist of 8 dB', () => {
      for (const key of KEYPAD) {
        expect(detect(press({ key, ms: 80, low: -22, high: -10 }))).toBe('');
        expect(detect(press({ key, ms: 80, low: -10, high: -18 }))).toBe('');
      }
    });
  });

  it('ignores tones below the level threshold (-45 dBm0 each)', () => {
    for (const key of KEYPAD) expect(detect(press({ key, ms: 80, low: -45, high: -45 }))).toBe('');
  });

  describe('timing', () => {
    it('detects every 40 ms tone whatever its alignment', () => {
      for (const key of KEYPAD) for (const lead of ALIGNMENTS) expect(detect(press({ key, ms: 40 }, lead))).toBe(key);
    });

    it('never detects a 15 ms tone', () => {
      for (const key of KEYPAD) for (const lead of ALIGNMENTS) expect(detect(press({ key, ms: 15 }, lead))).toBe('');
    });

    it('counts a key twice when the presses are 40 ms apart', () => {
      for (const key of '159#') {
        for (const lead of ALIGNMENTS) {
          const pcm = g711([...silence(lead), ...tone({ key, ms: 80 }), ...silence(320), ...tone({ key, ms: 80, phase: 1 }), ...silence(800)]);
          expect(detect(pcm)).toBe(key + key);
        }
      }
    });

    it('counts a key once across a 20 ms dropout (one lost packet)', () => {
      for (const key of '159#') {
        for (const lead of ALIGNMENTS) {
          const pcm = g711([...silence(lead), ...tone({ key, ms: 100 }), ...silence(160), ...tone({ key, ms: 100, phase: 1 }), ...silence(800)]);
          expect(detect(pcm)).toBe(key);
        }
      }
    });

    it('reports a long press once', () => {
      expect(detect(press({ key: '0', ms: 3000 }))).toBe('0');
    });
  });

  describe('frequency tolerance', () => {
    it('accepts tones 1.5% off', () => {
      for (const key of KEYPAD) {
        expect(detect(press({ key, ms: 60, deviation: 0.015 }))).toBe(key);
        expect(detect(press({ key, ms: 60, deviation: -0.015 }))).toBe(key);
      }
    });

    it('rejects tones 3.5% off', () => {
      for (const key of KEYPAD) {
        expect(detect(press({ key, ms: 80, deviation: 0.035 }))).toBe('');
        expect(detect(press({ key, ms: 80, deviation: -0.035 }))).toBe('');
      }
    });
  });

  it('finds keys in white noise at 12 dB signal-to-noise', () => {
    const keys = '2580*#AD';
    const clean = [...keys].flatMap((key) => [...tone({ key, ms: 60, low: -10, high: -8 }), ...silence(480)]);
    const signalPower = (Math.pow(DBM0_PEAK * Math.pow(10, -10 / 20), 2) + Math.pow(DBM0_PEAK * Math.pow(10, -8 / 20), 2)) / 2;
    const sd = Math.sqrt(signalPower / Math.pow(10, 12 / 10));
    expect(detect(g711(clean.map((v) => v + sd * gaussian())))).toBe(keys);
  });

  describe('talk-off: no key from speech or music', () => {
    for (const [gain, label] of [[1, 'as recorded (-20 dBFS RMS)'], [0.316, '10 dB softer'], [0.1, '20 dB softer']] as const) {
      it(`gives no key for 22.7 s of recorded speech, ${label}`, () => {
        expect(detect(speechFixture(gain))).toBe('');
      });
    }

    it('gives keys from the same speech once the guards are relaxed (the guards do the rejecting)', () => {
      const loose: DtmfToneDetectorOptions = {
        columnHarmonicDb: -100, rowHarmonicDb: -100, minToneToTotalRatio: 0.3, relativePeakDb: 1,
        normalTwistDb: 30, reverseTwistDb: 30,
      };
      expect(detect(speechFixture(1), loose).length).toBeGreaterThan(0);
    });

    it('gives no key for chords of notes with harmonics', () => {
      const midi = (m: number): number => 440 * Math.pow(2, (m - 69) / 12);
      const chords = [[60, 64, 67], [57, 60, 64], [62, 66, 69], [65, 69, 72], [67, 71, 74], [64, 67, 71], [69, 73, 76], [72, 76, 79], [76, 79], [79, 84], [77, 81, 84, 88], [74, 78, 81, 85]];
      const music: number[] = [];
      for (const chord of chords) {
        for (let t = 0; t < 4000; t++) {
          let v = 0;
          for (const note of chord) {
            for (let h = 1; h <= 6; h++) {
              const f = midi(note) * h;
              if (f < 3900) v += (6000 / h) * Math.exp(-t / 4000) * Math.sin((2 * Math.PI * f * t) / 8000);
            }
          }
          music.push(v);
        }
      }
      expect(detect(g711(music))).toBe('');
    });

    it('finds keys pressed between sentences of speech, and only those', () => {
      const speech = speechFixture(1);
      const parts: number[] = [];
      const keys = '4#7';
      const third = Math.floor(speech.length / 3);
      for (let i = 0; i < 3; i++) {
        parts.push(...speech.subarray(i * third, (i + 1) * third), ...silence(400), ...tone({ key: keys[i]!, ms: 70 }), ...silence(400));
      }
      expect(detect(g711(parts))).toBe(keys);
    });
  });
});
