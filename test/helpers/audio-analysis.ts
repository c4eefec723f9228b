/**
 * Audio checks for tests: decode fixtures and recordings, find the tones in them, and say where and at
 * what frequency they are, so a test can compare what vmpilot recorded with what SIPp streamed.
 *
 * Frequency: a Hann-windowed DFT evaluated (Goertzel) every 25 Hz from 100 to 3900 Hz, over 20 ms frames
 * (Welch-averaged for longer spans), with the peak interpolated between grid points: a pure tone in
 * 300-3400 Hz measures within 0.1 Hz over 20 ms or more, within 6 Hz over 10 ms (the unit test asks 25 Hz). Tone edges: 20 ms frames that are loud (RMS at or
 * above minDbfs) and pure (the peak holds at least minPurity of the frame's energy) with a stable frequency
 * are merged, then each edge is moved to the first/last loud 1 ms block, so an edge next to silence is
 * found within 1 ms wherever it falls in the frame grid.
 *
 * The fixtures (test/fixtures/audio, made by scripts/make-test-audio.sh) and their schedules are here too.
 * Not here: DTMF decoding (use src/media/dtmf/goertzel.ts's DtmfToneDetector), resampling (8 kHz only).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { SAMPLE_RATE } from '../../src/media/audio-format.js';
import { rmsDbfs } from '../../src/media/energy.js';
import { ULAW_TO_LINEAR, decodeG711 } from '../../src/media/g711.js';
import { readWavFile } from '../../src/media/wav.js';

export { rmsDbfs };

/** A tone found in (or expected in) audio; times from the first sample. */
export interface Tone {
  hz: number;
  startMs: number;
  endMs: number;
}

/** tones-3s.ulaw/.wav: 200 ms silence, five 400 ms tones at -12 dBFS 200 ms apart; 3000 ms in all. */
export const TONES_3S: readonly Tone[] = [
  { hz: 400, startMs: 200, endMs: 600 },
  { hz: 700, startMs: 800, endMs: 1200 },
  { hz: 1000, startMs: 1400, endMs: 1800 },
  { hz: 1300, startMs: 2000, endMs: 2400 },
  { hz: 1600, startMs: 2600, endMs: 3000 },
];
/** Level of each TONES_3S tone, dBFS as src/media/energy.ts measures it. */
export const TONES_3S_DBFS = -12;
/** dtmf-inband.ulaw/.wav: these keys, key i sounding from 300 + 200 i ms for 100 ms, each tone -10 dBm0. */
export const DTMF_INBAND_KEYS = '1234567890*#';
export const DTMF_INBAND = { leadMs: 300, toneMs: 100, gapMs: 100, durationMs: 2700 } as const;
/** long-25s.ulaw: 440 Hz at -20 dBFS, on during even seconds (0-1 s, 2-3 s, ... 24-25 s). */
export const LONG_25S = { hz: 440, dbfs: -20, onMs: 1000, offMs: 1000, durationMs: 25_000 } as const;
/** melody-4s.ulaw: eight 500 ms notes (fundamentals, Hz) with vibrato and harmonics. */
export const MELODY_4S_HZ: readonly number[] = [392, 523.25, 659.26, 783.99, 698.46, 587.33, 493.88, 523.25];

/** Absolute path of a file in test/fixtures/audio (SIPp's rtp_stream wants a path). */
export function audioFixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/audio/${name}`, import.meta.url));
}

/** Decodes headerless G.711 u-law bytes to PCM16. */
export function ulawToPcm(buf: Uint8Array): Int16Array {
  const out = new Int16Array(buf.length);
  decodeG711(ULAW_TO_LINEAR, buf, 0, buf.length, out, 0);
  return out;
}

/** Reads a headerless u-law file (a .ulaw fixture) as PCM16. */
export async function readUlawFile(path: string): Promise<Int16Array> {
  return ulawToPcm(await readFile(path));
}

/** Reads a WAV (as vmpilot records them: 8 kHz mono PCM16). Rejects for another sample rate. */
export async function readRecording(path: string): Promise<{ samples: Int16Array; durationMs: number }> {
  const wav = await readWavFile(path);
  if (wav.sampleRate !== SAMPLE_RATE) throw new TypeError(`${path}: ${wav.sampleRate} Hz, expected ${SAMPLE_RATE}`);
  return { samples: wav.samples, durationMs: samplesToMs(wav.samples.length) };
}

export function msToSamples(ms: number): number {
  return Math.round((ms * SAMPLE_RATE) / 1000);
}

export function samplesToMs(samples: number): number {
  return (samples * 1000) / SAMPLE_RATE;
}

const FRAME = SAMPLE_RATE / 50; // 20 ms
const BLOCK = SAMPLE_RATE / 1000; // 1 ms, for edges
const GRID_HZ = 25;
const GRID = Array.from({ length: (3900 - 100) / GRID_HZ + 1 }, (_, i) => 100 + i * GRID_HZ);
const HANN = Float64Array.from({ length: FRAME }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / FRAME));
const HANN_SUM = HANN.reduce((a, b) => a + b, 0);
const HANN_SQ = HANN.reduce((a, b) => a + b * b, 0);

/** |DFT|^2 at `hz` of one Hann-windowed, mean-removed 20 ms frame (Goertzel). */
function power(frame: Float64Array, hz: number): number {
  const coeff = 2 * Math.cos((2 * Math.PI * hz) / SAMPLE_RATE);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < frame.length; i++) {
    const s = frame[i]! + coeff * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

/** Copies samples[at .. at+FRAME), zero-padded past the end, windowed, into `into`; returns its energy. */
function windowed(samples: Int16Array, at: number, into: Float64Array): number {
  const n = Math.max(0, Math.min(FRAME, samples.length - at));
  let mean = 0;
  for (let i = 0; i < n; i++) mean += samples[at + i]!;
  mean = n > 0 ? mean / n : 0;
  let energy = 0;
  for (let i = 0; i < FRAME; i++) {
    into[i] = i < n ? (samples[at + i]! - mean) * HANN[i]! : 0;
    energy += into[i]! * into[i]!;
  }
  return energy;
}

/** Peak of a power spectrum on GRID, interpolated (parabola through the log powers around the maximum). */
function interpolatedPeak(spectrum: Float64Array): number {
  let k = 0;
  for (let i = 1; i < spectrum.length; i++) if (spectrum[i]! > spectrum[k]!) k = i;
  if (k === 0 || k === spectrum.length - 1) return GRID[k]!;
  const [a, b, c] = [spectrum[k - 1]!, spectrum[k]!, spectrum[k + 1]!].map((p) => Math.log(p + 1e-9)) as [number, number, number];
  const denom = a - 2 * b + c;
  const delta = denom < 0 ? (0.5 * (a - c)) / denom : 0;
  return GRID[k]! + delta * GRID_HZ;
}

const scratch = new Float64Array(FRAME);

/** One frame's dominant frequency and purity (share of its windowed energy at that frequency, 0-1). */
function analyzeFrame(samples: Int16Array, at: number): { hz: number; purity: number } {
  const energy = windowed(samples, at, scratch);
  if (energy === 0) return { hz: 0, purity: 0 };
  const spectrum = Float64Array.from(GRID, (hz) => power(scratch, hz));
  const hz = interpolatedPeak(spectrum);
  // A sine A cos(wn) gives |X(w)|^2 = A^2 (sum w)^2 / 4 and windowed energy A^2 (sum w^2) / 2.
  const purity = (2 * HANN_SQ * power(scratch, hz)) / (HANN_SUM * HANN_SUM * energy);
  return { hz, purity: Math.min(1, purity) };
}

/**
 * Dominant frequency (Hz) of samples[from, to) (sample indices): the peak of the average power spectrum of
 * its 20 ms frames (hop 10 ms; a span shorter than 20 ms is zero-padded). 0 for digital silence.
 */
export function dominantHz(samples: Int16Array, from: number = 0, to: number = samples.length): number {
  const spectrum = new Float64Array(GRID.length);
  let total = 0;
  for (let at = from; at === from || at + FRAME <= to; at += FRAME / 2) {
    const frame = samples.subarray(at, Math.min(to, at + FRAME));
    total += windowed(frame, 0, scratch);
    for (let i = 0; i < GRID.length; i++) spectrum[i]! += power(scratch, GRID[i]!);
  }
  return total === 0 ? 0 : interpolatedPeak(spectrum);
}

export interface FindTonesOptions {
  /** A frame (and a 1 ms edge block) is loud at or above this RMS level. Default -40 dBFS. */
  minDbfs?: number;
  /** Least share of a frame's energy at its dominant frequency (a sine is about 0.9-1). Default 0.6. */
  minPurity?: number;
  /** Most a frame's frequency may differ from its tone's mean so far. Default 25 Hz. */
  hzTolerance?: number;
  /** Shorter tones are dropped. Default 40 ms. */
  minMs?: number;
}

/** Tones found in 8 kHz PCM16, in order, with their RMS level; hz is rounded to 1 Hz, times to 1 ms. */
export function findTones(samples: Int16Array, options: FindTonesOptions = {}): (Tone & { dbfs: number })[] {
  const minDbfs = options.minDbfs ?? -40;
  const minPurity = options.minPurity ?? 0.6;
  const hzTolerance = options.hzTolerance ?? 25;
  const minSamples = msToSamples(options.minMs ?? 40);
  const runs: { start: number; end: number; hzSum: number; frames: number }[] = [];
  let run: (typeof runs)[number] | undefined;
  for (let at = 0; at + FRAME <= samples.length; at += FRAME) {
    const frame = rmsDbfs(samples, at, FRAME) >= minDbfs ? analyzeFrame(samples, at) : undefined;
    const tonal = frame !== undefined && frame.purity >= minPurity;
    if (tonal && run && run.end === at && Math.abs(frame.hz - run.hzSum / run.frames) <= hzTolerance) {
      run.end += FRAME;
      run.hzSum += frame.hz;
      run.frames++;
    } else {
      run = tonal ? { start: at, end: at + FRAME, hzSum: frame.hz, frames: 1 } : undefined;
      if (run) runs.push(run);
    }
  }
  const loud = (at: number): boolean => at >= 0 && at + BLOCK <= samples.length && rmsDbfs(samples, at, BLOCK) >= minDbfs;
  const tones: (Tone & { dbfs: number })[] = [];
  let previousEnd = 0;
  runs.forEach((r, i) => {
    let start = r.start;
    const floor = Math.max(previousEnd, r.start - FRAME);
    if (loud(start)) while (start - BLOCK >= floor && loud(start - BLOCK)) start -= BLOCK;
    else while (start < r.start + FRAME && !loud(start)) start += BLOCK;
    let end = r.end;
    const ceiling = Math.min(samples.length, r.end + FRAME, runs[i + 1]?.start ?? Infinity);
    if (loud(end - BLOCK)) while (end + BLOCK <= ceiling && loud(end)) end += BLOCK;
    else while (end > r.end - FRAME && !loud(end - BLOCK)) end -= BLOCK;
    previousEnd = end;
    if (end - start < minSamples) return;
    tones.push({
      hz: Math.round(dominantHz(samples, start, end)),
      startMs: Math.round(samplesToMs(start)),
      endMs: Math.round(samplesToMs(end)),
      dbfs: rmsDbfs(samples, start, end - start),
    });
  });
  return tones;
}

/**
 * Compares found tones with a schedule that may be shifted in time (a recording starts when it starts):
 * the shift is the first expected tone's start minus the matching found tone's. Returns the shift and one
 * line per mismatch (missing, extra, frequency or edges off by more than the tolerances); no lines = match.
 */
export function compareTones(
  found: readonly Tone[],
  expected: readonly Tone[],
  tolerance: { ms?: number; hz?: number } = {},
): { offsetMs: number; problems: string[] } {
  const ms = tolerance.ms ?? 20;
  const hz = tolerance.hz ?? 25;
  const first = found.findIndex((t) => Math.abs(t.hz - expected[0]!.hz) <= hz);
  if (first < 0) return { offsetMs: 0, problems: [`no ${expected[0]!.hz} Hz tone in ${JSON.stringify(found)}`] };
  const offsetMs = found[first]!.startMs - expected[0]!.startMs;
  const problems: string[] = [];
  const show = (t: Tone): string => `${t.hz} Hz ${t.startMs}-${t.endMs} ms`;
  expected.forEach((e, i) => {
    const f = found[first + i];
    const want = `${e.hz} Hz ${e.startMs + offsetMs}-${e.endMs + offsetMs} ms`;
    if (!f) problems.push(`missing ${want}`);
    else if (Math.abs(f.hz - e.hz) > hz || Math.abs(f.startMs - e.startMs - offsetMs) > ms || Math.abs(f.endMs - e.endMs - offsetMs) > ms) {
      problems.push(`expected ${want}, found ${show(f)}`);
    }
  });
  found.forEach((f, i) => {
    if (i < first || i >= first + expected.length) problems.push(`extra ${show(f)}`);
  });
  return { offsetMs, problems };
}
