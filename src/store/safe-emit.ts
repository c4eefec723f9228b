/**
 * Store events reach listeners that are not the store's (MWI, the directory, the router's number set): one that
 * throws must not stop the others, fail the store call that announced the change, or (in the store thread's
 * proxy, called from a message port) become an uncaught exception. Each listener runs in its own try.
 */
import type { EventEmitter } from 'node:events';

export function emitSafely(emitter: EventEmitter, event: string, args: readonly unknown[], onError: (err: unknown) => void): void {
  for (const listener of emitter.rawListeners(event) as ((...a: unknown[]) => void)[]) {
    try {
      listener(...args);
    } catch (err) {
      onError(err);
    }
  }
}
