/**
 * The voicemail app: who the call is for (addressing.ts), then leave a message (deposit.ts) or log in
 * (login.ts). A CallEndedError is the normal way out when the caller hangs up; it propagates to the app
 * runner (apps/run.ts), which expects it.
 */
import type { Call } from '../../call/call.js';
import { addressCall } from './addressing.js';
import type { VoicemailContext } from './context.js';
import { runDeposit } from './deposit.js';
import { runLogin } from './login.js';
import { goodbye } from '../goodbye.js';
import { callTrySource } from '../pin-entry.js';

export type { VoicemailContext } from './context.js';

export async function runVoicemail(call: Call, ctx: VoicemailContext): Promise<void> {
  const address = await addressCall(call.parties, {
    pilots: ctx.voicemailPilots,
    diversion: ctx.config.diversion,
    findMailbox: (n) => ctx.store.findMailbox(n),
  });
  const log = ctx.logger.child({ callId: call.callId });
  switch (address.kind) {
    case 'deposit':
      log.info({ mailbox: address.mailbox.number, reason: address.reason, via: address.source, from: address.caller.number }, 'call for a mailbox');
      return runDeposit(call, ctx, { mailbox: address.mailbox, reason: address.reason, caller: address.caller });
    case 'login':
      log.info({ mailbox: address.mailbox?.number, from: address.caller.number }, 'log-in call');
      // Whether the caller's number is a mailbox is not passed on: the log-in asks its PIN either way (login.ts).
      return runLogin(call, ctx, { keys: ctx.keys, who: callTrySource(call), ...(address.caller.number !== '' && { callerNumber: address.caller.number }) });
    case 'no-mailbox':
      log.info({ numbers: address.numbers }, 'call for numbers that have no mailbox');
      return goodbye(call, ['mailbox_unknown', 'goodbye']);
  }
}
