/**
 * The longest delay a Node.js timer can hold. setTimeout keeps its delay as a signed 32-bit count of
 * milliseconds; a longer one (a Session-Expires of 2,147,484 s and up, a Retry-After of a month) is not an
 * error: Node warns once and fires after 1 ms. A value from the wire must therefore never reach a timer
 * unclamped, or a peer can end a call (or start a retry storm) by asking for "forever".
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * `ms` made safe for setTimeout: at most MAX_TIMER_MS (about 24.8 days; a timer that long is as good as
 * "never" for a call or a transaction), at least 0. NaN, which Node would also turn into 1 ms, becomes the
 * maximum: a value nobody could read must not make something happen at once.
 */
export function clampTimerMs(ms: number): number {
  if (Number.isNaN(ms)) return MAX_TIMER_MS;
  return Math.min(MAX_TIMER_MS, Math.max(0, ms));
}
