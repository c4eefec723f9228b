/**
 * The bridge from the attendant to the voicemail app: after a failed transfer the caller lands in the target
 * mailbox's deposit flow (its busy or unavailable greeting, the beep, the message), exactly as a call the PBX
 * forwarded there on busy or no answer. The caller is identified the way voicemail does for any call.
 */
import type { VoicemailContext } from '../voicemail/context.js';
import { runDeposit } from '../voicemail/deposit.js';
import type { LeaveMessage } from './context.js';

export function leaveMessageVia(vm: VoicemailContext): LeaveMessage {
  return (call, mailbox, reason) =>
    runDeposit(call, vm, { mailbox, reason, caller: call.parties.caller });
}
