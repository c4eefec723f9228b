/**
 * The local workers of a front door: one child process each (the same `vmpilot` command, forked with an IPC
 * channel), watched and restarted. A worker is in the rotation only while it reports (ipc.ts): one that exits
 * is out at once and restarted after a back-off that grows while it keeps dying young; one silent for
 * HEARTBEAT_DEADLINE_MS is out until it reports again, and killed (then restarted) if it stays silent for
 * HUNG_DEADLINE_MS. Calls on the other workers never notice: each is its own process with its own sockets.
 */
import type { ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { HEARTBEAT_DEADLINE_MS, HEARTBEAT_MS, HUNG_DEADLINE_MS, isHealthReport, type DrainCommand } from './ipc.js';
import { WorkerState, type WorkerEntry, type WorkerTable } from './health.js';

export interface LocalWorkersOptions {
  count: number;
  table: WorkerTable;
  logger: Logger;
  /** Starts worker `index` as a child process with an IPC channel. */
  fork(index: number): ChildProcess;
  /** A worker that has not reported this long after its start is killed and started again. Default 30 s. */
  startDeadlineMs?: number;
  /** First restart delay; it doubles while workers die within MIN_UPTIME_MS of their start. Default 250 ms. */
  restartMinMs?: number;
  /** Longest restart delay. Default 10 s. */
  restartMaxMs?: number;
}

/** A worker that ran this long before dying was healthy: its next restart starts from the shortest delay. */
const MIN_UPTIME_MS = 10_000;

interface Slot {
  index: number;
  entry: WorkerEntry;
  child: ChildProcess | undefined;
  startedAt: number;
  /** When its last report arrived; 0 before the first. */
  lastReport: number;
  restartDelayMs: number;
  restartTimer: NodeJS.Timeout | undefined;
}

export class LocalWorkers {
  private readonly slots: Slot[];
  private readonly watchdog: NodeJS.Timeout;
  private stopping = false;
  private readonly exitWaiters: (() => void)[] = [];
  private readonly log: Logger;

  constructor(private readonly opts: LocalWorkersOptions) {
    this.log = opts.logger;
    this.slots = Array.from({ length: opts.count }, (_, index) => ({
      index,
      entry: opts.table.add(`worker ${index}`, false),
      child: undefined,
      startedAt: 0,
      lastReport: 0,
      restartDelayMs: opts.restartMinMs ?? 250,
      restartTimer: undefined,
    }));
    // One timer for all workers, not one per worker: the heartbeat deadline is checked every beat.
    this.watchdog = setInterval(() => this.checkHeartbeats(), HEARTBEAT_MS);
    this.watchdog.unref();
  }

  start(): void {
    for (const slot of this.slots) this.spawn(slot);
  }

  /** The workers' processes by index; undefined while one is restarting (metrics/cluster-metrics.ts asks them). */
  children(): (ChildProcess | undefined)[] {
    return this.slots.map((s) => s.child);
  }

  /** Process ids of the running workers, by index (tests, logs). */
  pids(): (number | undefined)[] {
    return this.slots.map((s) => s.child?.pid);
  }

  /**
   * Asks every worker to drain (stop taking calls, finish those in progress, exit) and restarts none.
   * Resolves when all have exited.
   */
  drain(): Promise<void> {
    this.stopping = true;
    for (const slot of this.slots) {
      clearTimeout(slot.restartTimer);
      if (slot.child?.connected) slot.child.send({ type: 'drain' } satisfies DrainCommand);
      if (slot.child) this.opts.table.setState(slot.entry, WorkerState.Draining);
    }
    return this.allExited();
  }

  /** Kills every worker now (after the drain deadline). */
  kill(): void {
    this.stopping = true;
    clearInterval(this.watchdog);
    for (const slot of this.slots) {
      clearTimeout(slot.restartTimer);
      slot.child?.kill('SIGKILL');
    }
  }

  private allExited(): Promise<void> {
    if (this.slots.every((s) => !s.child)) return Promise.resolve();
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  private spawn(slot: Slot): void {
    slot.restartTimer = undefined;
    const child = this.opts.fork(slot.index);
    slot.child = child;
    slot.startedAt = Date.now();
    slot.lastReport = 0;
    this.opts.table.setState(slot.entry, WorkerState.Starting);
    this.log.info({ worker: slot.index, workerPid: child.pid }, 'worker started');
    child.on('message', (m: unknown) => {
      if (!isHealthReport(m) || slot.child !== child) return;
      const first = slot.lastReport === 0;
      if (slot.entry.state === WorkerState.Silent) this.log.warn({ worker: slot.index, workerPid: child.pid, silentMs: Date.now() - slot.lastReport }, 'worker reporting again: back in rotation');
      slot.lastReport = Date.now();
      if (this.stopping && m.state === 'ready') return; // a report sent before our drain command arrived
      this.opts.table.report(slot.entry, {
        state: m.state === 'ready' ? WorkerState.Ready : WorkerState.Draining,
        calls: m.calls,
        maxCalls: m.maxCalls,
        endpoints: m.listen.map((l) => ({ transport: l.transport, port: l.port })),
      });
      if (first) this.log.info({ worker: slot.index, workerPid: child.pid, listen: m.listen }, 'worker ready');
    });
    child.on('error', (err) => this.log.error({ err, worker: slot.index }, 'worker process error'));
    child.once('exit', (code, signal) => this.exited(slot, child, code, signal));
  }

  private exited(slot: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.child !== child) return;
    slot.child = undefined;
    this.opts.table.setState(slot.entry, WorkerState.Dead);
    if (this.stopping) {
      this.log.info({ worker: slot.index, workerPid: child.pid, code, signal }, 'worker stopped');
      if (this.slots.every((s) => !s.child)) for (const wake of this.exitWaiters.splice(0)) wake();
      return;
    }
    const max = this.opts.restartMaxMs ?? 10_000;
    const min = this.opts.restartMinMs ?? 250;
    const young = Date.now() - slot.startedAt < MIN_UPTIME_MS;
    const delay = young ? slot.restartDelayMs : min;
    slot.restartDelayMs = young ? Math.min(max, delay * 2) : min;
    this.log.error({ worker: slot.index, workerPid: child.pid, code, signal, restartInMs: delay }, 'worker died: out of rotation, restarting');
    slot.restartTimer = setTimeout(() => this.spawn(slot), delay);
  }

  /**
   * A worker that stopped reporting (a blocked or starved event loop, a stopped process) is out of rotation
   * at once; one silent past HUNG_DEADLINE_MS (or that never reported within the start deadline) is hung:
   * killed, and restarted when it has exited.
   */
  private checkHeartbeats(): void {
    const now = Date.now();
    for (const slot of this.slots) {
      const child = slot.child;
      if (!child || this.stopping || slot.entry.state === WorkerState.Dead) continue;
      const silentMs = now - (slot.lastReport || slot.startedAt);
      const hung = slot.lastReport === 0 ? silentMs > (this.opts.startDeadlineMs ?? 30_000) : silentMs > HUNG_DEADLINE_MS;
      if (hung) {
        this.log.error({ worker: slot.index, workerPid: child.pid, silentMs }, 'worker hung: killing it');
        this.opts.table.setState(slot.entry, WorkerState.Dead);
        child.kill('SIGKILL');
      } else if (slot.lastReport !== 0 && silentMs > HEARTBEAT_DEADLINE_MS && slot.entry.state !== WorkerState.Silent) {
        this.log.error({ worker: slot.index, workerPid: child.pid, silentMs }, 'worker silent: out of rotation');
        this.opts.table.setState(slot.entry, WorkerState.Silent);
      }
    }
  }
}
