/**
 * Recorder (the caller's audio to a PCM16 WAV, ended by a key, silence, max length, hang-up or stop) with real
 * files in a temporary folder.
 *
 * Covers: a '#' found in-band by the real DtmfToneDetector ends the recording and the file ends where the tone
 * began (no key detectable in the file); a key without a start sample cuts digitTrimMs; keys not in
 * endOnDigits are ignored; the silence timeout ends it keeping silenceTailMs after the speech, while pauses
 * shorter than the timeout are kept; max length cuts at exactly maxMs; hang-up and stop() keep everything;
 * the file's duration equals what was fed (odd chunk sizes) and its samples are the fed samples; audio pushed
 * while the file is still opening is kept; minMs sets tooShort; a second start() is refused; what is on disk
 * while recording trails what was pushed by at most WAV_CRASH_LOSS_MS (nothing is held back for trimming), and
 * a key or the silence timeout cuts audio that had already reached the disk.
 * Does not cover: RTP reordering (media-receive-buffer.test.ts), a killed process (media-wav.test.ts covers
 * WavWriter's header updates; test/integration/crash-sweep.test.ts a real crash), I/O errors.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DtmfToneDetector } from '../../src/media/dtmf/goertzel.js';
import { SilenceDetector } from '../../src/media/energy.js';
import { LINEAR_TO_ULAW, ULAW_TO_LINEAR } from '../../src/media/g711.js';
import { Recorder, RecorderState } from '../../src/media/recorder.js';
import { recordingDisk } from '../../src/media/disk-thread.js';
import { WAV_CRASH_LOSS_MS, parseWavHeader, readWavFile } from '../../src/media/wav.js';
import { readFile } from 'node:fs/promises';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmpilot-recorder-'));
  // As the server does at start: the disk thread is running before the first recording (the tests time writes).
  await recordingDisk().ready();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const figures: string[] = [];
afterAll(() => {
  process.stdout.write(`recorder figures:\n  ${figures.join('\n  ')}\n`);
});

let fileNo = 0;
const nextPath = (): string => join(dir, `rec-${++fileNo}.wav`);
const opened = (): Promise<void> => new Promise((r) => setTimeout(r, 30));

/** Deterministic speech-like audio: noise at about -25 dBFS with a 4 Hz syllable envelope, G.711-quantized. */
function speech(ms: number, seed = 1): Int16Array {
  const out = new Int16Array(ms * 8);
  let s = seed;
  let prev = 0;
  for (let t = 0; t < out.length; t++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const white = s / 0x3fffffff - 1;
    prev = 0.6 * prev + white; // a little low-pass: voice is not white
    const envelope = 0.55 + 0.45 * Math.sin((2 * Math.PI * 4 * t) / 8000);
    out[t] = ULAW_TO_LINEAR[LINEAR_TO_ULAW[Math.round(2500 * envelope * prev) & 0xffff]!]!;
  }
  return out;
}

/** The '#' key: 941 Hz + 1477 Hz at -7 / -5 dBm0, G.711-quantized. */
function poundTone(ms: number): Int16Array {
  const peak = 32768 / Math.pow(10, 3.14 / 20);
  const out = new Int16Array(ms * 8);
  for (let t = 0; t < out.length; t++) {
    const x = peak * (Math.pow(10, -7 / 20) * Math.sin((2 * Math.PI * 941 * t) / 8000) +
      Math.pow(10, -5 / 20) * Math.sin((2 * Math.PI * 1477 * t) / 8000));
    out[t] = ULAW_TO_LINEAR[LINEAR_TO_ULAW[Math.round(x) & 0xffff]!]!;
  }
  return out;
}

function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Feeds `audio` the way ReceiveBuffer does: a reused chunk array, `chunk` samples at a time. */
function feed(sink: (samples: Int16Array, count: number) => void, audio: Int16Array, chunk = 160,
  each?: (chunkSamples: Int16Array, count: number) => void): void {
  const buf = new Int16Array(chunk);
  for (let at = 0; at < audio.length; at += chunk) {
    const n = Math.min(chunk, audio.length - at);
    buf.set(audio.subarray(at, at + n));
    each?.(buf, n);
    sink(buf, n);
    buf.fill(0x7777); // the sink must have copied
  }
}

describe('Recorder: a terminating key', () => {
  it("'#' MUST end the recording and the file MUST end where the tone began", async () => {
    const rec = new Recorder();
    const path = nextPath();
    const done = rec.start(path, { maxMs: 60_000, endOnDigits: '#' });
    await opened();
    const said = speech(2000);
    const audio = concat(said, poundTone(150), speech(500, 7));
    let reportedAt = -1;
    const detector = new DtmfToneDetector((key, startSample) => {
      reportedAt = startSample;
      rec.digit(key, startSample); // the call: one timeline, both started together
    });
    feed(rec.pushSamples, audio, 160, (chunk, n) => detector.process(chunk, 0, n));
    const outcome = await done;
    expect(outcome).toMatchObject({ reason: 'digit', digit: '#', path, tooShort: false });
    expect(Math.abs(reportedAt - 16000)).toBeLessThanOrEqual(160);
    expect(Math.abs(outcome.durationMs - 2000)).toBeLessThanOrEqual(20);
    const wav = await readWavFile(path);
    expect(wav.samples.length / 8).toBe(outcome.durationMs);
    const keys: string[] = [];
    const check = new DtmfToneDetector((key) => keys.push(key));
    check.process(wav.samples);
    expect(keys).toEqual([]); // no part of the tone that a detector could hear
    expect(wav.samples.length).toBeLessThanOrEqual(said.length); // ends before the tone's first sample
    expect(wav.samples).toEqual(said.subarray(0, wav.samples.length));
    figures.push(`digit: tone at 16000, reported at ${reportedAt}, file ${wav.samples.length} samples (${outcome.durationMs} ms)`);
  });

  it('a key reported without its start sample MUST cut digitTrimMs before the report', async () => {
    const rec = new Recorder();
    const done = rec.start(nextPath(), { maxMs: 60_000, digitTrimMs: 100 });
    await opened();
    feed(rec.pushSamples, speech(1000));
    expect(rec.digit('#')).toBe(true); // e.g. SIP INFO: no start sample
    expect((await done).durationMs).toBe(900);
  });

  it('a key not in endOnDigits MUST NOT end the recording', async () => {
    const rec = new Recorder();
    const done = rec.start(nextPath(), { maxMs: 60_000, endOnDigits: '#*' });
    await opened();
    feed(rec.pushSamples, speech(400));
    expect(rec.digit('5', 0)).toBe(false);
    expect(rec.state).toBe(RecorderState.Recording);
    expect(rec.digit('*', 1600)).toBe(true);
    expect(await done).toMatchObject({ reason: 'digit', digit: '*', durationMs: 180 }); // less the 20 ms guard
  });
});

describe('Recorder: the silence timeout', () => {
  it('MUST end after silenceMs of silence and keep only silenceTailMs of it', async () => {
    const rec = new Recorder();
    const path = nextPath();
    const done = rec.start(path, { maxMs: 60_000, silenceMs: 2000, silenceTailMs: 500 });
    await opened();
    feed(rec.pushSamples, concat(speech(1500), new Int16Array(8 * 4000)));
    const outcome = await done;
    expect(outcome.reason).toBe('silence');
    figures.push(`silence: 1500 ms speech + silence, silenceMs 2000, tail 500 -> ${outcome.durationMs} ms`);
    expect(Math.abs(outcome.durationMs - 2000)).toBeLessThanOrEqual(20);
    expect((await readWavFile(path)).samples.length / 8).toBe(outcome.durationMs);
  });

  it('MUST keep pauses shorter than the timeout inside the message', async () => {
    const rec = new Recorder();
    const path = nextPath();
    const done = rec.start(path, { maxMs: 60_000, silenceMs: 2000, silenceTailMs: 300 });
    await opened();
    const message = concat(speech(1000), new Int16Array(8 * 1500), speech(1000, 3));
    feed(rec.pushSamples, concat(message, new Int16Array(8 * 2500)));
    const outcome = await done;
    expect(outcome.reason).toBe('silence');
    figures.push(`pause kept: 1000 + 1500 pause + 1000, tail 300 -> ${outcome.durationMs} ms`);
    expect(Math.abs(outcome.durationMs - 3800)).toBeLessThanOrEqual(20);
    const wav = await readWavFile(path);
    expect(wav.samples.subarray(0, message.length)).toEqual(message);
  });

  it('MUST end a recording in which nothing is said, keeping only the tail', async () => {
    const rec = new Recorder();
    const done = rec.start(nextPath(), { maxMs: 60_000, silenceMs: 3000, silenceTailMs: 500, minMs: 1000 });
    await opened();
    feed(rec.pushSamples, new Int16Array(8 * 5000));
    expect(await done).toMatchObject({ reason: 'silence', durationMs: 500, tooShort: true });
  });

  it('with silenceMs 0 (the default) MUST neither end on silence nor measure the audio at all', async () => {
    const measured = vi.spyOn(SilenceDetector.prototype, 'process');
    try {
      const rec = new Recorder();
      const path = nextPath();
      const done = rec.start(path, { maxMs: 60_000 });
      await opened();
      const audio = concat(speech(500), new Int16Array(8 * 5000));
      feed(rec.pushSamples, audio);
      expect(rec.state).toBe(RecorderState.Recording);
      rec.hangup();
      expect(await done).toMatchObject({ reason: 'hangup', durationMs: 5500 });
      expect((await readWavFile(path)).samples).toEqual(audio);
      expect(measured).not.toHaveBeenCalled();
    } finally {
      measured.mockRestore();
    }
  });
});

describe('Recorder: max length, hang-up, stop', () => {
  it('MUST end at exactly maxMs with the first maxMs of audio', async () => {
    const rec = new Recorder();
    const path = nextPath();
    const done = rec.start(path, { maxMs: 1000 });
    await opened();
    const audio = speech(1500);
    feed(rec.pushSamples, audio, 480);
    const outcome = await done;
    expect(outcome).toMatchObject({ reason: 'max', durationMs: 1000 });
    expect((await readWavFile(path)).samples).toEqual(audio.subarray(0, 8000));
  });

  it('a hang-up MUST keep everything received, as long as it was fed (odd chunk sizes)', async () => {
    const rec = new Recorder();
    const path = nextPath();
    const done = rec.start(path, { maxMs: 60_000, silenceMs: 5000 });
    await opened();
    const audio = concat(speech(1234), new Int16Array(8 * 300));
    feed(rec.pushSamples, audio, 37);
    rec.hangup();
    const outcome = await done;
    expect(outcome.reason).toBe('hangup');
    expect(outcome.durationMs).toBe(1534);
    expect((await readWavFile(path)).samples).toEqual(audio);
  });

  it('stop() MUST keep everything received; audio pushed while the file opens is kept', async () => {
    const rec = new Recorder();
    const path = nextPath();
    const done = rec.start(path, { maxMs: 60_000 });
    const early = speech(300, 5);
    feed(rec.pushSamples, early); // before WavWriter.open has resolved
    await opened();
    const late = speech(700, 9);
    feed(rec.pushSamples, late, 480);
    rec.stop();
    const outcome = await done;
    expect(outcome).toMatchObject({ reason: 'stopped', durationMs: 1000 });
    expect((await readWavFile(path)).samples).toEqual(concat(early, late));
  });

  it('a second start() while recording MUST be refused; after the end a new one MUST work', async () => {
    const rec = new Recorder();
    const first = rec.start(nextPath(), { maxMs: 100 });
    await expect(rec.start(nextPath(), { maxMs: 100 })).rejects.toMatchObject({ name: 'InvalidStateError' });
    await opened();
    feed(rec.pushSamples, speech(200));
    expect((await first).reason).toBe('max');
    const second = rec.start(nextPath(), { maxMs: 100 });
    await opened();
    feed(rec.pushSamples, speech(200));
    expect(await second).toMatchObject({ reason: 'max', durationMs: 100 });
  });
});

describe('Recorder: what a killed process leaves', () => {
  /** Samples the file's header counts right now (what a crash would leave). */
  const onDisk = async (path: string): Promise<number> => parseWavHeader(await readFile(path)).dataBytes / 2;

  it('the file on disk MUST trail what was pushed by at most WAV_CRASH_LOSS_MS, keys and silence timeout armed', async () => {
    const rec = new Recorder();
    const path = nextPath();
    const done = rec.start(path, { maxMs: 60_000, silenceMs: 5000, endOnDigits: '#' });
    await opened();
    // 1.2 s said, then 1 s of quiet (not yet the silence timeout): all of it belongs to the message so far.
    feed(rec.pushSamples, concat(speech(1200), new Int16Array(8 * 1000)));
    await new Promise((r) => setTimeout(r, 100)); // the writes in flight land
    const disk = await onDisk(path);
    figures.push(`on disk after 2200 ms pushed: ${disk / 8} ms (bound: ${2200 - WAV_CRASH_LOSS_MS} ms)`);
    expect(disk).toBeGreaterThanOrEqual((2200 - WAV_CRASH_LOSS_MS) * 8);
    rec.hangup();
    expect((await done).durationMs).toBe(2200);
  });

  it("a '#' reported after its audio reached the disk MUST still cut the file where the tone began", async () => {
    const rec = new Recorder();
    const path = nextPath();
    const done = rec.start(path, { maxMs: 60_000, endOnDigits: '#' });
    await opened();
    const said = speech(1500);
    feed(rec.pushSamples, concat(said, poundTone(1000)));
    await new Promise((r) => setTimeout(r, 100));
    expect(await onDisk(path)).toBeGreaterThan(said.length); // the tone is on disk
    expect(rec.digit('#', said.length, true)).toBe(true);
    expect(await done).toMatchObject({ reason: 'digit', durationMs: 1500 });
    expect((await readWavFile(path)).samples).toEqual(said);
  });
});
