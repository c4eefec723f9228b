/**
 * One call's message recorder: takes the caller's decoded audio (the ReceiveBuffer's PCM16 sink) and writes it
 * to a mono 16-bit 8 kHz PCM WAV (WavWriter: asynchronous writes, header kept current, at most ~1 s at risk),
 * ending on a terminating key, on a silence timeout, at the maximum length, on hang-up, or on stop().
 *
 * Trimming without rewriting the file: the last few hundred ms are held in a ring before they are written.
 * - Keys: `digitHoldMs` (default 500 ms) of audio is always held, so when a terminating key is reported with
 *   the sample where its tone began (the Goertzel detector's startSample; an RFC 4733 event's timestamp), the
 *   file is cut there, less a guard of `digitGuardMs` (default 20 ms), and no part of the tone is written.
 *   The guard is there because the Goertzel detector's start sample is the first 102-sample block it
 *   counted as a hit: the block before it is usually partly tone (measured: 14 samples of a '#' got through
 *   without the guard). Without a start sample the last `digitTrimMs` (default 80 ms) before the report is cut.
 * - Silence: while the caller is quiet, the quiet after `silenceTailMs` (default 500 ms) past the last loud
 *   frame is held too (up to `maxHoldMs`, default 10 s); when the silence timeout ends the recording, the file
 *   ends `silenceTailMs` after the speech. When speech resumes, the held quiet is written: pauses inside the
 *   message are kept. Only silence is ever held longer than digitHoldMs, so a killed process loses at most
 *   that plus WavWriter's one second of speech.
 * - Max length, hang-up and stop() keep everything received (hang-up keeps the message), cut at exactly maxMs.
 *
 * Durations are counted in samples written, so durationMs is exactly what the file holds. Silence is judged
 * per 20 ms frame by SilenceDetector (energy.ts). No timers: when RTP stops altogether the call must keep the
 * timeline going with ReceiveBuffer.padSilence() from its tick, or silence and max never end the recording.
 *
 * pushSamples allocates nothing: samples are copied into the preallocated ring and from it into WavWriter's
 * buffers; the file I/O is WavWriter's, asynchronous.
 *
 * Not here: detecting keys (dtmf/), the beep before recording (player), deciding what a too-short message means
 * (the outcome says `tooShort`; the app decides whether to keep it).
 */
import { SilenceDetector } from './energy.js';
import { WavWriter } from './wav.js';

export interface RecordOptions {
  /** Longest recording, ms. Required. */
  maxMs: number;
  /** End after this much silence, ms; 0 never ends on silence. Default 0. */
  silenceMs?: number;
  /** A 20 ms frame at or above this RMS level is speech, dBFS. Default -45 (energy.ts). */
  silenceThresholdDbfs?: number;
  /** Keys that end the recording, e.g. '#'. Default '#'. Empty: keys never end it. */
  endOnDigits?: string;
  /** A recording shorter than this is reported `tooShort` (the file is kept), ms. Default 0. */
  minMs?: number;
  /** Quiet kept after the last speech when silence ends the recording, ms. Default 500. */
  silenceTailMs?: number;
  /** Audio always held back so a key's tone can be cut, ms. Default 500. */
  digitHoldMs?: number;
  /** Audio cut before a key reported without a start sample, ms. Default 80. */
  digitTrimMs?: number;
  /** Audio cut before a key's reported start sample as well, ms. Default 20 (see the module comment). */
  digitGuardMs?: number;
  /** Most quiet held for trimming, ms; longer silences are trimmed only of their last maxHoldMs. Default 10 000. */
  maxHoldMs?: number;
  /** WavWriter flush interval, ms. Default 1000 (WavWriter's). */
  flushMs?: number;
}

/** Why a recording ended. */
export type RecordEndReason =
  /** A key in endOnDigits. */
  | 'digit'
  /** silenceMs of silence. */
  | 'silence'
  /** maxMs reached. */
  | 'max'
  /** The caller hung up (hangup()). */
  | 'hangup'
  /** stop() by the app. */
  | 'stopped';

export interface RecordOutcome {
  reason: RecordEndReason;
  /** Length of the audio in the file, ms (samples written / 8). */
  durationMs: number;
  /** The WAV file (kept whatever the reason). */
  path: string;
  /** The key that ended it, for reason 'digit'. */
  digit?: string;
  /** durationMs < minMs. */
  tooShort: boolean;
}

/** States of the recorder. */
export enum RecorderState {
  /** No recording: pushSamples is ignored. */
  Idle = 'idle',
  /** Taking audio (the file may still be opening: audio is held meanwhile). */
  Recording = 'recording',
  /** Ended: writing the last held audio and closing the file. */
  Finishing = 'finishing',
  /** close() was called. */
  Closed = 'closed',
}

const SAMPLES_PER_MS = 8;
const FRAME = 160;

function invalidState(message: string): Error {
  const err = new Error(message);
  err.name = 'InvalidStateError';
  return err;
}

export class Recorder {
  state = RecorderState.Idle;
  /** Samples pushed to the current (or last) recording: the timeline a key's start sample refers to. */
  samplesIn = 0;
  /** Samples dropped because the file took longer to open than the ring could hold (should stay 0). */
  droppedSamples = 0;

  private ring = new Int16Array(0);
  /** Samples taken out of the ring (written, or dropped while the file was opening). */
  private committed = 0;
  private detector = new SilenceDetector();
  private detectorThreshold = -45;
  private closeAfterFinish = false;
  private writer: WavWriter | undefined = undefined;
  private opening: Promise<WavWriter> | undefined = undefined;
  private path = '';

  private maxSamples = 0;
  private silenceSamples = 0;
  private tailSamples = 0;
  private holdSamples = 0;
  private trimSamples = 0;
  private guardSamples = 0;
  private minMs = 0;
  private endOnDigits = '#';
  private threshold = -45;

  private resolve: ((outcome: RecordOutcome) => void) | undefined = undefined;
  private reject: ((err: unknown) => void) | undefined = undefined;

  /**
   * Starts recording to `path` (created or truncated). Resolves when the recording has ended and the file is
   * closed; rejects with the I/O error if the file cannot be written, with TypeError for bad options, and with
   * an InvalidStateError while another recording runs or after close().
   */
  start(path: string, options: RecordOptions): Promise<RecordOutcome> {
    if (this.state !== RecorderState.Idle) {
      return Promise.reject(invalidState(`Recorder.start() while ${this.state}`));
    }
    const ms = (value: number | undefined, fallback: number, name: string): number => {
      const v = value ?? fallback;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new TypeError(`${name} must be >= 0, got ${v}`);
      return Math.round(v * SAMPLES_PER_MS);
    };
    try {
      if (!(options.maxMs > 0)) throw new TypeError(`maxMs must be > 0, got ${options.maxMs}`);
      this.maxSamples = ms(options.maxMs, 0, 'maxMs');
      this.silenceSamples = ms(options.silenceMs, 0, 'silenceMs');
      this.tailSamples = ms(options.silenceTailMs, 500, 'silenceTailMs');
      this.holdSamples = ms(options.digitHoldMs, 500, 'digitHoldMs');
      this.trimSamples = ms(options.digitTrimMs, 80, 'digitTrimMs');
      this.guardSamples = ms(options.digitGuardMs, 20, 'digitGuardMs');
      this.minMs = options.minMs ?? 0;
      const maxHold = ms(options.maxHoldMs, 10_000, 'maxHoldMs');
      this.endOnDigits = options.endOnDigits ?? '#';
      this.threshold = options.silenceThresholdDbfs ?? -45;
      // The ring holds the key hold-back plus the quiet held for trimming, in whole frames, so that a 20 ms
      // frame never straddles the wrap (the silence detector reads frames straight from the ring).
      const quiet = this.silenceSamples > 0 ? Math.min(this.silenceSamples, maxHold) : 0;
      const capacity = Math.ceil((this.holdSamples + quiet + FRAME) / FRAME) * FRAME;
      if (this.ring.length !== capacity) this.ring = new Int16Array(capacity);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.detectorThreshold !== this.threshold) {
      // SilenceDetector takes its threshold at construction.
      this.detector = new SilenceDetector({ thresholdDbfs: this.threshold });
      this.detectorThreshold = this.threshold;
    } else {
      this.detector.reset();
    }
    this.samplesIn = 0;
    this.committed = 0;
    this.droppedSamples = 0;
    this.path = path;
    this.writer = undefined;
    this.state = RecorderState.Recording;
    const outcome = new Promise<RecordOutcome>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    const opening = WavWriter.open(path, options.flushMs === undefined ? {} : { flushMs: options.flushMs });
    this.opening = opening;
    opening.then(
      (writer) => {
        if (this.opening !== opening) return;
        this.writer = writer;
        // Audio that arrived while the file was opening and may be committed now.
        if (this.state === RecorderState.Recording) this.commit(this.commitLimit());
      },
      (err: unknown) => {
        if (this.opening !== opening) return;
        this.fail(err);
      },
    );
    return outcome;
  }

  /** The ReceiveBuffer sink: appends the caller's audio. Bound; never throws; ignored unless recording. */
  readonly pushSamples = (samples: Int16Array, count: number): void => {
    if (this.state !== RecorderState.Recording) return;
    const ring = this.ring;
    const capacity = ring.length;
    let offset = 0;
    while (offset < count) {
      const room = this.maxSamples - this.samplesIn;
      if (room <= 0) break;
      const at = this.samplesIn % capacity;
      let n = FRAME - (this.samplesIn % FRAME); // up to the next frame boundary (which is never past the wrap)
      if (n > count - offset) n = count - offset;
      if (n > room) n = room;
      if (this.samplesIn + n - this.committed > capacity) this.commit(this.samplesIn + n - capacity, true);
      for (let i = 0; i < n; i++) ring[at + i] = samples[offset + i]!;
      this.samplesIn += n;
      offset += n;
      if (this.samplesIn % FRAME === 0) {
        this.detector.process(ring, at + n - FRAME, FRAME);
        if (this.silenceSamples > 0 && this.detector.silenceMs * SAMPLES_PER_MS >= this.silenceSamples) {
          this.end('silence', this.detector.speechEndSample + this.tailSamples);
          return;
        }
      }
    }
    if (this.samplesIn >= this.maxSamples) {
      this.end('max', this.samplesIn);
      return;
    }
    this.commit(this.commitLimit());
  };

  /**
   * A key from the caller. When it is one of endOnDigits, ends the recording, cut at `toneStartSample` (in
   * this recording's timeline, see samplesIn; from the in-band detector or an RFC 4733 event timestamp) or,
   * without it, digitTrimMs before now; returns true then. Other keys and keys while idle return false.
   * `exact`: the start sample is exact (an RFC 4733 event's timestamp), so no guard is cut before it; the
   * guard is for the in-band detector, whose start lags the tone by up to a block.
   */
  digit(key: string, toneStartSample?: number, exact = false): boolean {
    if (this.state !== RecorderState.Recording || key.length !== 1 || !this.endOnDigits.includes(key)) return false;
    const guard = exact ? 0 : this.guardSamples;
    const cut = toneStartSample === undefined ? this.samplesIn - this.trimSamples : toneStartSample - guard;
    this.end('digit', cut, key);
    return true;
  }

  /** The caller hung up: ends the recording keeping everything received. No-op unless recording. */
  hangup(): void {
    if (this.state === RecorderState.Recording) this.end('hangup', this.samplesIn);
  }

  /** The app ends the recording, keeping everything received. No-op unless recording. */
  stop(): void {
    if (this.state === RecorderState.Recording) this.end('stopped', this.samplesIn);
  }

  /** Ends a running recording as a hang-up and refuses new ones. Idempotent; the pending start() settles. */
  close(): void {
    this.hangup();
    if (this.state === RecorderState.Idle) this.state = RecorderState.Closed;
    else this.closeAfterFinish = true;
  }

  /** Where audio may be written up to now: all but the key hold-back and the quiet held for trimming. */
  private commitLimit(): number {
    let limit = this.samplesIn - this.holdSamples;
    if (this.silenceSamples > 0) {
      const quietFrom = this.detector.speechEndSample + this.tailSamples;
      if (quietFrom < limit) limit = quietFrom;
    }
    return limit;
  }

  /** Writes ring audio up to `upTo` (never past what was pushed); `force` drops it if the file is not open. */
  private commit(upTo: number, force: boolean = false): void {
    if (upTo > this.samplesIn) upTo = this.samplesIn;
    if (upTo <= this.committed) return;
    const writer = this.writer;
    if (writer === undefined) {
      if (!force) return;
      this.droppedSamples += upTo - this.committed;
      this.committed = upTo;
      return;
    }
    const capacity = this.ring.length;
    while (this.committed < upTo) {
      const at = this.committed % capacity;
      let n = capacity - at;
      if (n > upTo - this.committed) n = upTo - this.committed;
      writer.write(this.ring, at, n);
      this.committed += n;
    }
  }

  private end(reason: RecordEndReason, cut: number, digit?: string): void {
    if (cut > this.samplesIn) cut = this.samplesIn;
    if (cut < this.committed) cut = this.committed;
    this.state = RecorderState.Finishing;
    const opening = this.opening!;
    void this.finish(opening, reason, cut, digit);
  }

  private async finish(opening: Promise<WavWriter>, reason: RecordEndReason, cut: number, digit?: string): Promise<void> {
    let writer: WavWriter;
    try {
      writer = await opening;
    } catch {
      return; // fail() has rejected already
    }
    this.writer = writer;
    this.commit(cut);
    try {
      await writer.close();
    } catch (err) {
      this.fail(err);
      return;
    }
    const durationMs = writer.samplesWritten / SAMPLES_PER_MS;
    const outcome: RecordOutcome = { reason, durationMs, path: this.path, tooShort: durationMs < this.minMs };
    if (digit !== undefined) outcome.digit = digit;
    const resolve = this.resolve;
    this.settled();
    resolve?.(outcome);
  }

  private fail(err: unknown): void {
    const reject = this.reject;
    const writer = this.writer;
    this.settled();
    if (writer !== undefined) void writer.close().catch(() => undefined);
    reject?.(err);
  }

  private settled(): void {
    this.resolve = undefined;
    this.reject = undefined;
    this.opening = undefined;
    this.writer = undefined;
    this.state = this.closeAfterFinish ? RecorderState.Closed : RecorderState.Idle;
  }
}
