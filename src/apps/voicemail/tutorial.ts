/**
 * First log-in (issue 4): record your name, record your greeting, change the provisioned PIN.
 *
 *   setupDone false:    "welcome to your new mailbox ..." ─► name (may be cancelled) ─► greeting (may be
 *                       cancelled) ─► setupDone = true
 *   mustChangePin true: new PIN twice, policy checked; cannot be skipped (change-pin.ts: the call ends after
 *                       repeated failures and mustChangePin stays set)
 *
 * setupDone is stored as soon as the recordings are done, so an owner who hangs up at the PIN step comes back
 * straight to the PIN step, not to the recordings again.
 */
import { changePin } from './change-pin.js';
import { recordGreeting } from './record-greeting.js';
import { refresh, type Session } from './session.js';

/** Whether the log-in must go through the tutorial first. */
export function needsTutorial(mailbox: { setupDone: boolean; mustChangePin: boolean }): boolean {
  return !mailbox.setupDone || mailbox.mustChangePin;
}

export async function runTutorial(s: Session): Promise<void> {
  if (!s.mailbox.setupDone) {
    s.log.info('first log-in: tutorial');
    await s.call.play(['tutorial_intro'], { bargeIn: true });
    await recordGreeting(s, 'name');
    await recordGreeting(s, 'unavailable');
    await s.ctx.store.updateMailbox(s.mailbox.number, { setupDone: true });
    await refresh(s);
  }
  if (s.mailbox.mustChangePin) {
    await s.call.play(['tutorial_pin'], { bargeIn: true });
    await changePin(s, { mandatory: true });
  }
}
