/**
 * The plain-number histogram the media clock counts into (metrics/fixed-histogram.ts), its Prometheus form
 * (pull-metric.ts histogramSamples), and the front door's merge of several processes' metrics with a
 * worker label (cluster-metrics.ts mergeLabelled), read back through the text exposition.
 */
import { describe, expect, it } from 'vitest';
import { FixedHistogram } from '../../src/metrics/fixed-histogram.js';
import { histogramSamples, type MetricJson } from '../../src/metrics/pull-metric.js';
import { mergeLabelled } from '../../src/metrics/cluster-metrics.js';
import { parsePromText, sumOf } from '../helpers/prom-text.js';

describe('FixedHistogram', () => {
  it('counts each value in the first bucket whose bound it does not exceed, the rest in +Inf', () => {
    const h = new FixedHistogram([10, 20]);
    for (const v of [0, 10, 10.5, 20, 21, 500]) h.observe(v);
    expect([...h.counts]).toEqual([2, 2, 2]);
    expect(h.count).toBe(6);
    expect(h.sum).toBe(561.5);
  });

  it('is published cumulatively, scaled (ms observed, seconds exported)', () => {
    const h = new FixedHistogram([19.5, 20.5]);
    for (const v of [19, 20, 20, 40]) h.observe(v);
    const samples = histogramSamples('x_seconds', h, { a: '1' }, 0.001);
    expect(samples.map((s) => [s.metricName, s.labels.le, s.value])).toEqual([
      ['x_seconds_bucket', 0.0195, 1],
      ['x_seconds_bucket', 0.0205, 3],
      ['x_seconds_bucket', '+Inf', 4],
      ['x_seconds_sum', undefined, 0.099],
      ['x_seconds_count', undefined, 4],
    ]);
  });

  it('refuses bounds that are not ascending', () => {
    expect(() => new FixedHistogram([2, 1])).toThrow(TypeError);
  });
});

describe('mergeLabelled', () => {
  const counter = (value: number): MetricJson => ({ name: 'c_total', help: 'h', type: 'counter', aggregator: 'sum', values: [{ labels: { app: 'voicemail' }, value }] });

  it('keeps every process\'s values apart under its worker label, one HELP and TYPE per metric', async () => {
    const h = new FixedHistogram([1]);
    h.observe(0.5);
    const hist: MetricJson = { name: 'h_seconds', help: 'x', type: 'histogram', aggregator: 'sum', values: histogramSamples('h_seconds', h) };
    const text = await (
      await mergeLabelled([
        { worker: 'front', metrics: [counter(0)] },
        { worker: '0', metrics: [counter(3), hist] },
        { worker: '1', metrics: [counter(4), hist] },
      ])
    ).metrics();
    expect(text.match(/^# TYPE c_total counter$/gm)).toHaveLength(1);
    const samples = parsePromText(text);
    expect(sumOf(samples, 'c_total', { worker: '0', app: 'voicemail' })).toBe(3);
    expect(sumOf(samples, 'c_total', { worker: '1' })).toBe(4);
    expect(sumOf(samples, 'c_total', { worker: 'front' })).toBe(0);
    expect(sumOf(samples, 'h_seconds_bucket', { le: '1', worker: '1' })).toBe(1);
    expect(sumOf(samples, 'h_seconds_count')).toBe(2);
  });
});
