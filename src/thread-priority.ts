/**
 * Lowering one thread's CPU priority below the thread that paces RTP. On Linux, nice is a property of each
 * thread (setpriority(PRIO_PROCESS, tid)), and a thread a process starts runs at the process's nice value: a
 * helper thread that writes recordings competes for a core on equal terms with the main thread, whose 20 ms
 * ticks are late by whatever it takes. Work that may lag by seconds without harm (a recording's writes, held in
 * memory meanwhile) is better done at a lower priority, so that on a full machine the pacing thread runs first.
 *
 * Not for a thread that holds a lock other processes wait on (the store thread's SQLite write lock): a
 * lower priority would lengthen every other process's wait (priority inversion).
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** How much nicer than the process a yielding thread runs (nice 0 -> 5: a third of the CPU weight). */
export const HELPER_NICENESS = 5;

/**
 * Makes the calling thread HELPER_NICENESS nicer than it is. Returns its thread id, or undefined where this is
 * not possible (not Linux: /proc/thread-self is missing; the process is at the lowest priority already is fine).
 * Reads /proc once, synchronously: call it once when a helper thread starts, never on a hot path.
 */
export function yieldToPacingThread(): number | undefined {
  try {
    // "PID/task/TID" for the calling thread.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return undefined;
    setPriority(tid, Math.min(19, getPriority(tid) + HELPER_NICENESS));
    return tid;
  } catch {
    return undefined;
  }
}
