/**
 * Wraps an app for a test server's hooks so the test can tell when it finished and whether it failed for a
 * reason other than the caller hanging up (CallEndedError is an app's normal way out).
 */
import { CallEndedError, type Call } from '../../src/call/call.js';

export interface WatchedApp {
  /** Pass as `hooks.apps.<service>`. */
  readonly app: (call: Call) => Promise<void>;
  /** Errors other than CallEndedError, in order. */
  errors: unknown[];
  /** Apps that have returned or thrown. */
  runs: number;
}

export function watchApp(run: (call: Call) => Promise<void>): WatchedApp {
  const watched: WatchedApp = {
    errors: [],
    runs: 0,
    app: async (call) => {
      try {
        await run(call);
      } catch (err) {
        if (!(err instanceof CallEndedError)) watched.errors.push(err);
        throw err;
      } finally {
        watched.runs++;
      }
    },
  };
  return watched;
}
