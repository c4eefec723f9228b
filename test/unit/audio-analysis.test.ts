/**
 * The test helpers that judge audio (test/helpers/audio-analysis.ts) and RTP (test/helpers/rtp-probe.ts),
 * checked against the fixtures of test/fixtures/audio, which this also checks are what their README says.
 *
 * Covers: u-law decoding; reading an 8 kHz PCM16 WAV and refusing another rate; dominantHz accuracy over
 * 300-3400 Hz; findTones on tones-3s (.ulaw and .wav) against TONES_3S, also shifted off the 20 ms frame
 * grid, with the level of each tone; long-25s and melody-4s schedules; dtmf-inband decoding to its keys
 * with vmpilot's own in-band detector, and no key detected in speech-8s or melody-4s; compareTones with a
 * time shift, a missing tone and a wrong frequency; the RTP probe's even port, recording, stats and
 * buildRtp, by sending to itself.
 * Does not cover: SIPp streaming the fixtures, vmpilot's recordings (integration tests), RTCP.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DtmfToneDetector } from '../../src/media/dtmf/goertzel.js';
import { linearToUlaw } from '../../src/media/g711.js';
import { buildWavHeader } from '../../src/media/wav.js';
import {
  DTMF_INBAND,
  DTMF_INBAND_KEYS,
  LONG_25S,
  MELODY_4S_HZ,
  TONES_3S,
  TONES_3S_DBFS,
  audioFixture,
  compareTones,
  dominantHz,
  findTones,
  msToSamples,
  readRecording,
  readUlawFile,
  rmsDbfs,
  ulawToPcm,
} from '../helpers/audio-analysis.js';
import { buildRtp, startRtpProbe } from '../helpers/rtp-probe.js';

function sine(hz: number, ms: number, dbfs = -12): Int16Array {
  const peak = 32768 * Math.SQRT2 * Math.pow(10, dbfs / 20);
  return Int16Array.from({ length: msToSamples(ms) }, (_, i) => Math.round(peak * Math.sin((2 * Math.PI * hz * i) / 8000 + 0.7)));
}

function keysIn(samples: Int16Array): { keys: string; atMs: number[] } {
  let keys = '';
  const atMs: number[] = [];
  const detector = new DtmfToneDetector((key, at) => {
    keys += key;
    atMs.push(at / 8);
  });
  for (let at = 0; at < samples.length; at += 160) detector.process(samples, at, Math.min(160, samples.length - at));
  return { keys, atMs };
}

describe('ulawToPcm and readRecording', () => {
  it('decodes u-law to within G.711 quantization of the encoded samples', () => {
    const pcm = sine(1000, 20, -6);
    const decoded = ulawToPcm(Uint8Array.from(pcm, (s) => linearToUlaw(s)));
    pcm.forEach((s, i) => expect(Math.abs(decoded[i]! - s)).toBeLessThanOrEqual(Math.abs(s) / 16 + 8));
  });

  it('reads an 8 kHz mono PCM16 WAV with its duration, and rejects a 16 kHz one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'audio-analysis-'));
    try {
      const samples = sine(700, 250);
      const data = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
      await writeFile(join(dir, 'a.wav'), Buffer.concat([buildWavHeader({ encoding: 'pcm16', dataBytes: data.length }), data]));
      const recording = await readRecording(join(dir, 'a.wav'));
      expect(recording.durationMs).toBe(250);
      expect(Array.from(recording.samples)).toEqual(Array.from(samples));
      await writeFile(join(dir, 'b.wav'), Buffer.concat([buildWavHeader({ encoding: 'pcm16', sampleRate: 16000, dataBytes: data.length }), data]));
      await expect(readRecording(join(dir, 'b.wav'))).rejects.toThrow(/16000 Hz/);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});

describe('dominantHz', () => {
  for (const hz of [300, 437, 1013, 1987, 2890, 3400]) {
    it(`measures a ${hz} Hz sine within 25 Hz over 400 ms and over one 20 ms frame`, () => {
      const s = sine(hz, 400);
      expect(Math.abs(dominantHz(s) - hz)).toBeLessThanOrEqual(25);
      expect(Math.abs(dominantHz(s, 800, 960) - hz)).toBeLessThanOrEqual(25);
    });
  }

  it('returns 0 for digital silence', () => {
    expect(dominantHz(new Int16Array(800))).toBe(0);
  });
});

describe('findTones on tones-3s', () => {
  it('finds the five tones of TONES_3S in the .ulaw within 20 ms and 25 Hz, at -12 dBFS', async () => {
    const samples = await readUlawFile(audioFixture('tones-3s.ulaw'));
    expect(samples.length).toBe(msToSamples(3000));
    const found = findTones(samples);
    expect(compareTones(found, TONES_3S)).toEqual({ offsetMs: 0, problems: [] });
    for (const tone of found) expect(Math.abs(tone.dbfs - TONES_3S_DBFS)).toBeLessThan(0.5);
  });

  it('finds the same schedule in the .wav twin', async () => {
    const { samples, durationMs } = await readRecording(audioFixture('tones-3s.wav'));
    expect(durationMs).toBe(3000);
    expect(compareTones(findTones(samples), TONES_3S)).toEqual({ offsetMs: 0, problems: [] });
  });

  for (const shiftMs of [7, 13]) {
    it(`finds edges within 2 ms when the audio starts ${shiftMs} ms later (off the 20 ms frame grid)`, async () => {
      const fixture = await readUlawFile(audioFixture('tones-3s.ulaw'));
      const samples = new Int16Array(fixture.length + msToSamples(shiftMs + 200));
      samples.set(fixture, msToSamples(shiftMs));
      const result = compareTones(findTones(samples), TONES_3S, { ms: 2, hz: 5 });
      expect(result).toEqual({ offsetMs: shiftMs, problems: [] });
    });
  }
});

describe('findTones on the other fixtures', () => {
  it('finds the 13 one-second 440 Hz tones of long-25s, at -20 dBFS', async () => {
    const samples = await readUlawFile(audioFixture('long-25s.ulaw'));
    expect(samples.length).toBe(msToSamples(LONG_25S.durationMs));
    const expected = Array.from({ length: 13 }, (_, i) => ({ hz: LONG_25S.hz, startMs: i * 2000, endMs: i * 2000 + LONG_25S.onMs }));
    const found = findTones(samples);
    expect(compareTones(found, expected)).toEqual({ offsetMs: 0, problems: [] });
    for (const tone of found) expect(Math.abs(tone.dbfs - LONG_25S.dbfs)).toBeLessThan(0.5);
  });

  it('finds the eight notes of melody-4s at their fundamentals despite the vibrato', async () => {
    const samples = await readUlawFile(audioFixture('melody-4s.ulaw'));
    const expected = MELODY_4S_HZ.map((hz, i) => ({ hz, startMs: i * 500, endMs: i * 500 + 500 }));
    expect(compareTones(findTones(samples), expected, { ms: 20, hz: 5 }).problems).toEqual([]);
  });

  it('finds no 300-3400 Hz tone of 100 ms or more in speech-8s', async () => {
    const samples = await readUlawFile(audioFixture('speech-8s.ulaw'));
    expect(samples.length).toBe(msToSamples(8000));
    const long = findTones(samples).filter((t) => t.hz >= 300 && t.endMs - t.startMs >= 100);
    expect(long).toEqual([]);
  });
});

describe('in-band DTMF fixtures, through vmpilot\'s DtmfToneDetector', () => {
  it('dtmf-inband holds the keys 1234567890*#, each detected within its 100 ms tone', async () => {
    const samples = await readUlawFile(audioFixture('dtmf-inband.ulaw'));
    expect(samples.length).toBe(msToSamples(DTMF_INBAND.durationMs));
    const { keys, atMs } = keysIn(samples);
    expect(keys).toBe(DTMF_INBAND_KEYS);
    atMs.forEach((at, i) => {
      const start = DTMF_INBAND.leadMs + i * (DTMF_INBAND.toneMs + DTMF_INBAND.gapMs);
      expect(at).toBeGreaterThanOrEqual(start - 13);
      expect(at).toBeLessThan(start + DTMF_INBAND.toneMs);
    });
  });

  it('each key is two tones of -10 dBm0 (-16.2 dBFS each, -13.1 dBFS together)', async () => {
    const samples = await readUlawFile(audioFixture('dtmf-inband.ulaw'));
    const first = msToSamples(DTMF_INBAND.leadMs);
    // A 0 dBm0 sine has peak -3.14 dB of full scale, so RMS -6.15 dBFS; two -10 dBm0 sines add their powers.
    expect(rmsDbfs(samples, first, msToSamples(DTMF_INBAND.toneMs))).toBeCloseTo(-13.1, 0);
  });

  for (const name of ['speech-8s.ulaw', 'melody-4s.ulaw']) {
    it(`${name} holds no DTMF key (talk-off)`, async () => {
      const samples = ulawToPcm(await readFile(audioFixture(name)));
      expect(rmsDbfs(samples)).toBeGreaterThan(-30);
      expect(keysIn(samples).keys).toBe('');
    });
  }
});

describe('compareTones', () => {
  const expected = [
    { hz: 500, startMs: 100, endMs: 300 },
    { hz: 900, startMs: 400, endMs: 600 },
  ];

  it('accepts the schedule shifted in time and reports the shift', () => {
    const found = expected.map((t) => ({ ...t, startMs: t.startMs + 1000, endMs: t.endMs + 1005 }));
    expect(compareTones(found, expected)).toEqual({ offsetMs: 1000, problems: [] });
  });

  it('reports a missing tone and a tone at the wrong frequency', () => {
    expect(compareTones([expected[0]!], expected).problems).toEqual(['missing 900 Hz 400-600 ms']);
    expect(compareTones([expected[0]!, { ...expected[1]!, hz: 950 }], expected).problems).toHaveLength(1);
  });
});

describe('RTP probe', () => {
  it('binds an even port and records what it sends itself, with seq/ts/SSRC stats', async () => {
    const probe = await startRtpProbe();
    try {
      expect(probe.port % 2).toBe(0);
      const payload = new Uint8Array(160).fill(0xff);
      // seq 1,2,4 (one gap), ts 0,160,480 (one step not 160), then a second SSRC with its marker.
      for (const [seq, ts, ssrc, marker] of [[1, 0, 7, true], [2, 160, 7, false], [4, 480, 7, false], [9, 0, 8, true]] as const) {
        await probe.send(buildRtp({ pt: 0, seq, ts, ssrc, marker, payload }), probe.port);
      }
      await probe.send(Buffer.from('not rtp'), probe.port);
      await probe.waitForPackets(4, 2000);
      const stats = probe.stats();
      expect(stats).toMatchObject({ count: 4, seqGaps: 1, tsStepsNot160: 1, ssrcs: [7, 8], markers: 2 });
      expect(probe.packets[2]).toMatchObject({ payloadType: 0, seq: 4, timestamp: 480, ssrc: 7, marker: false });
      expect(probe.packets[0]!.payload.equals(payload)).toBe(true);
      expect(probe.packets[0]!.from.port).toBe(probe.port);
      expect(probe.intervals()).toHaveLength(3);
    } finally {
      await probe.close();
    }
  });

  it('sendAudio paces 20 ms packets of 160 bytes with consecutive seq and ts', async () => {
    const [sender, receiver] = await Promise.all([startRtpProbe(), startRtpProbe()]);
    try {
      await sender.sendAudio(new Uint8Array(160 * 10).fill(0xff), receiver.port);
      await receiver.waitForPackets(10, 2000);
      const stats = receiver.stats();
      expect(stats).toMatchObject({ count: 10, seqGaps: 0, tsStepsNot160: 0, markers: 1 });
      expect(stats.p50).toBeGreaterThan(15);
      expect(stats.p50).toBeLessThan(25);
      expect(receiver.packets[0]!.from.port).toBe(sender.port);
    } finally {
      await Promise.all([sender.close(), receiver.close()]);
    }
  });
});
