/** Recordings and messages to deposit into a real store in tests. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildWavHeader } from '../../src/media/wav.js';
import type { NewMessage } from '../../src/store/types.js';

let n = 0;

/** A 16-bit 8 kHz mono WAV of `ms` of a ramp, written in `folder` (a store's tmpDir). */
export function recordingIn(folder: string, ms: number, name = `rec-${process.pid}-${n++}.wav`): string {
  const data = Buffer.alloc((ms / 1000) * 8000 * 2);
  for (let i = 0; i < data.length / 2; i++) data.writeInt16LE((i * 37) % 20000, i * 2);
  const path = join(folder, name);
  writeFileSync(path, Buffer.concat([buildWavHeader({ encoding: 'pcm16', dataBytes: data.length }), data]));
  return path;
}

/** A deposit for mailbox 27000 from Bob, with a fresh 200 ms recording in `tmpDir` unless one is given. */
export function newMessage(tmpDir: string, overrides: Partial<NewMessage> = {}): NewMessage {
  const audioFile = overrides.audioFile ?? recordingIn(tmpDir, 200);
  return { mailbox: '27000', from: '4455', fromName: 'Bob', durationMs: 2000, urgent: false, reason: 'no-answer', ...overrides, audioFile };
}
