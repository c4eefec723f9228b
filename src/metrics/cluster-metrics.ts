/**
 * /metrics of a cluster's front door: its own metrics and every local worker's, each series labelled with
 * the process it came from (`worker="0"`, `"1"`, ..., and `"front"` for the front door itself), in one
 * Prometheus exposition. prom-client's AggregatorRegistry speaks only to node:cluster workers; ours are
 * forked child processes (cluster/local-workers.ts), so the front door asks each over its IPC channel for
 * `registry.getMetricsAsJSON()` and merges the answers here. A worker that does not answer within the
 * timeout (hung, restarting) is left out of that scrape; `vmpilot_cluster_workers_scraped` says how many did.
 *
 * Remote workers (cluster.remote, other hosts) are scraped by Prometheus directly, on their own http.listen.
 */
import type { ChildProcess } from 'node:child_process';
import { answerRequests, askWorker } from '../cluster/ipc-request.js';
import { Registry, type Metric } from 'prom-client';
import type { MetricJson } from './pull-metric.js';
import type { ServerMetrics } from './server-metrics.js';

/** The request type a worker answers with its metrics (cluster/ipc-request.ts). */
const METRICS_REQUEST = 'metrics-request';

/** What serves /metrics: one process's registry, or a front door's merge. */
export interface MetricsEndpoint {
  contentType(): string;
  text(): Promise<string>;
}

/** The front door's own series carry this worker label. */
export const FRONT_DOOR_LABEL = 'front';
const SCRAPE_TIMEOUT_MS = 2000;

/** In a worker: answers the front door's metrics requests. Returns a function that stops answering. */
export function answerMetricsRequests(metrics: Pick<ServerMetrics, 'json'>): () => void {
  return answerRequests(METRICS_REQUEST, () => metrics.json());
}

/** Several processes' metrics in one exposition, each value labelled with its process's `worker`. */
export async function mergeLabelled(sets: readonly { worker: string; metrics: readonly MetricJson[] }[]): Promise<Registry> {
  const byName = new Map<string, MetricJson>();
  for (const { worker, metrics } of sets) {
    for (const m of metrics) {
      let merged = byName.get(m.name);
      if (!merged) {
        merged = { name: m.name, help: m.help, type: m.type, aggregator: m.aggregator, values: [] };
        byName.set(m.name, merged);
      }
      for (const v of m.values) merged.values.push({ ...v, labels: { ...v.labels, worker } });
    }
  }
  const registry = new Registry();
  for (const merged of byName.values()) {
    registry.registerMetric({ ...merged, get: async () => merged } as unknown as Metric);
  }
  return registry;
}

/** The front door's /metrics. */
export class ClusterMetrics implements MetricsEndpoint {
  constructor(
    private readonly own: ServerMetrics,
    /** The local workers' processes by index (undefined while one is restarting). */
    private readonly workers: () => readonly (ChildProcess | undefined)[],
    private readonly timeoutMs = SCRAPE_TIMEOUT_MS,
  ) {}

  contentType(): string {
    return this.own.contentType();
  }

  async text(): Promise<string> {
    const [own, ...answers] = await Promise.all([this.own.json(), ...this.workers().map((child) => askWorker<MetricJson[]>(child, METRICS_REQUEST, undefined, this.timeoutMs))]);
    const sets = [{ worker: FRONT_DOOR_LABEL, metrics: own }];
    answers.forEach((metrics, index) => metrics && sets.push({ worker: String(index), metrics }));
    const scraped: MetricJson = {
      name: 'vmpilot_cluster_workers_scraped',
      help: 'Local workers whose metrics this scrape includes (the others did not answer in time)',
      type: 'gauge',
      aggregator: 'sum',
      values: [{ labels: {}, value: sets.length - 1 }],
    };
    const registry = await mergeLabelled([...sets, { worker: FRONT_DOOR_LABEL, metrics: [scraped] }]);
    return registry.metrics();
  }
}
