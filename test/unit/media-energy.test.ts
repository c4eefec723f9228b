/**
 * Energy-based silence detection (RMS dBFS with threshold and hangover) used to end recordings.
 *
 * Covers: rmsDbfs reference levels (full-scale square 0 dBFS, full-scale sine -3 dBFS, -40 dBFS sine,
 * digital silence at the floor, offsets), the waiting/speech/silence states, the hangover that keeps short
 * pauses inside speech, silenceMs counting from the last loud frame across varying frame sizes, the
 * configurable threshold, the speech end position, reset, and the speech fixture's level.
 * Does not cover: trimming the file, DTMF (goertzel), what the recorder does on timeout.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SILENCE_FLOOR_DBFS, SilenceDetector, SilenceState, rmsDbfs } from '../../src/media/energy.js';
import { ULAW_TO_LINEAR } from '../../src/media/g711.js';

function sine(dbfs: number, samples: number, hz = 1000): Int16Array {
  // A sine of peak A has RMS A/sqrt(2): its level is 20 log10(A / sqrt(2) / 32768).
  const peak = 32768 * Math.SQRT2 * Math.pow(10, dbfs / 20);
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) out[i] = Math.round(Math.min(32767, peak * Math.sin((2 * Math.PI * hz * i) / 8000)));
  return out;
}

describe('rmsDbfs', () => {
  it('puts a full-scale square wave at 0 dBFS and a full-scale sine at -3 dBFS', () => {
    const square = new Int16Array(160).map((_, i) => (i % 2 === 0 ? 32767 : -32768));
    expect(rmsDbfs(square)).toBeCloseTo(0, 1);
    const fullSine = new Int16Array(160).map((_, i) => Math.round(32767 * Math.sin((2 * Math.PI * i) / 16)));
    expect(rmsDbfs(fullSine)).toBeCloseTo(-3.01, 1);
  });

  it('measures a -40 dBFS sine as -40 dBFS', () => {
    expect(rmsDbfs(sine(-40, 160))).toBeCloseTo(-40, 0);
  });

  it('reports digital silence and an empty range at the floor', () => {
    expect(rmsDbfs(new Int16Array(160))).toBe(SILENCE_FLOOR_DBFS);
    expect(rmsDbfs(new Int16Array(0))).toBe(SILENCE_FLOOR_DBFS);
  });

  it('measures only the given range', () => {
    const frame = new Int16Array(320);
    frame.set(sine(-20, 160), 160);
    expect(rmsDbfs(frame, 0, 160)).toBe(SILENCE_FLOOR_DBFS);
    expect(rmsDbfs(frame, 160, 160)).toBeCloseTo(-20, 0);
  });
});

describe('SilenceDetector', () => {
  const quiet = new Int16Array(160); // 20 ms of digital silence
  const loud = sine(-20, 160);

  it('waits until something loud is heard, counting the time as silence', () => {
    const d = new SilenceDetector();
    for (let i = 0; i < 10; i++) d.process(quiet);
    expect(d.state).toBe(SilenceState.Waiting);
    expect(d.silenceMs).toBe(200);
  });

  it('stays in speech through pauses shorter than the hangover', () => {
    const d = new SilenceDetector({ hangoverMs: 300 });
    d.process(loud);
    for (let i = 0; i < 14; i++) expect(d.process(quiet)).toBe(SilenceState.Speech); // 280 ms
    expect(d.silenceMs).toBe(280);
    d.process(loud);
    expect(d.silenceMs).toBe(0);
    expect(d.state).toBe(SilenceState.Speech);
  });

  it('turns to silence after the hangover and counts silenceMs from the last loud frame', () => {
    const d = new SilenceDetector({ hangoverMs: 300 });
    d.process(loud);
    for (let i = 0; i < 16; i++) d.process(quiet); // 320 ms
    expect(d.state).toBe(SilenceState.Silence);
    expect(d.silenceMs).toBe(320);
    for (let i = 0; i < 150; i++) d.process(quiet);
    expect(d.silenceMs).toBe(3320); // "end after 3 s of silence" has fired by now
  });

  it('counts time by samples whatever the frame size', () => {
    const d = new SilenceDetector();
    d.process(loud);
    d.process(new Int16Array(240)); // 30 ms
    d.process(new Int16Array(80)); // 10 ms
    expect(d.silenceMs).toBe(40);
    expect(d.speechEndSample).toBe(160);
  });

  it('classifies by the configured threshold', () => {
    const soft = sine(-50, 160);
    expect(new SilenceDetector({ thresholdDbfs: -45 }).process(soft)).toBe(SilenceState.Waiting);
    expect(new SilenceDetector({ thresholdDbfs: -55 }).process(soft)).toBe(SilenceState.Speech);
  });

  it('starts over on reset()', () => {
    const d = new SilenceDetector();
    d.process(loud);
    d.process(quiet);
    d.reset();
    expect(d.state).toBe(SilenceState.Waiting);
    expect(d.silenceMs).toBe(0);
    expect(d.samples).toBe(0);
  });

  it('hears the recorded speech fixture as speech and its trailing padding as silence', () => {
    const raw = readFileSync(new URL('../fixtures/audio/speech-8k-ulaw.raw', import.meta.url));
    const pcm = new Int16Array(raw.length + 8000); // + 1 s of silence
    for (let i = 0; i < raw.length; i++) pcm[i] = ULAW_TO_LINEAR[raw[i]!]!;
    const d = new SilenceDetector();
    let speechFrames = 0;
    for (let at = 0; at + 160 <= raw.length; at += 160) if (d.process(pcm, at, 160) === SilenceState.Speech) speechFrames++;
    expect(speechFrames).toBeGreaterThan((raw.length / 160) * 0.5);
    for (let at = raw.length; at + 160 <= pcm.length; at += 160) d.process(pcm, at, 160);
    expect(d.state).toBe(SilenceState.Silence);
    expect(d.silenceMs).toBeGreaterThanOrEqual(1000);
  });
});
