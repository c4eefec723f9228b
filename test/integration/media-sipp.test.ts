/**
 * The media engine through the Call API, against the real server with SIPp as the PBX (UDP), one call per
 * test, each driven by a scripted app (the test server's `apps` hook, route 'voicemail', number 8000).
 *
 * Covers:
 * - recording: the caller's audio (tones-3s) is in the WAV, each tone in its place, ended by an RFC 4733 '#'
 *   that leaves nothing of itself and nothing after the caller's audio;
 * - keys from each source, each reported once: RFC 4733 events (ending on the '#' terminator), in-band tones
 *   (offer without telephone-event), SIP INFO (application/dtmf-relay and application/dtmf);
 * - talk-off: 8 s of speech and 4 s of song with in-band detection on give no key;
 * - a caller who hangs up mid-recording keeps the message when the recorder asked to (onHangup 'keep': reason
 *   'hangup', the audio in the file), and leaves nothing when it did not ('discard': rejected, file gone);
 * - the no-RTP timeout: vmpilot sends BYE about rtp.noRtpTimeoutS after the answer;
 * - the hang-up contract of the Call API: a pending play and collectDigits reject with CallEndedError at the
 *   hang-up, and so does an API call made after the end (an app that forgets a check cannot play on);
 * - after every call, its RTP ports are released and its clock subscription is gone.
 * Does not cover: what vmpilot sends (test/integration/media-probe.test.ts), SRTP, re-INVITE and hold, TCP and
 * TLS (the media path does not depend on the signalling transport), key timing inside collectDigits
 * (test/unit), A-law.
 *
 * SIPp 3.6.1 specifics the scenarios depend on are written at the top of each uac-media-*.xml. SIPp reads the
 * audio files by paths relative to the repository root: run the tests from there (npm test does).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallEndedError, type Call } from '../../src/call/call.js';
import type { DigitSource } from '../../src/media/digit-router.js';
import { runSipp, type SippResult } from '../helpers/sipp.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import {
  compareTones,
  dominantHz,
  DTMF_INBAND_KEYS,
  findTones,
  LONG_25S,
  msToSamples,
  readRecording,
  rmsDbfs,
  TONES_3S,
} from '../helpers/audio-analysis.js';

type Script<T> = (call: Call) => Promise<T>;

interface CallRun<T> {
  /** What the app returned. */
  value: T;
  call: Call;
  /** Keys as the call's 'digit' events reported them. */
  keys: { key: string; source: DigitSource }[];
  sipp: SippResult;
  /** From SIPp's start to the app's end, ms. */
  ms: number;
}

/** One server for most tests; the app of the call under test is set by `callWith`. */
let script: Script<unknown> | undefined;
let scriptDone: ((outcome: { value?: unknown; error?: unknown; call: Call }) => void) | undefined;
let keys: { key: string; source: DigitSource }[] = [];

async function startServer(rtpExtra = ''): Promise<TestServer> {
  return startTestServer('', '', {
    apps: {
      voicemail: async (call) => {
        call.on('digit', (key, source) => keys.push({ key, source }));
        const run = script;
        const done = scriptDone;
        if (!run || !done) return;
        try {
          done({ value: await run(call), call });
        } catch (error) {
          done({ error, call });
          throw error;
        }
      },
    },
  }, rtpExtra);
}

/** Runs one SIPp call whose app is `body`; fails with SIPp's output when SIPp fails. */
async function callWith<T>(ts: TestServer, scenario: string, body: Script<T>, extra: string[] = []): Promise<CallRun<T>> {
  keys = [];
  script = body;
  const outcome = new Promise<{ value?: unknown; error?: unknown; call: Call }>((resolve) => {
    scriptDone = resolve;
  });
  const started = Date.now();
  let appEnded = 0;
  void outcome.then(() => (appEnded = Date.now()));
  try {
    const sipp = await runSipp({ scenario, transport: 'udp', port: ts.port('udp'), timeoutS: 25, extra });
    if (sipp.code !== 0) throw new Error(`SIPp ${scenario} failed (exit ${sipp.code}):\n${sipp.stderr}\n${sipp.stdout.slice(-3000)}`);
    const result = await Promise.race([
      outcome,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the app of ${scenario} did not finish`)), 5000)),
    ]);
    if (result.error !== undefined) throw result.error;
    return { value: result.value as T, call: result.call, keys, sipp, ms: appEnded - started };
  } finally {
    script = undefined;
    scriptDone = undefined;
  }
}

/** The call is over and nothing of it is left: no call, no RTP port, no clock subscriber. */
async function expectReleased(ts: TestServer): Promise<void> {
  const end = Date.now() + 3000;
  const clean = (): boolean => {
    const s = ts.server.stats();
    return s.calls === 0 && s.rtpPortsInUse === 0 && s.clockSubscribers === 0;
  };
  while (!clean() && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20));
  const { calls, rtpPortsInUse, clockSubscribers } = ts.server.stats();
  expect({ calls, rtpPortsInUse, clockSubscribers }).toEqual({ calls: 0, rtpPortsInUse: 0, clockSubscribers: 0 });
}

const sources = (run: CallRun<unknown>): string[] => [...new Set(run.keys.map((k) => k.source))];

describe('media over SIPp: recording, keys and hang-up through the Call API', () => {
  let ts: TestServer;
  beforeAll(async () => {
    // SIPp opens the audio files by relative path.
    expect(existsSync('test/fixtures/audio/tones-3s.ulaw'), `run from the repository root (cwd ${process.cwd()})`).toBe(true);
    ts = await startServer();
  });
  afterAll(async () => {
    await ts.stop();
  });

  it('records the caller\'s audio up to an RFC 4733 \'#\': every tone in its place, nothing after the audio', async () => {
    const path = join(ts.dir, 'message-tones.wav');
    const run = await callWith(ts, 'uac-media-record-dtmf.xml', async (call) => {
      const outcome = await call.record({ path, maxMs: 20_000, silenceMs: 0, beep: false, onHangup: 'keep' });
      await call.hangup();
      return outcome;
    });
    expect(run.value).toMatchObject({ reason: 'digit', digit: '#', path });
    const { samples, durationMs } = await readRecording(path);
    expect(durationMs).toBe(run.value.durationMs);
    const found = findTones(samples);
    const { offsetMs, problems } = compareTones(found, TONES_3S, { ms: 20 });
    expect(problems).toEqual([]);
    // The recording starts before the stream does: offsetMs is that lead. What follows it is the stream's
    // 3000 ms, less at most the recorder's 20 ms guard before a key.
    expect(Math.abs(durationMs - offsetMs - 3000)).toBeLessThanOrEqual(20);
    // Nothing of the '#' or of the wait for it: past the last tone the file is quiet, and its last 100 ms is
    // the last tone.
    const last = found[found.length - 1]!;
    const afterLast = msToSamples(last.endMs);
    if (afterLast < samples.length) expect(rmsDbfs(samples, afterLast, samples.length - afterLast)).toBeLessThan(-40);
    expect(Math.abs(dominantHz(samples, samples.length - msToSamples(100)) - 1600)).toBeLessThan(25);
    expect(run.keys).toEqual([{ key: '#', source: 'rfc4733' }]);
    await expectReleased(ts);
  });

  it('collects RFC 4733 keys 1234567890* ending on the \'#\' terminator, each key reported once', async () => {
    const run = await callWith(ts, 'uac-media-rfc4733-keys.xml', async (call) => {
      const result = await call.collectDigits({ max: 20, terminators: '#', timeoutMs: 8000, interDigitMs: 3000 });
      await call.hangup();
      return result;
    });
    expect(run.value).toEqual({ digits: '1234567890*', reason: 'terminator', terminator: '#' });
    expect(run.keys.map((k) => k.key).join('')).toBe('1234567890*#');
    expect(sources(run)).toEqual(['rfc4733']);
    await expectReleased(ts);
  });

  it('detects in-band keys 1234567890*# when the offer has no telephone-event, each key once', async () => {
    const run = await callWith(ts, 'uac-media-inband-keys.xml', async (call) => {
      const result = await call.collectDigits({ max: 12, terminators: '', timeoutMs: 5000, interDigitMs: 3000 });
      await call.hangup();
      return result;
    });
    expect(run.value).toEqual({ digits: DTMF_INBAND_KEYS, reason: 'max' });
    expect(run.keys.map((k) => k.key).join('')).toBe(DTMF_INBAND_KEYS);
    expect(sources(run)).toEqual(['inband']);
    await expectReleased(ts);
  });

  it('takes no key from 8 s of speech and 4 s of song with in-band detection on (talk-off)', async () => {
    const run = await callWith(ts, 'uac-media-talk-off.xml', async (call) => {
      const speech = await call.collectDigits({ max: 1, timeoutMs: 9000 });
      // The song: from 8 s to 12 s (plus the stream's start delay).
      const song = await call.collectDigits({ max: 1, timeoutMs: 4300 });
      const media = call.mediaStats() as { received: { accepted: number } };
      await call.hangup();
      return { speech, song, accepted: media.received.accepted };
    });
    expect(run.value.speech).toEqual({ digits: '', reason: 'timeout' });
    expect(run.value.song).toEqual({ digits: '', reason: 'timeout' });
    expect(run.keys).toEqual([]);
    // The audio did arrive (12 s = 600 packets): no key because none was heard, not because nothing was.
    expect(run.value.accepted).toBeGreaterThanOrEqual(590);
    await expectReleased(ts);
  });

  it('takes keys from SIP INFO: application/dtmf-relay Signal=5, then application/dtmf 7', async () => {
    const run = await callWith(ts, 'uac-media-info-keys.xml', async (call) => {
      const result = await call.collectDigits({ max: 2, timeoutMs: 5000 });
      await call.hangup();
      return result;
    });
    expect(run.value).toEqual({ digits: '57', reason: 'max' });
    expect(run.keys).toEqual([{ key: '5', source: 'info' }, { key: '7', source: 'info' }]);
    await expectReleased(ts);
  });

  it('keeps the message when the caller hangs up mid-recording (onHangup keep): reason \'hangup\', the audio in the file', async () => {
    const path = join(ts.dir, 'message-hangup.wav');
    const run = await callWith(ts, 'uac-media-caller-bye.xml', async (call) => {
      return call.record({ path, maxMs: 20_000, silenceMs: 0, beep: false, onHangup: 'keep' });
    }, ['-d', '2500']);
    expect(run.value).toMatchObject({ reason: 'hangup', path });
    expect(run.call.endReason).toBe('remote-bye');
    expect(existsSync(path)).toBe(true);
    const { samples, durationMs } = await readRecording(path);
    expect(durationMs).toBe(run.value.durationMs);
    expect(durationMs).toBeGreaterThanOrEqual(2000);
    // long-25s: 440 Hz for the stream's first second, silent for the next.
    const first = findTones(samples)[0];
    expect(first?.hz).toBeCloseTo(LONG_25S.hz, -1);
    expect(first!.endMs - first!.startMs).toBeGreaterThanOrEqual(980);
    await expectReleased(ts);
  });

  it('deletes the file and rejects with CallEndedError when the caller hangs up mid-recording (onHangup discard)', async () => {
    const path = join(ts.dir, 'greeting-hangup.wav');
    const run = await callWith(ts, 'uac-media-caller-bye.xml', async (call) => {
      return call.record({ path, maxMs: 20_000, silenceMs: 0, beep: false, onHangup: 'discard' }).then(
        () => 'resolved',
        (err: unknown) => err,
      );
    }, ['-d', '2500']);
    expect(run.value).toBeInstanceOf(CallEndedError);
    expect(existsSync(path)).toBe(false);
    await expectReleased(ts);
  });

  it('rejects a pending play and collectDigits with CallEndedError when the caller hangs up, and every later call too', async () => {
    const run = await callWith(ts, 'uac-media-caller-bye.xml', async (call) => {
      const failed = (p: Promise<unknown>): Promise<unknown> => p.then((v) => ({ settled: v }), (err: unknown) => err);
      const collect = failed(call.collectDigits({ max: 4, timeoutMs: 10_000 }));
      const play = failed(call.play([{ tone: 'ringback', ms: 10_000 }], { bargeIn: false }));
      const [played, collected] = await Promise.all([play, collect]);
      return { played, collected };
    }, ['-d', '1000']);
    expect(run.value.played).toBeInstanceOf(CallEndedError);
    expect(run.value.collected).toBeInstanceOf(CallEndedError);
    expect((run.value.played as CallEndedError).reason).toBe('remote-bye');
    // Failed at the hang-up about 1 s in, not by the 10 s play or timeout.
    expect(run.ms).toBeLessThan(5000);
    const { call } = run;
    expect(call.ended).toBe(true);
    await expect(call.play([{ silenceMs: 100 }])).rejects.toBeInstanceOf(CallEndedError);
    await expect(call.collectDigits({ max: 1 })).rejects.toBeInstanceOf(CallEndedError);
    await expect(call.record({ path: join(ts.dir, 'too-late.wav'), beep: false, onHangup: 'keep' })).rejects.toBeInstanceOf(CallEndedError);
    await expect(call.transfer('2001')).rejects.toBeInstanceOf(CallEndedError);
    await expect(call.hangup()).resolves.toBeUndefined();
    await expectReleased(ts);
  });

  it('stops an app that forgets to check: its next play after a hang-up rejects, and nothing more is sent', async () => {
    const run = await callWith(ts, 'uac-media-caller-bye.xml', async (call) => {
      // A flow written without a single check: play, then play again, as if the caller were still there.
      const steps: string[] = [];
      try {
        await call.play([{ tone: 'ringback', ms: 10_000 }], { bargeIn: false });
        steps.push('first play returned');
        await call.play([{ tone: 'ringback', ms: 10_000 }], { bargeIn: false });
        steps.push('second play returned');
      } catch (err) {
        return { steps, err };
      }
      return { steps, err: undefined };
    }, ['-d', '1000']);
    expect(run.value.steps).toEqual([]);
    expect(run.value.err).toBeInstanceOf(CallEndedError);
    expect(run.ms).toBeLessThan(5000);
    await expectReleased(ts);
  });
});
