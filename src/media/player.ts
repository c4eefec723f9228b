/**
 * One call's prompt player: turns a play list (ready G.711 frames, silences, tones) into one 160-byte frame
 * per clock tick for RtpSender.setSource(player.nextFrame). No sockets, no timers: the shared clock pulls.
 *
 * - nextFrame() returns views into the prompt's own buffer or the shared tone frames; it copies nothing and
 *   allocates nothing per frame. The per-frame views of a prompt buffer are made once per buffer and kept in
 *   a WeakMap, so a prompt encoded once at start-up costs its views once per process, not once per play.
 * - Barge-in: interrupt(digit) during a play with bargeIn stops it at once: the very next nextFrame() (the
 *   next packet) is no longer the prompt, so a key stops a prompt within one packet time (the issue's
 *   digit-to-action latency). A play without bargeIn ignores digits; the caller buffers them.
 * - A play resolves 'done' as soon as its last frame has been handed out, so an app that awaits it and plays
 *   the next thing is ready before the next tick: back-to-back plays leave no gap.
 * - A new play() while one runs stops the old one first (it resolves 'stopped').
 * - Marker bit: a new prompt starts a talkspurt (RFC 3551 §4.1). The player calls `onPlayStart`
 *   synchronously at each play(), where the call marks it: `onPlayStart: () => sender.startTalkspurt()`. One play is one
 *   talkspurt: its items (say-engine fragments such as "you have" "three" "new messages") are one utterance,
 *   so the marker is not repeated at each item.
 *
 * Not here: encoding or loading prompts (prompts/), the clock, RTP, digit collection.
 */
import type { DtmfKey } from './dtmf/rfc4733.js';
import type { G711Law } from './g711.js';
import { beepFrame, ringbackFrame, toneFrames, TONE_FRAME, type ToneFrames } from './tone.js';

/** One thing to play. */
export type PlayItem =
  /** Ready G.711 frames of the player's law; length a multiple of 160. */
  | { frames: Uint8Array }
  /** Silence, rounded to whole 20 ms frames. */
  | { silenceMs: number }
  /** A tone from tone.ts for `ms` (rounded to whole frames; ringback follows its 2 s on / 4 s off cadence). */
  | { tone: 'beep' | 'ringback'; ms: number };

export interface PlayOptions {
  /** Whether a digit stops the play (interrupt()). */
  bargeIn: boolean;
}

/** How a play ended. */
export type PlayOutcome =
  /** Every frame was handed out. */
  | { reason: 'done' }
  /** stop(), close(), or a newer play(). */
  | { reason: 'stopped' }
  /** A digit interrupted a barge-in play. */
  | { reason: 'digit'; digit: DtmfKey };

/** States of the player. */
export enum PlayerState {
  /** Nothing playing: nextFrame() returns undefined. */
  Idle = 'idle',
  /** A play list is being handed out. */
  Playing = 'playing',
  /** close() was called: plays resolve 'stopped' at once. */
  Closed = 'closed',
}

export interface PlayerOptions {
  /** Law of tones and silences (PCMU or PCMA); prompt frames must be in the same law. Required. */
  law: G711Law;
  /** Called synchronously when a play starts (to re-install the RTP source, which sets the marker). Default none. */
  onPlayStart?: () => void;
}

/** Internal: one item as frames to hand out. */
const enum SegmentKind {
  Frames,
  Silence,
  Beep,
  Ringback,
}

interface Segment {
  kind: SegmentKind;
  /** Frames in the segment. */
  count: number;
  /** Views for SegmentKind.Frames. */
  views: readonly Uint8Array[] | undefined;
}

const DONE: PlayOutcome = Object.freeze({ reason: 'done' });
const STOPPED: PlayOutcome = Object.freeze({ reason: 'stopped' });

const viewCache = new WeakMap<Uint8Array, readonly Uint8Array[]>();

/** The 160-byte views of a buffer of G.711 frames, made once per buffer. Throws TypeError for a bad length. */
export function frameViews(buffer: Uint8Array): readonly Uint8Array[] {
  let views = viewCache.get(buffer);
  if (views === undefined) {
    if (buffer.length % TONE_FRAME !== 0) {
      throw new TypeError(`prompt frames must be a multiple of ${TONE_FRAME} bytes, got ${buffer.length}`);
    }
    const list: Uint8Array[] = [];
    for (let at = 0; at < buffer.length; at += TONE_FRAME) list.push(buffer.subarray(at, at + TONE_FRAME));
    views = list;
    viewCache.set(buffer, views);
  }
  return views;
}

export class Player {
  state = PlayerState.Idle;
  /** Frames handed out since construction. */
  framesPlayed = 0;

  private readonly tones: ToneFrames;
  private readonly onPlayStart: (() => void) | undefined;
  private segments: Segment[] = [];
  private segmentIndex = 0;
  private frameIndex = 0;
  private bargeIn = false;
  private resolve: ((outcome: PlayOutcome) => void) | undefined = undefined;

  constructor(options: PlayerOptions) {
    this.tones = toneFrames(options.law);
    this.onPlayStart = options.onPlayStart;
  }

  /** Whether a digit would stop the current play. */
  get interruptible(): boolean {
    return this.state === PlayerState.Playing && this.bargeIn;
  }

  /**
   * Plays `items` in order from the next tick. Rejects with TypeError for a bad item (nothing is stopped
   * then). An empty list resolves 'done' at once. After close(), resolves 'stopped' at once.
   */
  play(items: readonly PlayItem[], options: PlayOptions): Promise<PlayOutcome> {
    if (this.state === PlayerState.Closed) return Promise.resolve(STOPPED);
    let segments: Segment[];
    try {
      segments = this.plan(items);
    } catch (err) {
      return Promise.reject(err);
    }
    this.finish(STOPPED);
    if (segments.length === 0) return Promise.resolve(DONE);
    this.segments = segments;
    this.segmentIndex = 0;
    this.frameIndex = 0;
    this.bargeIn = options.bargeIn;
    this.state = PlayerState.Playing;
    const done = new Promise<PlayOutcome>((resolve) => {
      this.resolve = resolve;
    });
    this.onPlayStart?.();
    return done;
  }

  /**
   * The frame for this tick, or undefined when nothing plays (the sender then sends silence). Bound, for
   * RtpSender.setSource(player.nextFrame). Never throws.
   */
  readonly nextFrame = (): Uint8Array | undefined => {
    if (this.state !== PlayerState.Playing) return undefined;
    const segment = this.segments[this.segmentIndex]!;
    const i = this.frameIndex;
    let frame: Uint8Array;
    switch (segment.kind) {
      case SegmentKind.Frames:
        frame = segment.views![i]!;
        break;
      case SegmentKind.Silence:
        frame = this.tones.silence;
        break;
      case SegmentKind.Beep:
        frame = beepFrame(this.tones, i, segment.count);
        break;
      case SegmentKind.Ringback:
        frame = ringbackFrame(this.tones, i);
        break;
    }
    this.framesPlayed++;
    if (i + 1 < segment.count) {
      this.frameIndex = i + 1;
    } else if (this.segmentIndex + 1 < this.segments.length) {
      this.segmentIndex++;
      this.frameIndex = 0;
    } else {
      this.finish(DONE);
    }
    return frame;
  };

  /**
   * A digit from the caller. Stops a barge-in play (the next frame is no longer the prompt) and resolves it
   * with the digit; returns true then. Returns false, doing nothing, when idle or the play is not barge-in.
   */
  interrupt(digit: DtmfKey): boolean {
    if (!this.interruptible) return false;
    this.finish({ reason: 'digit', digit });
    return true;
  }

  /** Stops the current play, which resolves 'stopped'. No-op when idle. */
  stop(): void {
    this.finish(STOPPED);
  }

  /** Stops and refuses later plays (they resolve 'stopped'). Idempotent. */
  close(): void {
    this.finish(STOPPED);
    this.state = PlayerState.Closed;
  }

  private finish(outcome: PlayOutcome): void {
    if (this.state !== PlayerState.Playing) return;
    this.state = PlayerState.Idle;
    this.segments = [];
    const resolve = this.resolve;
    this.resolve = undefined;
    resolve?.(outcome);
  }

  private plan(items: readonly PlayItem[]): Segment[] {
    const segments: Segment[] = [];
    for (const item of items) {
      if ('frames' in item) {
        if (!(item.frames instanceof Uint8Array)) throw new TypeError('PlayItem.frames must be a Uint8Array');
        const views = frameViews(item.frames);
        if (views.length > 0) segments.push({ kind: SegmentKind.Frames, count: views.length, views });
      } else if ('silenceMs' in item) {
        const count = framesFor(item.silenceMs, 'silenceMs');
        if (count > 0) segments.push({ kind: SegmentKind.Silence, count, views: undefined });
      } else if ('tone' in item) {
        const count = framesFor(item.ms, 'ms');
        if (item.tone !== 'beep' && item.tone !== 'ringback') throw new TypeError(`unknown tone ${String(item.tone)}`);
        const kind = item.tone === 'beep' ? SegmentKind.Beep : SegmentKind.Ringback;
        if (count > 0) segments.push({ kind, count, views: undefined });
      } else {
        throw new TypeError('a PlayItem needs frames, silenceMs or tone');
      }
    }
    return segments;
  }
}

/** Whole 20 ms frames in `ms` (rounded to the nearest). Throws TypeError for a negative or non-finite value. */
function framesFor(ms: number, name: string): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new TypeError(`${name} must be >= 0, got ${ms}`);
  return Math.round(ms / 20);
}
