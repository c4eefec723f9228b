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
      // The PIN back-off counts failures per caller: the number when there is one, else where the call came from.
      const source = address.caller.number !== '' ? address.caller.number : call.sourceAddress;
      return runLogin(call, ctx, address.mailbox ? { mailbox: address.mailbox, ownerCalling: true, keys: ctx.keys, source } : { keys: ctx.keys, source });
    case 'no-mailbox':
      log.info({ numbers: address.numbers }, 'call for numbers that have no mailbox');
      return goodbye(call, ['mailbox_unknown', 'goodbye']);
  }
}
