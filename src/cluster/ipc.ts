/**
 * What a local worker and its front door say to each other over the fork IPC channel (process.send): the
 * worker reports its health, the front door asks it to drain. Plain JSON objects; anything else is ignored.
 */
import type { TransportName } from '../sip/transport/types.js';

/** Worker → front door, every HEARTBEAT_MS and at once on every change of state or call count. */
export interface HealthReport {
  type: 'health';
  state: 'ready' | 'draining';
  calls: number;
  maxCalls: number;
  /** Where the worker listens (its ports resolved: with cluster.basePort 0 they are free ports). */
  listen: { transport: TransportName; port: number }[];
}

/** Front door → worker: stop taking calls, finish the calls in progress (up to shutdown.drainSeconds), exit. */
export interface DrainCommand {
  type: 'drain';
}

/** How often a worker reports when nothing changes. */
export const HEARTBEAT_MS = 200;
/** A worker silent this long is taken out of rotation (issue 13: within 1 s) until it reports again. */
export const HEARTBEAT_DEADLINE_MS = 1000;
/**
 * A worker silent this long is hung and is killed (and restarted). Not at HEARTBEAT_DEADLINE_MS: on a machine
 * short of CPU a worker's loop can lag past a second and catch up, and killing it then ended every call it
 * held (the capacity bench at 600 calls a worker with other work on the machine lost both workers that way).
 * Out of rotation it takes no new calls meanwhile; after this long its calls' audio is gone anyway.
 */
export const HUNG_DEADLINE_MS = 10_000;

export function isHealthReport(m: unknown): m is HealthReport {
  const r = m as Partial<HealthReport> | null;
  return typeof r === 'object' && r !== null && r.type === 'health' && typeof r.calls === 'number' && Array.isArray(r.listen);
}

export function isDrainCommand(m: unknown): m is DrainCommand {
  return typeof m === 'object' && m !== null && (m as Partial<DrainCommand>).type === 'drain';
}
