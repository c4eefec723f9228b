/**
 * The front door's view of its workers: which can take a call, and which one gets the next (issue 13).
 *
 * The choice: among local workers that are ready and not full, the one with the fewest calls, ties broken in
 * turn (so idle workers all get calls). A worker's load is the call count it last reported plus the calls
 * redirected to it since that report: at 300 calls/s and a report every 200 ms, 60 redirects would otherwise
 * all go to the one worker that looked idlest. Remote workers report no call count (they are plain vmpilot
 * servers, health-checked by OPTIONS): they take calls in turn when no local worker can, or always when there
 * are no local workers. Never a worker that is starting, draining, dead or full.
 */
import type { TransportName } from '../sip/transport/types.js';

export enum WorkerState {
  /** Forked (or configured), not yet answering: gets no calls. */
  Starting = 'starting',
  /** Answering calls. */
  Ready = 'ready',
  /** Finishing its calls before it stops: gets no new ones. */
  Draining = 'draining',
  /** A local worker past its heartbeat deadline: gets no calls until it reports again (or is killed as hung). */
  Silent = 'silent',
  /** Exited, silent past its heartbeat deadline, or (remote) missed its OPTIONS checks. */
  Dead = 'dead',
}

/** Where a worker takes calls over one transport. `host` absent: the host the PBX reached the front door on. */
export interface WorkerEndpoint {
  transport: TransportName;
  host?: string;
  port: number;
}

export interface WorkerEntry {
  /** "worker 0", or a remote worker's URI: used in logs. */
  readonly name: string;
  readonly remote: boolean;
  state: WorkerState;
  /** As last reported (local workers); undefined for remote workers. */
  calls: number | undefined;
  maxCalls: number | undefined;
  endpoints: WorkerEndpoint[];
  /** Calls redirected here since the last report. */
  redirectedSinceReport: number;
}

export interface Choice {
  worker: WorkerEntry;
  endpoint: WorkerEndpoint;
}

export class WorkerTable {
  private readonly entries: WorkerEntry[] = [];
  /** Index of the last entry chosen: ties go to the next one after it. */
  private last = -1;

  add(name: string, remote: boolean, endpoints: WorkerEndpoint[] = []): WorkerEntry {
    const entry: WorkerEntry = { name, remote, state: WorkerState.Starting, calls: undefined, maxCalls: undefined, endpoints, redirectedSinceReport: 0 };
    this.entries.push(entry);
    return entry;
  }

  all(): readonly WorkerEntry[] {
    return this.entries;
  }

  /** A local worker's report: its state, live calls, limit and (on free ports) where it listens. */
  report(entry: WorkerEntry, report: { state: WorkerState; calls: number; maxCalls: number; endpoints?: WorkerEndpoint[] }): void {
    entry.state = report.state;
    entry.calls = report.calls;
    entry.maxCalls = report.maxCalls;
    if (report.endpoints) entry.endpoints = report.endpoints;
    entry.redirectedSinceReport = 0;
  }

  setState(entry: WorkerEntry, state: WorkerState): void {
    entry.state = state;
    if (state !== WorkerState.Ready) entry.redirectedSinceReport = 0;
  }

  /** Whether some worker could take a call now, over any transport (OPTIONS answers 200 then). */
  canTakeCalls(): boolean {
    return this.entries.some((e) => this.available(e));
  }

  /** The worker for the next call over `transport`, counted as redirected there; undefined when none can. */
  choose(transport: TransportName): Choice | undefined {
    const pick = this.pickFrom(transport, false) ?? this.pickFrom(transport, true);
    if (!pick) return undefined;
    pick.worker.redirectedSinceReport += 1;
    this.last = this.entries.indexOf(pick.worker);
    return pick;
  }

  private pickFrom(transport: TransportName, remote: boolean): Choice | undefined {
    let best: Choice | undefined;
    let bestLoad = Infinity;
    const n = this.entries.length;
    // Start after the last one chosen and keep the first of equals: ties are taken in turn.
    for (let i = 1; i <= n; i++) {
      const worker = this.entries[(this.last + i) % n]!;
      if (worker.remote !== remote || !this.available(worker)) continue;
      const endpoint = worker.endpoints.find((e) => e.transport === transport);
      if (!endpoint) continue;
      const load = remote ? 0 : this.load(worker);
      if (load < bestLoad) {
        best = { worker, endpoint };
        bestLoad = load;
      }
    }
    return best;
  }

  private load(e: WorkerEntry): number {
    return (e.calls ?? 0) + e.redirectedSinceReport;
  }

  private available(e: WorkerEntry): boolean {
    if (e.state !== WorkerState.Ready) return false;
    return e.maxCalls === undefined || this.load(e) < e.maxCalls;
  }
}
