/**
 * Starts the app that owns a call's service once the call is answered and confirmed, and contains its
 * failures: an app's CallEndedError is the normal way out when the caller hangs up; anything else is a bug,
 * logged, and the call is ended politely rather than left open and silent.
 */
import type { Logger } from 'pino';
import { CallEndedError, type Call } from '../call/call.js';
import type { ServiceName } from '../call/router.js';

export interface AppContext {
  logger: Logger;
  storageDir: string;
}

/** An app: plain async code over the Call API. */
export type AppFunction = (call: Call, ctx: AppContext) => Promise<void>;

/**
 * Which app runs each service. The server's is the built-in voicemail, attendant and echo apps; an embedding
 * puts its own code over the Call API in their place (the capacity benchmark and the Call API's tests do).
 */
export type AppRegistry = Partial<Record<ServiceName, AppFunction>>;

/**
 * Runs the call's app. The promise resolves (never rejects) when the app is done: after the call ended, what
 * the app did on its way out (a message stored after a hang-up) is done too, so the call's record is complete.
 */
export function runApp(call: Call, ctx: AppContext, apps: AppRegistry): Promise<void> {
  const app = apps[call.service.service];
  // Every service has an app; a number routed to none is held open rather than dropped.
  if (!app) return Promise.resolve();
  // Promise.resolve().then: an app that throws synchronously is handled like one that rejects.
  return Promise.resolve().then(() => app(call, ctx)).catch(async (err: unknown) => {
    if (err instanceof CallEndedError) return;
    ctx.logger.error({ err, callId: call.callId, app: call.service.service }, 'app failed; ending the call');
    // A full disk or a broken file must not leave the caller in silence: say so, then hang up.
    await call.play(['sorry_try_later'], { bargeIn: false }).catch(() => undefined);
    await call.hangup().catch(() => undefined);
  });
}
