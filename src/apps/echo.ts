/**
 * The echo test an installer calls (services.echo, default *43) to check audio both ways: a prompt, the
 * beep, five seconds recorded, played back, goodbye. What the installer hears back is exactly what vmpilot
 * would have stored as a message, so it also checks the recording path (codec, level, gaps).
 *
 * The recording goes to the store's folder for this process's recordings (store.tmpDir: start-up repair in
 * another process leaves it alone, store/owner.ts) and is deleted when the call ends, whatever ends it.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Call } from '../call/call.js';

export interface EchoOptions {
  /** Where recordings in progress go: the store's tmpDir. */
  tmpDir: string;
  /** How long the installer may speak. Default 5000 ms. */
  recordMs?: number;
}

export async function runEcho(call: Call, options: EchoOptions): Promise<void> {
  const path = join(options.tmpDir, `echo-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.wav`);
  try {
    await call.play(['echo_test_intro'], { bargeIn: false });
    await call.record({ path, maxMs: options.recordMs ?? 5000, silenceMs: 0, endOnDigits: '#', onHangup: 'discard' });
    await call.play(['echo_test_playback', { file: path }, { silenceMs: 300 }, 'goodbye'], { bargeIn: false });
    await call.hangup();
  } finally {
    await rm(path, { force: true });
  }
}
