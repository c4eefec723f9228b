/**
 * Ending a call politely, the one way every app does it: say goodbye (no barge-in), hang up, and unwind with
 * CallEndedError, the app runner's normal end (apps/run.ts), so nothing after it in the flow runs.
 */
import { CallEndedError, type Call, type CallPlayItem } from '../call/call.js';

export async function goodbye(call: Pick<Call, 'play' | 'hangup'>, items: readonly CallPlayItem[] = ['goodbye']): Promise<never> {
  await call.play(items, { bargeIn: false });
  await call.hangup();
  throw new CallEndedError('local-bye');
}
