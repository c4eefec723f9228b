/**
 * Starts the app that owns a call's service once the call is answered and confirmed, and contains its
 * failures: an app's CallEndedError is the normal way out when the caller hangs up; anything else is a bug,
 * logged, and the call is ended politely rather than left open and silent.
 */
import type { Logger } from 'pino';
import { CallEndedError, type Call } from '../call/call.js';
import { runEcho } from './echo.js';
import type { ServiceName } from '../call/router.js';

export interface AppContext {
  logger: Logger;
  storageDir: string;
}

/** An app: plain async code over the Call API. */
export type AppFunction = (call: Call, ctx: AppContext) => Promise<void>;

const APPS: Partial<Record<ServiceName, AppFunction>> = {
  echo: (call, ctx) => runEcho(call, { storageDir: ctx.storageDir }),
};

export function runApp(call: Call, ctx: AppContext, override?: AppFunction): void {
  const app = override ?? APPS[call.service.service];
  // Every service has an app; a number routed to none is held open rather than dropped.
  if (!app) return;
  // Promise.resolve().then: an app that throws synchronously is handled like one that rejects.
  Promise.resolve().then(() => app(call, ctx)).catch(async (err: unknown) => {
    if (err instanceof CallEndedError) return;
    ctx.logger.error({ err, callId: call.callId, app: call.service.service }, 'app failed; ending the call');
    // A full disk or a broken file must not leave the caller in silence: say so, then hang up.
    await call.play(['sorry_try_later'], { bargeIn: false }).catch(() => undefined);
    await call.hangup().catch(() => undefined);
  });
}
