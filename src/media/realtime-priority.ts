/**
 * `rtp.realtimePriority`: the thread that paces RTP (a process's main thread: SIP, the 20 ms clock, every
 * call's media) to SCHED_FIFO, so that on a machine busy with other work (a backup, a build, a PBX on the same
 * host) its 20 ms ticks run first instead of queuing for a core. Off by default; the operator turns it on where
 * nothing else on the host must come first (FreeSWITCH's -rp and Asterisk's -p are the same choice).
 *
 * Only that thread: store, disk and V8 helper threads stay ordinary (the addon sets SCHED_RESET_ON_FORK, so
 * threads started later do not inherit it). Linux's real-time throttling (sched_rt_runtime_us, 95 % by default)
 * still leaves the rest of the machine a share if the thread ever spun.
 *
 * Needs the native addon (native/rtp-io) and permission: root, CAP_SYS_NICE (systemd:
 * AmbientCapabilities=CAP_SYS_NICE) or an RLIMIT_RTPRIO at least the priority (systemd: LimitRTPRIO=).
 */
import { loadRtpIoBinding } from './native-rtp-io.js';

export type RealtimeResult = { ok: true } | { ok: false; reason: string };

/** Moves the calling thread to SCHED_FIFO at `priority` (1-99); 0 moves it back to an ordinary thread. */
export function setPacingThreadRealtime(priority: number): RealtimeResult {
  const { binding, reason } = loadRtpIoBinding();
  if (binding === undefined) return { ok: false, reason: reason ?? 'native RTP I/O not available' };
  const result = binding.setRealtime(priority);
  if (result === 0) return { ok: true };
  if (result === -1) {
    return { ok: false, reason: `not permitted (EPERM): run as root, or grant CAP_SYS_NICE (systemd AmbientCapabilities=CAP_SYS_NICE) or LimitRTPRIO=${priority}` };
  }
  return { ok: false, reason: `sched_setscheduler failed (errno ${-result})` };
}

/** Whether this process was started with --single-threaded-gc (V8 takes it only at start: serve-role.ts). */
export function hasSingleThreadedGc(): boolean {
  return process.execArgv.includes('--single-threaded-gc');
}
