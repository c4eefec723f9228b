/**
 * Energy-based silence detection over 8 kHz PCM16 frames, used to end a recording after N ms of silence.
 *
 * Levels are RMS in dBFS where 0 dBFS is the RMS of a full-scale square wave (32768), so a full-scale sine
 * is -3 dBFS and a -10 dBm0 tone about -16 dBFS. A frame is "loud" when its level reaches the threshold
 * (default -45 dBFS: telephone speech sits around -20 to -30 dBFS, line noise and comfort noise below -55).
 *
 * Hangover: after the last loud frame the detector stays in 'speech' for hangoverMs, so that the quiet
 * stretches inside and at the end of words are not reported as silence (the state a level meter or a
 * trimmer uses). silenceMs is the time since the last loud frame, so "end the recording after 3 s of
 * silence" is `silenceMs >= 3000` whatever the hangover.
 *
 * Pure: no timers; time is the number of samples processed. Nothing is allocated per frame.
 * Not here: trimming the silence from the file (the recorder uses speechEndSample for that).
 */

/** Floor reported for digital silence instead of -Infinity. */
export const SILENCE_FLOOR_DBFS = -120;

/** RMS level of samples[offset .. offset+count) in dBFS (full-scale square = 0), at least -120. */
export function rmsDbfs(samples: Int16Array, offset: number = 0, count: number = samples.length - offset): number {
  if (count <= 0) return SILENCE_FLOOR_DBFS;
  let sum = 0;
  for (let i = offset; i < offset + count; i++) {
    const s = samples[i]!;
    sum += s * s;
  }
  const meanSquare = sum / count;
  if (meanSquare === 0) return SILENCE_FLOOR_DBFS;
  return Math.max(SILENCE_FLOOR_DBFS, 10 * Math.log10(meanSquare / (32768 * 32768)));
}

/** States of the detector. */
export enum SilenceState {
  /** Nothing loud has been heard since the start (or since reset). */
  Waiting = 'waiting',
  /** A loud frame was heard within the last hangoverMs. */
  Speech = 'speech',
  /** Quiet for longer than the hangover after speech. */
  Silence = 'silence',
}

export interface SilenceDetectorOptions {
  /** A frame at or above this RMS level is speech. Default -45 dBFS. */
  thresholdDbfs?: number;
  /** Time after the last loud frame still counted as speech. Default 300 ms. */
  hangoverMs?: number;
  /** Sample rate of the frames. Default 8000. */
  sampleRate?: number;
}

/** Tracks speech and silence over consecutive frames of one stream. */
export class SilenceDetector {
  state = SilenceState.Waiting;
  /** Level of the last frame, dBFS. */
  lastLevelDbfs = SILENCE_FLOOR_DBFS;
  /** Samples processed so far. */
  samples = 0;
  /** Sample index just after the last loud frame (0 if none): where the speech ended. */
  speechEndSample = 0;

  private readonly threshold: number;
  private readonly hangoverSamples: number;
  private readonly samplesPerMs: number;
  /** Samples since speechEndSample (or since the start while Waiting). */
  private quietSamples = 0;

  constructor(options: SilenceDetectorOptions = {}) {
    this.threshold = options.thresholdDbfs ?? -45;
    const rate = options.sampleRate ?? 8000;
    this.samplesPerMs = rate / 1000;
    this.hangoverSamples = Math.round((options.hangoverMs ?? 300) * this.samplesPerMs);
  }

  /** Feeds one frame (typically 20 ms). Returns the state after it. */
  process(frame: Int16Array, offset: number = 0, count: number = frame.length - offset): SilenceState {
    const level = rmsDbfs(frame, offset, count);
    this.lastLevelDbfs = level;
    this.samples += count;
    if (level >= this.threshold) {
      this.state = SilenceState.Speech;
      this.speechEndSample = this.samples;
      this.quietSamples = 0;
    } else {
      this.quietSamples += count;
      if (this.state === SilenceState.Speech && this.quietSamples > this.hangoverSamples) {
        this.state = SilenceState.Silence;
      }
    }
    return this.state;
  }

  /**
   * Milliseconds since the last loud frame (since the start while Waiting, so "nothing was said for N
   * seconds" ends a recording too). Independent of the hangover, which only delays the state change.
   */
  get silenceMs(): number {
    return this.quietSamples / this.samplesPerMs;
  }

  /** Back to Waiting, as for a new recording. */
  reset(): void {
    this.state = SilenceState.Waiting;
    this.lastLevelDbfs = SILENCE_FLOOR_DBFS;
    this.samples = 0;
    this.speechEndSample = 0;
    this.quietSamples = 0;
  }
}
