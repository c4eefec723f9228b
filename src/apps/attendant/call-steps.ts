/**
 * Two steps every attendant flow takes: check the caller is still there, and end the call politely.
 * Pending Call operations settle on a hang-up rather than throw (call.ts), so a flow checks after each one
 * that may have been cut short and unwinds from there with CallEndedError (the app runner's normal end).
 */
import { CallEndedError } from '../../call/call.js';
import type { AttendantCall } from './context.js';
import { said } from './prompts.js';
import type { Voice } from './voice.js';

export function ensureLive(call: AttendantCall): void {
  if (call.ended) throw new CallEndedError(call.endReason ?? 'remote-bye');
}

/** "Goodbye", hang up, and unwind (CallEndedError). */
export async function goodbye(call: AttendantCall, voice: Voice): Promise<never> {
  ensureLive(call);
  await call.play(said(voice, 'goodbye'), { bargeIn: false });
  await call.hangup();
  throw new CallEndedError(call.endReason ?? 'local-bye');
}
