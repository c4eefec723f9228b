/**
 * One mailbox owner's session, from a good PIN to the end of the call: who is logged in, the call, the key
 * map, the messages deleted in this call (restorable until it ends), and the few helpers every menu of the
 * session uses: re-reading the mailbox, a temporary file name.
 *
 * The retrieval files take a VoiceCall, the part of Call they use, so a flow test can script a caller
 * without a SIP stack (test/unit); the real Call is one.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Call } from '../../call/call.js';
import type { Folder, Mailbox } from '../../store/types.js';
import type { VoicemailContext } from './context.js';
import type { KeyMap } from './keymap.js';
import type { Say } from '../../prompts/say.js';

/** The Call API a listening session uses. */
export type VoiceCall = Pick<Call, 'callId' | 'play' | 'collectDigits' | 'record' | 'transfer' | 'hangup' | 'flushDigits'> &
  /** The call's record (call/call-record.ts), noted on log-in; a flow test's scripted caller may have none. */
  Partial<Pick<Call, 'callRecord'>>;

export interface Session {
  readonly call: VoiceCall;
  readonly ctx: VoicemailContext;
  readonly keys: KeyMap;
  /** The say-engine (ctx.say), here so a Session is a MenuIo. */
  readonly say: Say;
  /** The logged-in mailbox, refreshed after changes (refresh()). */
  mailbox: Mailbox;
  /** Messages deleted in this call, and the folder each was in (delete is undone by moving it back). */
  readonly deleted: Map<string, Exclude<Folder, 'deleted'>>;
  readonly log: Logger;
}

export function createSession(call: VoiceCall, ctx: VoicemailContext, keys: KeyMap, mailbox: Mailbox): Session {
  return { call, ctx, keys, say: ctx.say, mailbox, deleted: new Map(), log: ctx.logger.child({ callId: call.callId, mailbox: mailbox.number }) };
}

/** ms since epoch (the context's clock in tests). */
export function nowMs(ctx: VoicemailContext): number {
  return ctx.now?.() ?? Date.now();
}

/** Re-reads the mailbox after a change (greetings, PIN, setup flags). */
export async function refresh(s: Session): Promise<Mailbox> {
  s.mailbox = (await s.ctx.store.findMailbox(s.mailbox.number)) ?? s.mailbox;
  return s.mailbox;
}

/** A fresh file name in the store's temporary folder (same file system as its greetings and messages). */
export function tmpWav(ctx: VoicemailContext, what: string): string {
  return join(ctx.store.tmpDir, `${what}-${randomUUID()}.wav`);
}
