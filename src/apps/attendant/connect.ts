/**
 * Putting the caller through to a number, as issue 5 draws it:
 *
 *   allowed by the transfer guard? ── no ──► logged, "the call could not be transferred" ─► back to the menu
 *        │ yes
 *   "please hold" ─► the PBX's method (pbx[].transfer):
 *        refer       REFER (RFC 3515) and its NOTIFY sipfrag (call.transfer)
 *        supervised  a new call to the target, bridged on answer (ctx.supervisedTransfer)
 *   answered/transferred ─► done (a REFER's success ends our leg; a supervised bridge lives on)
 *   invalid number       ─► "that extension is not valid" ─► back to the menu
 *   busy / no answer / failed ─► "the call could not be transferred" (+ "that extension is busy" or
 *        "there is no answer") ─► the target's mailbox, when it has one: leave a message there
 *                                 (the deposit's greeting is the offer; hanging up declines it)
 *                            └─► no mailbox ─► "returning to the main menu"
 *
 * The final status of a REFER (from the NOTIFY sipfrag, RFC 3515 §2.4.5) is read as a call attempt's
 * (RFC 3261 §21): 486/600 busy; 408/480/487 and no final status in time: no answer; 404/410/484/604: no such
 * number; anything else: failed.
 */
import type { DepositReason } from '../../store/types.js';
import type { SupervisedOutcome } from './context.js';
import type { Extension } from './dial-by-extension.js';
import { saidAll, pressKey } from './prompts.js';
import type { AttendantSession } from './session.js';
import { transferGuard } from './transfer-guard.js';

/**
 * How the visit goes on: 'done' the caller is gone or about to be (transferred, message left, hung up);
 * 'bridged' a supervised transfer joined the caller to the target and the call lasts until either hangs up;
 * 'menu' back to the menu.
 */
export type ConnectResult = 'done' | 'bridged' | 'menu';

/** A transfer's final SIP status as an outcome (0: none came). */
export function outcomeOfStatus(status: number): Exclude<SupervisedOutcome, 'answered'> {
  if (status === 486 || status === 600) return 'busy';
  if (status === 0 || status === 408 || status === 480 || status === 487) return 'no-answer';
  if (status === 404 || status === 410 || status === 484 || status === 604) return 'invalid';
  return 'failed';
}

/** Whether the attendant may transfer to `number` (the guard over the store's mailboxes now). */
export async function transferAllowed(s: AttendantSession, number: string): Promise<boolean> {
  const mailboxes = await s.ctx.directory.mailboxes();
  return transferGuard(s.attendant, mailboxes.map((m) => m.number))(number);
}

export async function connect(s: AttendantSession, target: Extension): Promise<ConnectResult> {
  const { call, voice, log } = s;
  if (!(await transferAllowed(s, target.number))) {
    log.warn({ target: target.number, allowed: s.attendant.allowedTransfers }, 'transfer refused: not an allowed number');
    await call.play(saidAll(voice, 'transferFailed', 'backToMenu'), { bargeIn: true });
    return 'menu';
  }
  await call.play(saidAll(voice, 'pleaseHold'), { bargeIn: false });
  const method = s.ctx.supervisedTransfer && s.ctx.transferMethod(call) === 'supervised' ? 'supervised' : 'refer';
  const timeoutMs = s.attendant.transferTimeoutS * 1000;
  let outcome: SupervisedOutcome;
  let status: number;
  if (method === 'supervised') {
    ({ outcome, status } = await s.ctx.supervisedTransfer!(call, target.number, { timeoutMs, logger: log }));
  } else {
    const r = await call.transfer(target.number, { timeoutMs });
    status = r.status;
    outcome = r.ok ? 'answered' : outcomeOfStatus(r.status);
  }
  log.info({ target: target.number, method, outcome, status }, 'transfer outcome');
  if (outcome === 'answered') {
    call.callRecord.transferredTo(target.number);
    return method === 'supervised' ? 'bridged' : 'done';
  }
  if (outcome === 'invalid') {
    await call.play(saidAll(voice, 'invalidExtension', 'backToMenu'), { bargeIn: true });
    return 'menu';
  }
  const why = outcome === 'busy' ? saidAll(voice, 'busy') : outcome === 'no-answer' ? saidAll(voice, 'noAnswer') : [];
  // Keys pressed while it rang meant nothing; from here on a key answers the offer below.
  call.flushDigits();
  await call.play([...saidAll(voice, 'transferFailed'), ...why], { bargeIn: true });
  if (target.mailbox && s.ctx.leaveMessage) {
    const reason: DepositReason = outcome === 'busy' ? 'busy' : 'no-answer';
    // A supervised transfer that found the phone busy or unanswered goes straight to that voicemail (what a
    // PBX's own forwarding would do). After a failed REFER the caller chooses: "To leave a message, press 1.
    // To go back, press star." — silence or any other key also leaves the message.
    if (method === 'refer') {
      await call.play([...saidAll(voice, 'optLeaveMessage'), ...pressKey(voice, '1'), ...saidAll(voice, 'optBack'), ...pressKey(voice, '*')], { bargeIn: true });
      const choice = await call.collectDigits({ max: 1, timeoutMs: 5000, terminators: '' });
      if (choice.digits === '*') {
        await call.play(saidAll(voice, 'backToMenu'), { bargeIn: true });
        return 'menu';
      }
    }
    log.info({ mailbox: target.mailbox.number, reason }, 'offering a message after the failed transfer');
    await s.ctx.leaveMessage(call, target.mailbox, reason);
    return 'done';
  }
  await call.play(saidAll(voice, 'backToMenu'), { bargeIn: true });
  return 'menu';
}
