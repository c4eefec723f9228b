/**
 * In-band DTMF detection over 8 kHz PCM16 with Goertzel filters, for PBXs that send keys as tones in the
 * G.711 audio instead of RFC 4733 events.
 *
 * Blocks: 102 samples (12.75 ms), independent of the 20 ms packet framing (samples carry over between
 * frames). 102 is the classic choice (spandsp, Asterisk): at 8 kHz a block that long resolves the 73 Hz
 * spacing of the low group (the rows' mutual leakage is below -20 dB) while staying short enough for
 * timing. A 160-sample (20 ms) block resolves better but cannot tell a 40 ms tone from a 25 ms one, and a
 * 40 ms tone is only guaranteed one full 20 ms block whatever its alignment; with 12.75 ms blocks it always
 * covers two.
 *
 * A block is a "hit" for a key when all of these hold (defaults in DtmfToneDetectorOptions):
 * - both tones at or above an absolute level (-36 dBm0 each: a -10 dBm0 sender through 26 dB of loss);
 * - twist within limits: normal twist (high group louder than low) up to 8 dB, reverse twist (low group
 *   louder) up to 4 dB -- the usual receiver limits (spandsp and Asterisk use the same);
 * - each tone 8 dB above every other frequency of its group (one row and one column, not a chord);
 * - the two tones carry at least 70% of the block's total energy: speech and music spread their energy
 *   over many frequencies, a DTMF pair does not. (spandsp and Asterisk ask 82%, but a tone 1.5% off
 *   frequency -- which must be accepted -- loses up to 1.4 dB in a 102-sample filter and fails that.);
 * - no strong second harmonic (voiced speech and instruments are rich in harmonics, DTMF is two sines):
 *   the column's second harmonic at least 12 dB below it, the row's at least 4 dB below it where that
 *   harmonic is not inside the column tone's main lobe (rows 697/770/852 doubled fall within 78 Hz of
 *   columns 1336/1477/1633 for keys 2, 6 and C, where the column's own energy would fail the test).
 *
 * Timing: a key is reported once it has been a hit in 2 consecutive blocks (25.5 ms of tone): any tone of
 * 40 ms or more contains two whole blocks whatever its alignment, while a block the tone only partly
 * fills mostly fails the energy-share test (measured over all keys and alignments: 35 ms and longer always
 * detected, 30 ms 90%, 25 ms 51%, 20 ms 11%, 15 ms never). The key then stays down while its own row and
 * column still hold a tenth of each block's energy (hysteresis); it is released after 2 consecutive
 * blocks that fail even that. A pause of 40 ms always contains two whole blocks, so a key pressed twice
 * with a 40 ms gap counts twice, while a 20 ms dropout inside a tone (one lost packet) leaves at most one
 * empty block (or two partly filled ones, one of them at least 20% tone), so one press is never reported
 * twice.
 *
 * Pure: no timers, no allocation per frame; the cost is one energy sum per block, plus eight Goertzel
 * filters only for blocks loud enough to hold a key.
 */
import type { DtmfDigit } from './rfc4733.js';
import { SAMPLE_RATE } from '../audio-format.js';

/** Low group (rows) and high group (columns), Hz. */
const ROWS = [697, 770, 852, 941] as const;
const COLUMNS = [1209, 1336, 1477, 1633] as const;
const KEYPAD: readonly DtmfDigit[] = ['1', '2', '3', 'A', '4', '5', '6', 'B', '7', '8', '9', 'C', '*', '0', '#', 'D'];

/** Samples per Goertzel block. */
export const DTMF_BLOCK = 102;
/** Consecutive hits that confirm a key. */
const CONFIRM_BLOCKS = 2;
/** Consecutive blocks without the key that release it. */
const RELEASE_BLOCKS = 2;
/**
 * Over 102 samples a tone's measured power varies by up to +-1.5 dB with the phase of the other tone,
 * whose sidelobes (-26 dB at 512 Hz away) add to or subtract from it. The twist limits are applied with
 * this margin so that a pair at exactly the limit is accepted in every block.
 */
const TWIST_TOLERANCE_DB = 1.5;
/** Share of a block's energy the down key's tones must keep (relaxed test). */
const KEEP_RATIO = 0.1;
/** Least block power, relative to the per-tone threshold, for any analysis (-7 dB). */
const KEEP_LEVEL = 0.2;
/** RMS of a 0 dBm0 sine in 16-bit PCM: full scale (32768 peak) is +3.14 dBm0 (G.711 A-law overload). */
const DBM0_RMS = 32768 / Math.SQRT2 / Math.pow(10, 3.14 / 20);

export interface DtmfToneDetectorOptions {
  /** Lowest level of each tone, dBm0. Default -36. */
  minToneLevelDbm0?: number;
  /** Most the high-group tone may exceed the low-group tone by, dB (normal twist). Default 8. */
  normalTwistDb?: number;
  /** Most the low-group tone may exceed the high-group tone by, dB (reverse twist). Default 4. */
  reverseTwistDb?: number;
  /** Least each tone must exceed the other frequencies of its group by, dB. Default 8. */
  relativePeakDb?: number;
  /** Least share of the block's energy in the two tones, as a ratio 0-1. Default 0.7. */
  minToneToTotalRatio?: number;
  /** Least a column tone must exceed its second harmonic by, dB. Default 12. */
  columnHarmonicDb?: number;
  /** Least a row tone must exceed its second harmonic by, dB (where it can be measured). Default 4. */
  rowHarmonicDb?: number;
}

/** Called once per key press with the key and the index (from the detector's start) of its first sample. */
export type DtmfToneListener = (digit: DtmfDigit, startSample: number) => void;

/** States of the key tracker. */
export enum DtmfToneState {
  /** No key down: waiting for CONFIRM_BLOCKS consecutive hits of one key. */
  Idle = 'idle',
  /** A key was reported and is still sounding. */
  KeyDown = 'key-down',
}

/** Detects DTMF keys in one 8 kHz PCM16 stream. */
export class DtmfToneDetector {
  state = DtmfToneState.Idle;

  private readonly block = new Float64Array(DTMF_BLOCK);
  private fill = 0;
  /** Index of the first sample of the current block in the stream. */
  private blockStart = 0;

  private readonly rowCoef = new Float64Array(4);
  private readonly colCoef = new Float64Array(4);
  private readonly rowHarmonicCoef = new Float64Array(4);
  private readonly colHarmonicCoef = new Float64Array(4);
  /** Whether the row harmonic can be measured with this column (not inside its main lobe). */
  private readonly rowHarmonicUsable = new Uint8Array(16);
  private readonly rowPower = new Float64Array(4);
  private readonly colPower = new Float64Array(4);

  private readonly minTonePower: number;
  private readonly normalTwist: number;
  private readonly reverseTwist: number;
  private readonly relativePeak: number;
  private readonly toneToTotal: number;
  private readonly colHarmonic: number;
  private readonly rowHarmonic: number;

  private candidate = -1;
  private candidateHits = 0;
  private candidateStart = 0;
  private key = -1;
  private misses = 0;

  constructor(
    private readonly listener: DtmfToneListener,
    options: DtmfToneDetectorOptions = {},
  ) {
    const db = (value: number): number => Math.pow(10, value / 10);
    this.minTonePower = DBM0_RMS * DBM0_RMS * db(options.minToneLevelDbm0 ?? -36);
    this.normalTwist = db((options.normalTwistDb ?? 8) + TWIST_TOLERANCE_DB);
    this.reverseTwist = db((options.reverseTwistDb ?? 4) + TWIST_TOLERANCE_DB);
    this.relativePeak = db(options.relativePeakDb ?? 8);
    this.toneToTotal = options.minToneToTotalRatio ?? 0.7;
    this.colHarmonic = db(options.columnHarmonicDb ?? 12);
    this.rowHarmonic = db(options.rowHarmonicDb ?? 4);
    const coef = (hz: number): number => 2 * Math.cos((2 * Math.PI * hz) / SAMPLE_RATE);
    const binHz = SAMPLE_RATE / DTMF_BLOCK;
    for (let i = 0; i < 4; i++) {
      this.rowCoef[i] = coef(ROWS[i]!);
      this.colCoef[i] = coef(COLUMNS[i]!);
      this.rowHarmonicCoef[i] = coef(2 * ROWS[i]!);
      this.colHarmonicCoef[i] = coef(2 * COLUMNS[i]!);
      for (let c = 0; c < 4; c++) {
        this.rowHarmonicUsable[i * 4 + c] = Math.abs(2 * ROWS[i]! - COLUMNS[c]!) > binHz ? 1 : 0;
      }
    }
  }

  /** Feeds samples (any count; typically one 20 ms frame). Calls the listener for each new key. */
  process(samples: Int16Array, offset: number = 0, count: number = samples.length - offset): void {
    const end = offset + count;
    for (let i = offset; i < end; i++) {
      this.block[this.fill++] = samples[i]!;
      if (this.fill === DTMF_BLOCK) {
        this.analyzeBlock();
        this.fill = 0;
        this.blockStart += DTMF_BLOCK;
      }
    }
  }

  /** Forgets any partial block and key in progress (e.g. after a gap in the stream). */
  reset(): void {
    this.blockStart += this.fill;
    this.fill = 0;
    this.state = DtmfToneState.Idle;
    this.candidate = -1;
    this.candidateHits = 0;
    this.key = -1;
    this.misses = 0;
  }

  private analyzeBlock(): void {
    const block = this.block;
    let energy = 0;
    for (let i = 0; i < DTMF_BLOCK; i++) energy += block[i]! * block[i]!;
    const meanPower = energy / DTMF_BLOCK;

    let hit = -1;
    let keep = false;
    // Quieter blocks can be neither a hit nor keep a key down (a block a dropout mostly fills).
    if (meanPower >= KEEP_LEVEL * this.minTonePower) {
      this.eightFilters();
      let bestRow = 0;
      let bestCol = 0;
      for (let i = 1; i < 4; i++) {
        if (this.rowPower[i]! > this.rowPower[bestRow]!) bestRow = i;
        if (this.colPower[i]! > this.colPower[bestCol]!) bestCol = i;
      }
      const row = this.rowPower[bestRow]!;
      const col = this.colPower[bestCol]!;
      const digit = bestRow * 4 + bestCol;
      // Key still down: its own row and column still hold a tenth of the energy. They need not be the
      // strongest of their groups: a block a dropout mostly fills holds a short burst of tone whose
      // spectrum is too wide to tell neighbouring rows apart.
      if (this.key >= 0) {
        keep = this.rowPower[this.key >> 2]! + this.colPower[this.key & 3]! >= KEEP_RATIO * meanPower;
      }
      if (this.isHit(bestRow, bestCol, row, col, meanPower)) hit = digit;
    }
    this.track(hit, keep);
  }

  /** The eight DTMF Goertzel filters in one pass over the block (into rowPower and colPower). */
  private eightFilters(): void {
    const block = this.block;
    const r0 = this.rowCoef[0]!, r1 = this.rowCoef[1]!, r2 = this.rowCoef[2]!, r3 = this.rowCoef[3]!;
    const c0 = this.colCoef[0]!, c1 = this.colCoef[1]!, c2 = this.colCoef[2]!, c3 = this.colCoef[3]!;
    let a0 = 0, b0 = 0, a1 = 0, b1 = 0, a2 = 0, b2 = 0, a3 = 0, b3 = 0;
    let d0 = 0, e0 = 0, d1 = 0, e1 = 0, d2 = 0, e2 = 0, d3 = 0, e3 = 0;
    for (let i = 0; i < DTMF_BLOCK; i++) {
      const x = block[i]!;
      let t = x + r0 * a0 - b0; b0 = a0; a0 = t;
      t = x + r1 * a1 - b1; b1 = a1; a1 = t;
      t = x + r2 * a2 - b2; b2 = a2; a2 = t;
      t = x + r3 * a3 - b3; b3 = a3; a3 = t;
      t = x + c0 * d0 - e0; e0 = d0; d0 = t;
      t = x + c1 * d1 - e1; e1 = d1; d1 = t;
      t = x + c2 * d2 - e2; e2 = d2; d2 = t;
      t = x + c3 * d3 - e3; e3 = d3; d3 = t;
    }
    const rows = this.rowPower;
    const cols = this.colPower;
    rows[0] = power(a0, b0, r0);
    rows[1] = power(a1, b1, r1);
    rows[2] = power(a2, b2, r2);
    rows[3] = power(a3, b3, r3);
    cols[0] = power(d0, e0, c0);
    cols[1] = power(d1, e1, c1);
    cols[2] = power(d2, e2, c2);
    cols[3] = power(d3, e3, c3);
  }

  private isHit(bestRow: number, bestCol: number, row: number, col: number, meanPower: number): boolean {
    if (row < this.minTonePower || col < this.minTonePower) return false;
    if (col > row * this.normalTwist || row > col * this.reverseTwist) return false;
    for (let i = 0; i < 4; i++) {
      if (i !== bestRow && this.rowPower[i]! * this.relativePeak > row) return false;
      if (i !== bestCol && this.colPower[i]! * this.relativePeak > col) return false;
    }
    if (row + col < this.toneToTotal * meanPower) return false;
    if (goertzelPower(this.block, this.colHarmonicCoef[bestCol]!) * this.colHarmonic > col) return false;
    if (
      this.rowHarmonicUsable[bestRow * 4 + bestCol] === 1 &&
      goertzelPower(this.block, this.rowHarmonicCoef[bestRow]!) * this.rowHarmonic > row
    ) {
      return false;
    }
    return true;
  }

  private track(hit: number, keep: boolean): void {
    if (hit >= 0 && hit === this.candidate) {
      this.candidateHits++;
    } else {
      this.candidate = hit;
      this.candidateHits = hit >= 0 ? 1 : 0;
      this.candidateStart = this.blockStart;
    }
    if (this.state === DtmfToneState.KeyDown) {
      this.misses = keep ? 0 : this.misses + 1;
      if (this.misses < RELEASE_BLOCKS) return;
      this.state = DtmfToneState.Idle;
      this.key = -1;
    }
    if (this.candidateHits >= CONFIRM_BLOCKS) {
      this.state = DtmfToneState.KeyDown;
      this.key = this.candidate;
      this.misses = 0;
      this.listener(KEYPAD[this.candidate]!, this.candidateStart);
    }
  }
}

/**
 * Power of one frequency over the block, normalized so that a sine of amplitude A at that frequency gives
 * A^2/2 (its mean power) -- comparable with the block's mean power and with dBm0 levels.
 */
function goertzelPower(block: Float64Array, coef: number): number {
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < DTMF_BLOCK; i++) {
    const s = block[i]! + coef * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return power(s1, s2, coef);
}

/** Goertzel's final step |X|^2 = s1^2 + s2^2 - coef s1 s2, normalized as goertzelPower() says. */
function power(s1: number, s2: number, coef: number): number {
  return (2 * (s1 * s1 + s2 * s2 - coef * s1 * s2)) / (DTMF_BLOCK * DTMF_BLOCK);
}
