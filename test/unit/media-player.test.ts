/**
 * Player (play lists to 160-byte G.711 frames pulled by the RTP sender) and tone.ts frames.
 *
 * Covers: the exact frame sequence of a prompt (views into its buffer, no copies), silence items in the
 * player's law, back-to-back items with no gap, 'done' resolving as the last frame is handed out, barge-in
 * stopping within one frame with the digit, a non-barge-in play ignoring digits, stop(), a new play replacing
 * the old, onPlayStart (which re-installs the RTP source and so sets the marker), bad items rejected, the
 * beep decoding to ~1 kHz at ~-10 dBm0 with no click at its edges, and the ringback cadence and frequencies.
 * Does not cover: a real RtpSender or clock (media-rtp-sender.test.ts), prompt encoding (prompts/).
 */
import { describe, expect, it } from 'vitest';
import { ALAW_SILENCE, ALAW_TO_LINEAR, ULAW_SILENCE, ULAW_TO_LINEAR } from '../../src/media/g711.js';
import { Player, PlayerState, type PlayOutcome } from '../../src/media/player.js';
import { BEEP_MS, beepBuffer, ringbackFrame, toneFrames } from '../../src/media/tone.js';

/** `n` frames, frame i filled with byte i + 1. */
function fakePrompt(n: number): Uint8Array {
  const buf = new Uint8Array(n * 160);
  for (let i = 0; i < n; i++) buf.fill(i + 1, i * 160, (i + 1) * 160);
  return buf;
}

/** Pulls up to `max` frames, stopping at the first undefined; returns the first byte of each. */
function pull(player: Player, max: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < max; i++) {
    const f = player.nextFrame();
    if (f === undefined) break;
    expect(f.length).toBe(160);
    out.push(f[0]!);
  }
  return out;
}

function track(p: Promise<PlayOutcome>): { outcome: PlayOutcome | undefined } {
  const box: { outcome: PlayOutcome | undefined } = { outcome: undefined };
  void p.then((o) => (box.outcome = o));
  return box;
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

function decode(bytes: Uint8Array, law: 'PCMU' | 'PCMA'): Int16Array {
  const table = law === 'PCMU' ? ULAW_TO_LINEAR : ALAW_TO_LINEAR;
  return Int16Array.from(bytes, (b) => table[b]!);
}

function zeroCrossings(x: Int16Array): number {
  let n = 0;
  for (let i = 1; i < x.length; i++) if ((x[i - 1]! < 0) !== (x[i]! < 0)) n++;
  return n;
}

function rmsDbm0(x: Int16Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  const dbm0Rms = 32768 / Math.SQRT2 / Math.pow(10, 3.14 / 20);
  return 20 * Math.log10(Math.sqrt(s / x.length) / dbm0Rms);
}

describe('Player: a play list becomes one 160-byte frame per tick', () => {
  it('MUST hand out a prompt frame by frame, in order, as views into its buffer', async () => {
    const player = new Player({ law: 'PCMU' });
    const prompt = fakePrompt(5);
    const done = track(player.play([{ frames: prompt }], { bargeIn: false }));
    const first = player.nextFrame()!;
    expect(first.buffer).toBe(prompt.buffer); // a view, not a copy
    expect(first.byteOffset).toBe(0);
    expect([first[0], ...pull(player, 10)]).toEqual([1, 2, 3, 4, 5]);
    await flush();
    expect(done.outcome).toEqual({ reason: 'done' });
    expect(player.nextFrame()).toBeUndefined();
  });

  it('MUST reuse the same views when a prompt is played again (no allocation per frame)', () => {
    const player = new Player({ law: 'PCMU' });
    const prompt = fakePrompt(3);
    void player.play([{ frames: prompt }], { bargeIn: false });
    const a = [player.nextFrame(), player.nextFrame(), player.nextFrame()];
    void player.play([{ frames: prompt }], { bargeIn: false });
    const b = [player.nextFrame(), player.nextFrame(), player.nextFrame()];
    for (let i = 0; i < 3; i++) expect(b[i]).toBe(a[i]);
  });

  it('MUST play silence items as whole frames of the law\'s silence code, with no gap between items', () => {
    const u = new Player({ law: 'PCMU' });
    void u.play([{ frames: fakePrompt(2) }, { silenceMs: 60 }, { frames: fakePrompt(1) }], { bargeIn: false });
    expect(pull(u, 20)).toEqual([1, 2, ULAW_SILENCE, ULAW_SILENCE, ULAW_SILENCE, 1]);
    const a = new Player({ law: 'PCMA' });
    void a.play([{ silenceMs: 50 }], { bargeIn: false }); // rounds to 3 frames
    const frames: Uint8Array[] = [];
    for (let f = a.nextFrame(); f !== undefined; f = a.nextFrame()) frames.push(f);
    expect(frames.length).toBe(3);
    for (const f of frames) expect(f.every((b) => b === ALAW_SILENCE)).toBe(true);
  });

  it("MUST resolve 'done' as soon as the last frame is handed out, so the next play follows without a gap", async () => {
    const player = new Player({ law: 'PCMU' });
    const done = track(player.play([{ frames: fakePrompt(2) }], { bargeIn: false }));
    player.nextFrame();
    await flush();
    expect(done.outcome).toBeUndefined();
    player.nextFrame();
    await flush();
    expect(done.outcome).toEqual({ reason: 'done' });
  });

  it("MUST resolve an empty play list 'done' at once", async () => {
    const player = new Player({ law: 'PCMU' });
    await expect(player.play([{ silenceMs: 0 }], { bargeIn: true })).resolves.toEqual({ reason: 'done' });
    expect(player.state).toBe(PlayerState.Idle);
  });
});

describe('Player: barge-in', () => {
  it('a digit MUST stop a barge-in play within one frame and resolve with the digit', async () => {
    const player = new Player({ law: 'PCMU' });
    const outcome = track(player.play([{ frames: fakePrompt(50) }], { bargeIn: true }));
    expect(pull(player, 3)).toEqual([1, 2, 3]);
    expect(player.interrupt('5')).toBe(true);
    expect(player.nextFrame()).toBeUndefined(); // the very next packet is no longer the prompt
    await flush();
    expect(outcome.outcome).toEqual({ reason: 'digit', digit: '5' });
  });

  it('a digit MUST NOT stop a play without barge-in (the caller buffers it)', async () => {
    const player = new Player({ law: 'PCMU' });
    const outcome = track(player.play([{ frames: fakePrompt(4) }], { bargeIn: false }));
    player.nextFrame();
    expect(player.interrupt('#')).toBe(false);
    expect(pull(player, 10)).toEqual([2, 3, 4]);
    await flush();
    expect(outcome.outcome).toEqual({ reason: 'done' });
  });

  it('a digit while idle MUST do nothing', () => {
    expect(new Player({ law: 'PCMU' }).interrupt('1')).toBe(false);
  });
});

describe('Player: stop, replacement and close', () => {
  it("stop() MUST end the play at once and resolve 'stopped'", async () => {
    const player = new Player({ law: 'PCMU' });
    const outcome = track(player.play([{ frames: fakePrompt(10) }], { bargeIn: false }));
    player.nextFrame();
    player.stop();
    expect(player.nextFrame()).toBeUndefined();
    await flush();
    expect(outcome.outcome).toEqual({ reason: 'stopped' });
  });

  it("a new play() MUST stop the running one ('stopped') and play from its own first frame", async () => {
    const player = new Player({ law: 'PCMU' });
    const old = track(player.play([{ frames: fakePrompt(10) }], { bargeIn: false }));
    pull(player, 4);
    const next = fakePrompt(2).map((b) => b + 100);
    const fresh = track(player.play([{ frames: next }], { bargeIn: false }));
    expect(pull(player, 10)).toEqual([101, 102]);
    await flush();
    expect(old.outcome).toEqual({ reason: 'stopped' });
    expect(fresh.outcome).toEqual({ reason: 'done' });
  });

  it('MUST call onPlayStart at each play (where the call re-installs the RTP source: the marker bit)', () => {
    let starts = 0;
    const player = new Player({ law: 'PCMU', onPlayStart: () => starts++ });
    void player.play([{ frames: fakePrompt(1) }, { frames: fakePrompt(1) }], { bargeIn: false });
    pull(player, 10);
    expect(starts).toBe(1); // one play = one talkspurt, not one per item
    void player.play([{ silenceMs: 20 }], { bargeIn: false });
    expect(starts).toBe(2);
  });

  it("after close(), a play MUST resolve 'stopped' and nothing is played", async () => {
    const player = new Player({ law: 'PCMU' });
    const running = track(player.play([{ frames: fakePrompt(3) }], { bargeIn: false }));
    player.close();
    await expect(player.play([{ frames: fakePrompt(3) }], { bargeIn: false })).resolves.toEqual({ reason: 'stopped' });
    expect(player.nextFrame()).toBeUndefined();
    expect(running.outcome).toEqual({ reason: 'stopped' });
  });

  it('MUST reject a prompt that is not whole frames, without stopping the running play', async () => {
    const player = new Player({ law: 'PCMU' });
    void player.play([{ frames: fakePrompt(3) }], { bargeIn: false });
    await expect(player.play([{ frames: new Uint8Array(100) }], { bargeIn: false })).rejects.toBeInstanceOf(TypeError);
    await expect(player.play([{ silenceMs: -5 }], { bargeIn: false })).rejects.toBeInstanceOf(TypeError);
    expect(pull(player, 10)).toEqual([1, 2, 3]);
  });
});

describe('tones', () => {
  for (const law of ['PCMU', 'PCMA'] as const) {
    it(`the ${law} beep MUST decode to 1 kHz at about -10 dBm0 and start and end quietly`, async () => {
      const player = new Player({ law });
      void player.play([{ tone: 'beep', ms: BEEP_MS }], { bargeIn: false });
      const bytes: number[] = [];
      for (let f = player.nextFrame(); f !== undefined; f = player.nextFrame()) bytes.push(...f);
      expect(bytes.length).toBe(BEEP_MS * 8);
      const pcm = decode(Uint8Array.from(bytes), law);
      // 1000 Hz: 2000 zero crossings per second.
      const hz = zeroCrossings(pcm) / 2 / (pcm.length / 8000);
      expect(Math.abs(hz - 1000)).toBeLessThan(10);
      expect(Math.abs(rmsDbm0(pcm.subarray(160, pcm.length - 160)) - -10)).toBeLessThan(0.5);
      // Ramped: the first and last samples are near silence, so no click.
      expect(Math.abs(pcm[0]!)).toBeLessThan(200);
      expect(Math.abs(pcm[pcm.length - 1]!)).toBeLessThan(200);
      expect(Uint8Array.from(bytes)).toEqual(beepBuffer(law));
    });
  }

  it('a beep of any length MUST be continuous: every frame boundary keeps the 1 kHz phase', () => {
    const player = new Player({ law: 'PCMU' });
    void player.play([{ tone: 'beep', ms: 1000 }], { bargeIn: false });
    const bytes: number[] = [];
    for (let f = player.nextFrame(); f !== undefined; f = player.nextFrame()) bytes.push(...f);
    const pcm = decode(Uint8Array.from(bytes), 'PCMU');
    expect(pcm.length).toBe(8000);
    expect(zeroCrossings(pcm)).toBe(2000);
  });

  it('ringback MUST follow 2 s on, 4 s off with 440 + 480 Hz', () => {
    const tones = toneFrames('PCMU');
    const on = new Int16Array(16000);
    for (let i = 0; i < 100; i++) on.set(decode(ringbackFrame(tones, i), 'PCMU'), i * 160);
    expect(ringbackFrame(tones, 100)).toBe(tones.silence);
    expect(ringbackFrame(tones, 299)).toBe(tones.silence);
    expect(ringbackFrame(tones, 300)).toBe(ringbackFrame(tones, 0));
    // Energy at 440 and 480 Hz, none at 1000 Hz (a single-bin DFT over the 2 s burst).
    const power = (hz: number): number => {
      let re = 0;
      let im = 0;
      for (let t = 0; t < on.length; t++) {
        re += on[t]! * Math.cos((2 * Math.PI * hz * t) / 8000);
        im += on[t]! * Math.sin((2 * Math.PI * hz * t) / 8000);
      }
      return re * re + im * im;
    };
    const p440 = power(440);
    expect(power(480) / p440).toBeGreaterThan(0.8);
    expect(power(480) / p440).toBeLessThan(1.25);
    expect(power(1000) / p440).toBeLessThan(1e-3);
    expect(power(460) / p440).toBeLessThan(1e-3);
  });
});
