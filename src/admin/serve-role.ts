/**
 * Which process a `vmpilot serve` is, and starting it: a single server (no cluster in the config), a
 * cluster's front door (cluster.workers or --workers), or one of that front door's workers (forked by it with
 * the internal --worker-index option). Loaded only by `serve`: `check` and `--help` need none of this.
 */
import { fork } from 'node:child_process';
import type { Logger } from 'pino';
import type { ClusterConfig, Config } from '../config/schema.js';
import { hasSingleThreadedGc } from '../media/realtime-priority.js';

export interface ServeOptions {
  config?: string;
  workers?: string;
  workerIndex?: string;
}

/** What the CLI needs of whatever it started: a drain for SIGTERM. */
export interface Served {
  drain(deadlineMs: number): Promise<void>;
}

/** --workers: a count of at least 1, or "auto"; undefined when valid, else what is wrong. */
export function checkWorkersOption(text: string | undefined): string | undefined {
  if (text === undefined || text === 'auto' || /^[1-9]\d{0,2}$/.test(text)) return undefined;
  return `--workers must be a number from 1 or "auto", not "${text}"`;
}

/** The config with --workers laid over cluster.workers. */
export function withWorkersOption(config: Config, workers: string | undefined): Config {
  if (workers === undefined) return config;
  const cluster: ClusterConfig = { remote: [], ...config.cluster, workers: workers === 'auto' ? 'auto' : Number(workers) };
  return { ...config, cluster };
}

export async function startServeRole(config: Config, logger: Logger, opts: ServeOptions): Promise<Served> {
  const { workerCount } = await import('../cluster/worker-plan.js');
  if (opts.workerIndex !== undefined) {
    const { startWorker } = await import('../cluster/worker-process.js');
    const count = config.cluster ? workerCount(config.cluster.workers) : 1;
    const worker = await startWorker(config, logger, Number(opts.workerIndex), count);
    return worker;
  }
  if (config.cluster) {
    const { startFrontDoor } = await import('../cluster/front-door.js');
    const count = workerCount(config.cluster.workers);
    // Each worker is this same command (tsx from source or dist, whichever runs us: fork keeps execArgv).
    const entry = process.argv[1]!;
    const args = (index: number): string[] => [
      'serve',
      ...(opts.config !== undefined ? ['--config', opts.config] : []),
      '--workers',
      String(count),
      '--worker-index',
      String(index),
    ];
    const execArgv = [...process.execArgv, ...realtimeNodeFlags(config)];
    return startFrontDoor(config, logger, { workers: count, fork: (index) => fork(entry, args(index), { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }) });
  }
  const { startServer } = await import('../server.js');
  return startServer(config, logger);
}

/**
 * Node flags for a process whose pacing thread runs real-time (rtp.realtimePriority): V8's garbage collector
 * otherwise splits its pauses across helper threads that stay ordinary, and the real-time thread waits for
 * them while other work on the host holds the cores (measured: 26 ms pauses under load, 4 ms single-threaded).
 * --single-threaded-gc can only be given at start (V8 aborts if it is set later), so the front door gives it
 * to its workers; a single process is told in its log (media/realtime-priority.ts).
 */
export function realtimeNodeFlags(config: Config): string[] {
  return config.rtp.realtimePriority > 0 && !hasSingleThreadedGc() ? ['--single-threaded-gc'] : [];
}
