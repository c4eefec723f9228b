/**
 * The worker side of the cluster, in a process forked by the front door (local-workers.ts): an ordinary
 * vmpilot server on the worker's own ports and RTP slice (worker-plan.ts) that reports its health over IPC,
 * without the jobs exactly one process must do (MWI NOTIFYs, SUBSCRIBE dialogs, provisioning and expiry: the
 * front door does those).
 *
 * It drains when the front door asks, and also when the front door is gone (the IPC channel closes): a
 * worker never outlives its front door for longer than its calls.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { startServer, type RunningServer, type ServerHooks } from '../server.js';
import { HEARTBEAT_MS, isDrainCommand, type HealthReport } from './ipc.js';
import { planWorkers, workerConfig, workerMaxCalls } from './worker-plan.js';
import { answerMetricsRequests } from '../metrics/cluster-metrics.js';
import { answerLiveCallRequests, localLiveCalls } from '../http/live-calls.js';

export interface RunningWorker {
  server: RunningServer;
  /** Reports `draining`, then drains the server (idempotent). Resolves when it has closed. */
  drain(deadlineMs: number): Promise<void>;
}

/** `hooks` are passed on to startServer (bench/capacity-server.ts runs its benchmark app in each worker). */
export async function startWorker(config: Config, logger: Logger, index: number, count: number, hooks: ServerHooks = {}): Promise<RunningWorker> {
  const plan = planWorkers(config, count)[index];
  if (!plan) throw new Error(`worker index ${index} is not below the worker count ${count}`);
  const maxCalls = workerMaxCalls(config, plan);
  const send = (report: HealthReport): void => {
    if (process.connected) process.send?.(report);
  };
  let draining = false;
  let server: RunningServer | undefined;
  // Reports are coalesced: at hundreds of calls per second, one per turn of the event loop at most.
  let pending = false;
  const report = (): void => {
    if (!server) return;
    send({
      type: 'health',
      state: draining ? 'draining' : 'ready',
      calls: server.calls.size,
      maxCalls,
      listen: server.addresses().map((a) => ({ transport: a.transport as HealthReport['listen'][number]['transport'], port: a.port })),
    });
  };
  const reportSoon = (): void => {
    if (pending) return;
    pending = true;
    setImmediate(() => {
      pending = false;
      report();
    });
  };
  server = await startServer(workerConfig(config, plan), logger, { ...hooks, mwi: false, storeMaintenance: false, http: false, onCallsChanged: reportSoon, worker: index });
  // The front door's /metrics asks each worker for its own (cluster-metrics.ts).
  answerMetricsRequests(server.metrics);
  // The front door's /api/live-calls asks each worker for its calls and to hang one up (http/live-calls.ts).
  answerLiveCallRequests(localLiveCalls(server.calls));
  const heartbeat = setInterval(report, HEARTBEAT_MS);
  report();

  let drained: Promise<void> | undefined;
  const drain = (deadlineMs: number): Promise<void> => {
    drained ??= (async () => {
      draining = true;
      report();
      try {
        await server.drain(deadlineMs);
      } finally {
        clearInterval(heartbeat);
      }
    })();
    return drained;
  };
  const deadlineMs = config.shutdown.drainSeconds * 1000;
  const onDrainOrGone = (message?: unknown): void => {
    if (message !== undefined && !isDrainCommand(message)) return;
    logger.info({ reason: message === undefined ? 'front door gone' : 'front door asked' }, 'worker draining');
    void drain(deadlineMs).then(() => process.exit(0));
  };
  process.on('message', onDrainOrGone);
  process.once('disconnect', () => onDrainOrGone());
  return { server, drain };
}
