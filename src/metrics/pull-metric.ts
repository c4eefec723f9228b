/**
 * A metric whose values are read when /metrics is scraped, from plain numbers the counting code keeps
 * (SIP traffic, RTP packets, the pacing histogram, calls in progress). prom-client's Registry takes any object
 * with a name, help, type and get(); this is that object, so the counting code never calls prom-client and the
 * registry's text and JSON forms (getMetricsAsJSON, used to gather workers' metrics) work unchanged.
 */
import type { Metric, Registry } from 'prom-client';
import type { FixedHistogram } from './fixed-histogram.js';

export type Labels = Record<string, string | number>;

/** One sample as prom-client's JSON form has it (histograms name their _bucket/_sum/_count series). */
export interface Sample {
  value: number;
  labels: Labels;
  metricName?: string;
}

/** prom-client's JSON form of one metric (Registry.getMetricsAsJSON). */
export interface MetricJson {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary';
  aggregator: string;
  values: Sample[];
}

export interface PullMetricSpec {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  /** The samples now; may be async (a store query). */
  read(): Sample[] | Promise<Sample[]>;
}

/** Registers a metric read at scrape time. */
export function registerPull(registry: Registry, spec: PullMetricSpec): void {
  const metric = {
    name: spec.name,
    help: spec.help,
    type: spec.type,
    aggregator: 'sum',
    async get(): Promise<MetricJson> {
      return { name: spec.name, help: spec.help, type: spec.type, aggregator: 'sum', values: await spec.read() };
    },
    reset(): void {},
  };
  registry.registerMetric(metric as unknown as Metric);
}

/**
 * A FixedHistogram's samples in Prometheus' cumulative form: `name_bucket{le}` per bound and +Inf, `name_sum`,
 * `name_count`. `scale` converts the observed unit to the exported one (ms observed, seconds exported: 0.001).
 */
export function histogramSamples(name: string, h: FixedHistogram, labels: Labels = {}, scale = 1): Sample[] {
  const out: Sample[] = [];
  let cumulative = 0;
  for (let i = 0; i < h.bounds.length; i++) {
    cumulative += h.counts[i]!;
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: roundBound(h.bounds[i]! * scale) }, value: cumulative });
  }
  cumulative += h.counts[h.bounds.length]!;
  out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: cumulative });
  out.push({ metricName: `${name}_sum`, labels, value: h.sum * scale });
  out.push({ metricName: `${name}_count`, labels, value: h.count });
  return out;
}

/** 0.0195 rather than 0.019500000000000003 in the `le` label. */
function roundBound(v: number): number {
  return Number(v.toPrecision(12));
}
