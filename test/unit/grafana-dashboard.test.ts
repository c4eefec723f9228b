/**
 * examples/grafana/vmpilot.json is valid dashboard JSON whose queries name only metrics vmpilot exports
 * (a renamed metric would leave a panel silently empty).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ServerMetrics } from '../../src/metrics/server-metrics.js';

const dashboard = JSON.parse(readFileSync(new URL('../../examples/grafana/vmpilot.json', import.meta.url), 'utf8')) as {
  title: string;
  panels: { type: string; title: string; targets?: { expr: string }[] }[];
};

describe('the Grafana dashboard', () => {
  it('has panels for calls, SIP, RTP, pacing, loop delay, store, MWI, logins and the IMAP append queue', () => {
    const titles = dashboard.panels.map((p) => p.title.toLowerCase()).join('\n');
    for (const word of ['calls', 'sip', 'rtp', 'pacing', 'event loop', 'store', 'mwi', 'pin', 'imap append queue']) expect(titles).toContain(word);
  });

  it('calls only PromQL functions that exist (a mangled name leaves a panel broken)', () => {
    const known = new Set(['sum', 'max', 'min', 'avg', 'rate', 'increase', 'histogram_quantile', 'by']);
    const called = dashboard.panels.flatMap((p) => p.targets ?? []).flatMap((t) => [...t.expr.matchAll(/([A-Za-z_][A-Za-z0-9_.]*)\s*\(/g)].map((m) => m[1]!));
    expect(called.length).toBeGreaterThan(20);
    expect([...new Set(called.filter((f) => !known.has(f)))]).toEqual([]);
  });

  it('queries only metrics a vmpilot process exports', async () => {
    const metrics = new ServerMetrics();
    const exported = new Set((await metrics.json()).map((m) => m.name));
    metrics.close();
    exported.add('vmpilot_cluster_workers_scraped'); // the front door's (metrics/cluster-metrics.ts)
    const queried = dashboard.panels.flatMap((p) => p.targets ?? []).flatMap((t) => [...t.expr.matchAll(/\b((?:vmpilot|process|nodejs)_[a-z_]+)/g)].map((m) => m[1]!));
    const base = (name: string): string => name.replace(/_(bucket|count|sum)$/, '');
    expect(queried.length).toBeGreaterThan(20);
    expect([...new Set(queried.filter((n) => !exported.has(n) && !exported.has(base(n))))]).toEqual([]);
  });
});
