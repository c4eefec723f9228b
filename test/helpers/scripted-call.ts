/**
 * A scripted caller for flow tests of the voicemail session (unit level: no SIP, no RTP). It implements the
 * part of the Call API the session uses (VoiceCall) with the Call's contract: keys typed ahead stop a
 * barge-in play and wait for the next collectDigits; when the call ends the pending operation and every later
 * one reject with CallEndedError, except a recording whose request says onHangup 'keep' (it resolves, reason
 * 'hangup').
 *
 * The caller's script is a string of keys, read in order:
 *   0-9 * #   a key (typed ahead: it is there as soon as the previous one was taken)
 *   .         the caller says nothing at this collectDigits (it times out)
 *   ~         the next recording hears nothing (too short)
 *   !         the caller hangs up now (at the next play, collect or recording; during a recording's beep)
 * When the script runs out the caller listens to whatever plays, and hangs up at the next collect, or during
 * the next recording (after speaking). Each recording writes `recordMs` of a 440 Hz tone.
 */
import { rm, writeFile } from 'node:fs/promises';
import { CallEndedError, type CallEndReason, type CallPlayItem, type CollectOptions, type CollectResult, type PlayResult, type RecordRequest } from '../../src/call/call.js';
import type { RecordOutcome } from '../../src/media/recorder.js';
import { buildWavHeader } from '../../src/media/wav.js';
import type { VoiceCall } from '../../src/apps/voicemail/session.js';

export class ScriptedCall implements VoiceCall {
  readonly callId = 'scripted';
  ended = false;
  endReason: CallEndReason | undefined = undefined;
  /**
   * Everything the session asked to play, in order, flattened: prompt ids, 'file:<path>@<offsetMs>', 'tone'
   * (silences left out). Includes plays a key typed ahead skipped (the caller heard none of those).
   */
  readonly asked: string[] = [];
  /** Recordings made (paths). */
  readonly recorded: string[] = [];
  /** Transfers asked for. */
  readonly transfers: string[] = [];
  private at = 0;

  constructor(
    private readonly script: string,
    private readonly options: { recordMs?: number; transferOk?: boolean } = {},
  ) {}

  /** Keys not yet used. */
  get rest(): string {
    return this.script.slice(this.at);
  }

  async play(items: readonly CallPlayItem[], options: { bargeIn?: boolean } = {}): Promise<PlayResult> {
    this.live();
    for (const item of items) {
      if (typeof item === 'string') this.asked.push(item);
      else if ('prompt' in item) this.asked.push(item.prompt);
      else if ('file' in item) this.asked.push(`file:${item.file}@${item.offsetMs ?? 0}`);
      else if ('silenceMs' in item) continue;
      else this.asked.push('tone');
    }
    const next = this.script[this.at];
    if (next === '!') this.hangUpNow();
    if ((options.bargeIn ?? true) && next !== undefined && next !== '.' && next !== '~') return { reason: 'digit', digit: next as '1' };
    return { reason: 'done' };
  }

  async collectDigits(options: CollectOptions = {}): Promise<CollectResult> {
    this.live();
    const max = options.max ?? 1;
    const terminators = options.terminators ?? '#';
    let digits = '';
    for (;;) {
      const key = this.script[this.at];
      if (key === undefined || key === '!') this.hangUpNow();
      if (key === '~') return { digits, reason: 'timeout' };
      this.at++;
      if (key === '.') return { digits, reason: 'timeout' };
      if (terminators.includes(key)) return { digits, reason: 'terminator', terminator: key };
      digits += key;
      if (digits.length >= max) return { digits, reason: 'max' };
    }
  }

  async record(request: RecordRequest): Promise<RecordOutcome> {
    this.live();
    if (this.script[this.at] === '!') this.hangUpNow();
    const silent = this.script[this.at] === '~';
    if (silent) this.at++;
    const ms = silent ? 0 : (this.options.recordMs ?? 2000);
    const samples = Buffer.alloc((ms * 8000) / 1000 * 2);
    for (let i = 0; i < samples.length / 2; i++) samples.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)), i * 2);
    await writeFile(request.path, Buffer.concat([buildWavHeader({ encoding: 'pcm16', dataBytes: samples.length }), samples]));
    this.recorded.push(request.path);
    const hangup = this.at >= this.script.length;
    if (hangup) {
      this.end();
      if (request.onHangup === 'discard') {
        await rm(request.path, { force: true });
        throw new CallEndedError('remote-bye');
      }
    }
    return { reason: hangup ? 'hangup' : 'silence', durationMs: ms, path: request.path, tooShort: ms < (request.minMs ?? 0) };
  }

  async transfer(target: string): Promise<{ ok: boolean; status: number; reason: string }> {
    this.live();
    this.transfers.push(target);
    if (this.options.transferOk) {
      this.end();
      return { ok: true, status: 200, reason: 'transferred' };
    }
    return { ok: false, status: 486, reason: 'busy' };
  }

  async hangup(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      this.endReason = 'local-bye';
    }
  }

  flushDigits(): void {
    // The script says when each key is pressed; nothing typed ahead is lost.
  }

  /** Whether `ids` were asked for in this order (not necessarily next to each other). */
  askedInOrder(ids: readonly string[]): boolean {
    let i = 0;
    for (const p of this.asked) if (p === ids[i]) i++;
    return i === ids.length;
  }

  /** The offsets (ms) at which `file` was asked to play, in order. */
  offsetsOf(file: string): number[] {
    return this.asked.filter((a) => a.startsWith(`file:${file}@`)).map((a) => Number(a.slice(a.lastIndexOf('@') + 1)));
  }

  private live(): void {
    if (this.ended) throw new CallEndedError(this.endReason ?? 'remote-bye');
  }

  /** The caller hangs up during the operation under way: it rejects. */
  private hangUpNow(): never {
    this.end();
    throw new CallEndedError('remote-bye');
  }

  private end(): void {
    this.ended = true;
    this.endReason ??= 'remote-bye';
  }
}
