import { clampTimerMs } from '../timer-limit.js';

/**
 * The named timers one transaction or dialog owns. Starting a timer that is already running restarts it;
 * clearAll() on termination guarantees nothing fires after the owner is gone (STYLE.md: one idempotent close).
 * Every delay is clamped (timer-limit.ts): session and dialog timers are computed from values a peer sent.
 */
export class TimerBag<Name extends string> {
  private readonly handles = new Map<Name, NodeJS.Timeout>();

  start(name: Name, ms: number, fire: () => void): void {
    this.stop(name);
    const handle = setTimeout(() => {
      this.handles.delete(name);
      fire();
    }, clampTimerMs(ms));
    this.handles.set(name, handle);
  }

  stop(name: Name): void {
    const handle = this.handles.get(name);
    if (handle !== undefined) {
      clearTimeout(handle);
      this.handles.delete(name);
    }
  }

  running(name: Name): boolean {
    return this.handles.has(name);
  }

  clearAll(): void {
    for (const handle of this.handles.values()) clearTimeout(handle);
    this.handles.clear();
  }
}
