/**
 * The auto-attendant (issue 5), as a telephony engineer draws it:
 *
 *   which attendant serves the pilot dialled (attendantFor) ─► more than one language? choose one
 *   ─► the menu the schedule picks now (schedule.ts) ─► run it (menu-runner.ts) and do what was chosen:
 *        { menu }            another menu
 *        extension dialled   connect (transfer; on failure the target's mailbox)    connect.ts
 *        dial-by-extension   "enter the extension" ─► connect                       dial-by-extension.ts
 *        dial-by-name        spell, choose ─► connect                              dial-by-name.ts
 *        { transfer }        connect (still subject to the transfer guard)
 *        operator            connect to attendants[].operator
 *        { message }         leave a message in that mailbox
 *        admin               record greetings by phone                              greeting-admin.ts
 *        hangup              "goodbye"
 *   a flow that comes back (refused or failed transfer, nothing chosen) returns to the menu it started from.
 *
 * A CallEndedError is the normal way out when the caller hangs up; it propagates to the app runner.
 */
import { CallEndedError, type Call } from '../../call/call.js';
import { attendantFor, type MenuAction } from '../../config/attendant-schema.js';
import { goodbye } from '../goodbye.js';
import { connect } from './connect.js';
import type { AttendantContext } from './context.js';
import { askExtension, findExtension, longestExtension, type Extension } from './dial-by-extension.js';
import { dialByName } from './dial-by-name.js';
import { greetingAdmin } from './greeting-admin.js';
import { chooseLanguage } from './language-choice.js';
import { runMenu, type MenuIo } from './menu-runner.js';
import { said, saidAll } from './prompts.js';
import { scheduledMenu } from './schedule.js';
import type { AttendantSession } from './session.js';
import type { Voice } from './voice.js';

export type { AttendantContext } from './context.js';

/** Menus visited in one call before the attendant gives up (a caller going round in circles). */
const MAX_MENU_VISITS = 50;

export async function runAttendant(call: Call, ctx: AttendantContext): Promise<void> {
  const attendant = attendantFor(ctx.attendants, call.service.number);
  const log = ctx.logger.child({ callId: call.callId, pilot: call.service.number });
  const voices = attendant.languages.map((l) => ctx.voices.get(l)).filter((v): v is Voice => v !== undefined);
  const s: AttendantSession = { call, ctx, attendant, voice: voices[0] ?? ctx.voices.default, log };
  if (voices.length > 1) {
    s.voice = await chooseLanguage(call, voices);
    log.info({ language: s.voice.lang }, 'language chosen');
  }
  const now = ctx.now?.() ?? Date.now();
  const scheduled = scheduledMenu(attendant, now);
  log.info({ menu: scheduled.menu, schedule: scheduled.rule ?? 'none', local: scheduled.local, timeZone: attendant.timeZone }, 'attendant answered');

  let menuName = scheduled.menu;
  for (let visits = 0; visits < MAX_MENU_VISITS; visits++) {
    const menu = attendant.menus[menuName];
    if (!menu) {
      // The config check forbids this; a menu removed under a running server is still not a crash.
      log.error({ menu: menuName }, 'no such menu');
      return goodbye(call, said(s.voice, 'goodbye'));
    }
    log.info({ menu: menuName }, 'menu');
    call.callRecord.reached(menuName);
    const io = await menuIo(s);
    const choice = await runMenu(io, menu);
    if (choice.kind === 'extension') {
      await connectOrStay(s, choice.extension);
      continue;
    }
    const next = await perform(s, io, choice.action);
    if (next !== undefined) menuName = next;
  }
  log.warn({ visits: MAX_MENU_VISITS }, 'too many menus in one call');
  return goodbye(call, said(s.voice, 'goodbye'));
}

/** The menu runner's view of this visit (extensions provisioned meanwhile count: the directory follows the store's changes). */
async function menuIo(s: AttendantSession): Promise<MenuIo> {
  const mailboxes = await s.ctx.directory.mailboxes();
  return {
    call: s.call,
    voice: s.voice,
    greetingsDir: s.ctx.greetingsDir,
    log: s.log,
    interDigitMs: s.attendant.interDigitMs,
    maxDigits: longestExtension(s.attendant, mailboxes),
    findExtension: (digits) => findExtension(s.ctx.store, s.attendant, digits),
  };
}

/** Connects; unless the caller is back at the menu, the visit ends here (CallEndedError, the normal way out). */
async function connectOrStay(s: AttendantSession, target: Extension): Promise<void> {
  const result = await connect(s, target);
  if (result === 'menu') return;
  if (result === 'bridged') await s.call.whenEnded();
  else await s.call.hangup();
  throw new CallEndedError(s.call.endReason ?? 'local-bye');
}

/** Carries out an action; returns the next menu's name, or undefined to say the same menu again. */
async function perform(s: AttendantSession, io: MenuIo, action: MenuAction): Promise<string | undefined> {
  const { ctx, attendant } = s;
  switch (action.kind) {
    case 'menu':
      return action.menu;
    case 'repeat':
      return undefined;
    case 'hangup':
      return goodbye(s.call, said(s.voice, 'goodbye'));
    case 'transfer': {
      const mailbox = await ctx.store.findMailbox(action.number);
      await connectOrStay(s, mailbox && mailbox.number === action.number ? { number: action.number, mailbox } : { number: action.number });
      return undefined;
    }
    case 'operator': {
      if (attendant.operator === undefined) return goodbye(s.call, said(s.voice, 'goodbye'));
      const mailbox = await ctx.store.findMailbox(attendant.operator);
      await connectOrStay(s, mailbox && mailbox.number === attendant.operator ? { number: attendant.operator, mailbox } : { number: attendant.operator });
      return undefined;
    }
    case 'dial-by-extension': {
      const target = await askExtension({ call: s.call, voice: s.voice, interDigitMs: io.interDigitMs, maxDigits: io.maxDigits, find: io.findExtension });
      if (target) await connectOrStay(s, target);
      return undefined;
    }
    case 'dial-by-name': {
      const target = await dialByName(s);
      if (target) await connectOrStay(s, target);
      return undefined;
    }
    case 'message': {
      const mailbox = await ctx.store.findMailbox(action.mailbox);
      if (mailbox && ctx.leaveMessage) {
        s.log.info({ mailbox: mailbox.number }, 'leaving a message');
        await ctx.leaveMessage(s.call, mailbox, 'direct');
        await s.call.hangup();
        throw new CallEndedError(s.call.endReason ?? 'local-bye');
      }
      s.log.error({ mailbox: action.mailbox }, 'no such mailbox (or no voicemail) for a message key');
      await s.call.play(saidAll(s.voice, 'transferFailed'), { bargeIn: true });
      return undefined;
    }
    case 'admin':
      await greetingAdmin(s);
      return undefined;
  }
}
