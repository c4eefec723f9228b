/**
 * Call-progress tones as ready G.711 frames: the 1 kHz record beep and North American ringback, computed once
 * per law at first use and then only indexed (no allocation when a tone plays).
 *
 * - Beep: 1000 Hz at -10 dBm0. 1000 Hz is exactly 20 periods in a 160-sample frame, so one "steady" frame
 *   repeats seamlessly for any length; the first and last frames ramp in and out over 5 ms (raised cosine) so
 *   the beep starts and ends without a click. A one-frame beep has both ramps. The phase starts at pi/8 so
 *   no sample sits on zero (G.711 has no exact zero in u-law: +0 and -0 differ).
 * - Ringback: 440 Hz + 480 Hz, -19 dBm0 each, 2 s on, 4 s off (ANSI T1.401 / the North American Precise Tone
 *   Plan). The pair repeats every 1/gcd(440, 480) = 25 ms = 200 samples, so five frames (800 samples, 100 ms)
 *   hold one seamless period; a burst of 100 frames starts and ends at phase 0, where the sum is 0.
 *
 * Levels: 0 dBm0 is a sine 3.14 dB below full scale (G.711 A-law overload +3.14 dBm0; u-law's +3.17 differs
 * by 0.03 dB, which no one hears), as in dtmf/goertzel.ts.
 *
 * Not here: playing them (player.ts), other countries' cadences (FIXME: ringback is North American only).
 */
import { encodeG711, encodeTable, silenceCode, type G711Law } from './g711.js';
import { SAMPLE_RATE } from './audio-format.js';

/** Samples (and G.711 bytes) in one 20 ms frame at 8 kHz. */
export const TONE_FRAME = 160;
/** Length of the standard record beep, ms. */
export const BEEP_MS = 400;
/** Beep frequency, Hz. */
export const BEEP_HZ = 1000;
/** Beep level, dBm0. */
export const BEEP_DBM0 = -10;
/** Ringback cadence: on, then off, ms. */
export const RINGBACK_ON_MS = 2000;
export const RINGBACK_OFF_MS = 4000;
/** Ringback frequencies, Hz, and level of each, dBm0. */
export const RINGBACK_HZ = [440, 480] as const;
export const RINGBACK_DBM0 = -19;

/** Peak of a 0 dBm0 sine in 16-bit PCM. */
const DBM0_PEAK = 32768 / Math.pow(10, 3.14 / 20);
const RAMP_SAMPLES = 40; // 5 ms
const RINGBACK_PERIOD_FRAMES = 5;
const RINGBACK_ON_FRAMES = RINGBACK_ON_MS / 20;
const RINGBACK_CYCLE_FRAMES = (RINGBACK_ON_MS + RINGBACK_OFF_MS) / 20;

/** The tone frames of one law: 160-byte views into one buffer, shared by every call. */
export interface ToneFrames {
  readonly law: G711Law;
  /** One frame of G.711 silence. */
  readonly silence: Uint8Array;
  readonly beepIn: Uint8Array;
  readonly beepSteady: Uint8Array;
  readonly beepOut: Uint8Array;
  /** A beep of a single frame: ramps in and out. */
  readonly beepSingle: Uint8Array;
  /** One 100 ms period of the ringback pair, five frames. */
  readonly ringback: readonly Uint8Array[];
}

const cache = new Map<G711Law, ToneFrames>();

/** The tone frames of `law`, built on first use. */
export function toneFrames(law: G711Law): ToneFrames {
  let frames = cache.get(law);
  if (frames === undefined) {
    frames = buildToneFrames(law);
    cache.set(law, frames);
  }
  return frames;
}

/** Frame `index` (0-based) of a beep `count` frames long. */
export function beepFrame(frames: ToneFrames, index: number, count: number): Uint8Array {
  if (count === 1) return frames.beepSingle;
  if (index === 0) return frames.beepIn;
  if (index === count - 1) return frames.beepOut;
  return frames.beepSteady;
}

/** Frame `index` (0-based, from the start of ringing) of the ringback cadence. */
export function ringbackFrame(frames: ToneFrames, index: number): Uint8Array {
  const inCycle = index % RINGBACK_CYCLE_FRAMES;
  if (inCycle >= RINGBACK_ON_FRAMES) return frames.silence;
  return frames.ringback[inCycle % RINGBACK_PERIOD_FRAMES]!;
}

/** The standard BEEP_MS beep as one G.711 buffer (e.g. for a prompt catalog). */
export function beepBuffer(law: G711Law, ms: number = BEEP_MS): Uint8Array {
  const frames = toneFrames(law);
  const count = Math.max(1, Math.round(ms / 20));
  const out = new Uint8Array(count * TONE_FRAME);
  for (let i = 0; i < count; i++) out.set(beepFrame(frames, i, count), i * TONE_FRAME);
  return out;
}

function buildToneFrames(law: G711Law): ToneFrames {
  const table = encodeTable(law);
  const frameCount = 5 + RINGBACK_PERIOD_FRAMES;
  const bytes = new Uint8Array(frameCount * TONE_FRAME);
  const pcm = new Int16Array(TONE_FRAME);
  const view = (i: number): Uint8Array => bytes.subarray(i * TONE_FRAME, (i + 1) * TONE_FRAME);

  bytes.fill(silenceCode(law), 0, TONE_FRAME);
  const beepPeak = DBM0_PEAK * Math.pow(10, BEEP_DBM0 / 20);
  const beep = (rampIn: boolean, rampOut: boolean, slot: number): void => {
    for (let t = 0; t < TONE_FRAME; t++) {
      let gain = 1;
      if (rampIn && t < RAMP_SAMPLES) gain *= raisedCosine(t / RAMP_SAMPLES);
      if (rampOut && t >= TONE_FRAME - RAMP_SAMPLES) gain *= raisedCosine((TONE_FRAME - 1 - t) / RAMP_SAMPLES);
      pcm[t] = Math.round(gain * beepPeak * Math.sin((2 * Math.PI * BEEP_HZ * t) / SAMPLE_RATE + Math.PI / 8));
    }
    encodeG711(table, pcm, 0, TONE_FRAME, bytes, slot * TONE_FRAME);
  };
  beep(true, false, 1);
  beep(false, false, 2);
  beep(false, true, 3);
  beep(true, true, 4);

  const ringPeak = DBM0_PEAK * Math.pow(10, RINGBACK_DBM0 / 20);
  for (let f = 0; f < RINGBACK_PERIOD_FRAMES; f++) {
    for (let i = 0; i < TONE_FRAME; i++) {
      const t = f * TONE_FRAME + i;
      let x = 0;
      for (const hz of RINGBACK_HZ) x += Math.sin((2 * Math.PI * hz * t) / SAMPLE_RATE);
      pcm[i] = Math.round(ringPeak * x);
    }
    encodeG711(table, pcm, 0, TONE_FRAME, bytes, (5 + f) * TONE_FRAME);
  }

  const ringback: Uint8Array[] = [];
  for (let f = 0; f < RINGBACK_PERIOD_FRAMES; f++) ringback.push(view(5 + f));
  return {
    law,
    silence: view(0),
    beepIn: view(1),
    beepSteady: view(2),
    beepOut: view(3),
    beepSingle: view(4),
    ringback,
  };
}

/** 0 at x = 0 rising to 1 at x = 1. */
function raisedCosine(x: number): number {
  return 0.5 - 0.5 * Math.cos(Math.PI * x);
}
