/**
 * One call's message recorder: takes the caller's decoded audio (the ReceiveBuffer's PCM16 sink) and writes it
 * to a mono 16-bit 8 kHz PCM WAV (WavWriter: asynchronous writes, header kept current), ending on a terminating
 * key, on a silence timeout, at the maximum length, on hang-up, or on stop().
 *
 * Everything is written as it arrives, and the end is trimmed by cutting the file (WavWriter.close(length)):
 * nothing is held back from the disk, so a killed process loses only what WavWriter had not yet written
 * (WAV_CRASH_LOSS_MS: 1 s of a long message, 0.5 s in its first 2 s) and its file is as long as the recording was, less that: the repair at start-up
 * can judge it by the deposit's own minimum length (issue 9 item 10: holding 500 ms for keys on top of 1 s of
 * buffering lost whole short messages).
 * - Keys: when a terminating key is reported with the sample where its tone began (the Goertzel detector's
 *   startSample; an RFC 4733 event's timestamp), the file is cut there, less a guard of `digitGuardMs`
 *   (default 20 ms), so no part of the tone is kept. The guard is there because the Goertzel detector's start
 *   sample is the first 102-sample block it counted as a hit: the block before it is usually partly tone
 *   (measured: 14 samples of a '#' got through without the guard). Without a start sample the last
 *   `digitTrimMs` (default 80 ms) before the report is cut.
 * - Silence: when the silence timeout ends the recording, the file ends `silenceTailMs` (default 500 ms) after
 *   the last loud frame; pauses inside the message are kept.
 * - Max length, hang-up and stop() keep everything received (hang-up keeps the message), cut at exactly maxMs.
 *
 * Durations are counted in samples, so durationMs is exactly what the file holds. Silence is judged per 20 ms
 * frame by SilenceDetector (energy.ts). No timers: when RTP stops altogether the call keeps the timeline going
 * with ReceiveBuffer.padTo() from its tick, or silence and max never end the recording.
 *
 * pushSamples allocates nothing: samples are copied into WavWriter's buffers (and, with silenceMs, a 20 ms frame for the
 * silence detector); the file I/O is WavWriter's, done by the recordings' disk thread (disk-thread.ts).
 *
 * Not here: detecting keys (dtmf/), the beep before recording (player), where the recording starts on the
 * caller's timeline (session.ts, receive-buffer.ts), deciding what a too-short message means (the outcome says
 * `tooShort`; the app decides whether to keep it).
 */
import { SilenceDetector } from './energy.js';
import { WavWriter, type WavWriterOptions } from './wav.js';
import { recordingDisk } from './disk-thread.js';

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
  /** Audio cut before a key reported without a start sample, ms. Default 80. */
  digitTrimMs?: number;
  /** Audio cut before a key's reported start sample as well, ms. Default 20 (see the module comment). */
  digitGuardMs?: number;
  /** WavWriter flush interval, ms. Default WAV_FLUSH_MS (500; 250 for the first 2 s). */
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

  private detector = new SilenceDetector();
  private detectorThreshold = -45;
  /** The 20 ms frame being gathered for the silence detector (pushes come in any size). */
  private readonly frame = new Int16Array(FRAME);
  private frameFill = 0;
  private closeAfterFinish = false;
  private writer: WavWriter | undefined = undefined;
  private path = '';

  private maxSamples = 0;
  private silenceSamples = 0;
  private tailSamples = 0;
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
      this.trimSamples = ms(options.digitTrimMs, 80, 'digitTrimMs');
      this.guardSamples = ms(options.digitGuardMs, 20, 'digitGuardMs');
      this.minMs = options.minMs ?? 0;
      this.endOnDigits = options.endOnDigits ?? '#';
      this.threshold = options.silenceThresholdDbfs ?? -45;
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
    this.frameFill = 0;
    this.path = path;
    this.state = RecorderState.Recording;
    const outcome = new Promise<RecordOutcome>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // The writer opens the file in the background and buffers meanwhile: audio from the first sample is kept.
    // Opened and written by the disk thread: no fs request per write on the loop that paces RTP.
    const writerOptions: WavWriterOptions = { onError: (err) => this.fail(writer, err), io: recordingDisk() };
    if (options.flushMs !== undefined) writerOptions.flushMs = options.flushMs;
    const writer = new WavWriter(path, writerOptions);
    this.writer = writer;
    return outcome;
  }

  /** The ReceiveBuffer sink: appends the caller's audio. Bound; never throws; ignored unless recording. */
  readonly pushSamples = (samples: Int16Array, count: number): void => {
    if (this.state !== RecorderState.Recording) return;
    const room = this.maxSamples - this.samplesIn;
    if (count > room) count = room;
    this.writer!.write(samples, 0, count);
    if (this.silenceSamples === 0) {
      // Nothing ends this recording on silence: no 20 ms frames to gather and measure (a copy and an RMS per
      // packet that nothing would read).
      this.samplesIn += count;
      if (this.samplesIn >= this.maxSamples) this.end('max', this.samplesIn);
      return;
    }
    const frame = this.frame;
    for (let offset = 0; offset < count; ) {
      let n = FRAME - this.frameFill;
      if (n > count - offset) n = count - offset;
      for (let i = 0; i < n; i++) frame[this.frameFill + i] = samples[offset + i]!;
      this.frameFill += n;
      this.samplesIn += n;
      offset += n;
      if (this.frameFill === FRAME) {
        this.frameFill = 0;
        this.detector.process(frame, 0, FRAME);
        if (this.silenceSamples > 0 && this.detector.silenceMs * SAMPLES_PER_MS >= this.silenceSamples) {
          this.end('silence', this.detector.speechEndSample + this.tailSamples);
          return;
        }
      }
    }
    if (this.samplesIn >= this.maxSamples) this.end('max', this.samplesIn);
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

  private end(reason: RecordEndReason, cut: number, digit?: string): void {
    if (cut > this.samplesIn) cut = this.samplesIn;
    if (cut < 0) cut = 0;
    this.state = RecorderState.Finishing;
    void this.finish(this.writer!, reason, cut, digit);
  }

  private async finish(writer: WavWriter, reason: RecordEndReason, cut: number, digit?: string): Promise<void> {
    try {
      await writer.close(cut);
    } catch (err) {
      this.fail(writer, err);
      return;
    }
    if (this.writer !== writer) return; // fail() settled it already
    const durationMs = writer.samplesWritten / SAMPLES_PER_MS;
    const outcome: RecordOutcome = { reason, durationMs, path: this.path, tooShort: durationMs < this.minMs };
    if (digit !== undefined) outcome.digit = digit;
    const resolve = this.resolve;
    this.settled();
    resolve?.(outcome);
  }

  /** The recording's file failed: the outcome rejects with the error (once; the writer is closed). */
  private fail(writer: WavWriter, err: unknown): void {
    if (this.writer !== writer) return;
    const reject = this.reject;
    this.settled();
    void writer.close().catch(() => undefined);
    reject?.(err);
  }

  private settled(): void {
    this.resolve = undefined;
    this.reject = undefined;
    this.writer = undefined;
    this.state = this.closeAfterFinish ? RecorderState.Closed : RecorderState.Idle;
  }
}
