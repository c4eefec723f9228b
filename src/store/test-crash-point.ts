/**
 * TEST-ONLY fault hook: kills this process (SIGKILL, as a power cut or the OOM killer would) at a named point of a
 * store operation, when the environment variable VMPILOT_TEST_CRASH_AT names that point. Inert in production: the
 * variable is not set, and nothing else reads it. It lets the crash-safety tests stop a real process exactly in
 * the window they are about (a renumber between its folder rename and its commit), which no timing can hit
 * reliably.
 *
 * Points: 'renumber-files-moved' (a renumber's folders renamed), 'renumber-committed' (its database commit done).
 */
export type CrashPoint = 'renumber-files-moved' | 'renumber-committed';

export function testCrashPoint(point: CrashPoint): void {
  if (process.env.VMPILOT_TEST_CRASH_AT === point) process.kill(process.pid, 'SIGKILL');
}
