/**
 * Starts the app that owns a call's service once the call is answered and confirmed, and contains its
 * failures: an app's CallEndedError is the normal way out when the caller hangs up; anything else is a bug,
 * logged, and the call is ended politely rather than left open and silent.
 */
import type { Logger } from 'pino';
import { CallEndedError, type Call } from '../call/call.js';
import { runEcho } from './echo.js';

export interface AppContext {
  logger: Logger;
  storageDir: string;
}

export function runApp(call: Call, ctx: AppContext): void {
  let app: Promise<void>;
  switch (call.service.service) {
    case 'echo':
      app = runEcho(call, { storageDir: ctx.storageDir });
      break;
    default:
      // The voicemail and attendant apps come with their issues; until then the call is held open.
      return;
  }
  app.catch(async (err: unknown) => {
    if (err instanceof CallEndedError) return;
    ctx.logger.error({ err, callId: call.callId, app: call.service.service }, 'app failed; ending the call');
    await call.hangup().catch(() => undefined);
  });
}
