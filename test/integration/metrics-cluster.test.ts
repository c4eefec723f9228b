/**
 * /metrics and call records of a cluster, as an operator runs it: `vmpilot serve` with `cluster: { workers: 2 }`
 * (the real CLI, real worker processes) and its HTTP API on a free port. A call to a number nobody serves is
 * placed on each worker (SIPp straight to the worker's port, as the PBX does after the front door's 302).
 *
 * Covers: the front door's /metrics holds each worker's series labelled worker="0" and worker="1" (its
 * own labelled "front"), with the rejected call counted on the worker that took it, and
 * vmpilot_cluster_workers_scraped 2; GET /api/calls on the front door lists both calls with their worker.
 * Does not cover: a worker that does not answer the scrape (left out; the gauge says so), remote workers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken, newToken } from '../../src/http/tokens.js';
import { startCluster, workerPort, type Cluster } from '../helpers/cluster.js';
import { parsePromText, sumOf } from '../helpers/prom-text.js';
import { runSipp } from '../helpers/sipp.js';

const token = newToken();
let cluster: Cluster;
let url: string;

const get = (path: string): Promise<Response> => fetch(url + path, { headers: { authorization: `Bearer ${token}` } });

beforeAll(async () => {
  cluster = await startCluster({
    workers: 2,
    extraYaml: `http: { listen: "127.0.0.1:0", tokens: [{ name: ops, hash: "${hashToken(token)}" }] }`,
  });
  url = (await cluster.waitForLog((r) => r.msg === 'vmpilot http listening', 'the front door\'s HTTP listener')).url as string;
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
});

describe("a cluster's front door", () => {
  it('serves each worker\'s metrics labelled by worker, a call counted on the worker that took it', async () => {
    for (const worker of [0, 1]) {
      const result = await runSipp({ scenario: 'uac-rejected-404.xml', transport: 'udp', port: workerPort(cluster, worker), service: '99999', timeoutS: 20 });
      expect(result.code, result.stderr).toBe(0);
    }
    // Each worker counts its call when the record is made (at once for a rejected INVITE).
    let samples = parsePromText(await (await get('/metrics')).text());
    for (let i = 0; i < 100 && sumOf(samples, 'vmpilot_calls_total') < 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
      samples = parsePromText(await (await get('/metrics')).text());
    }
    for (const worker of ['0', '1']) {
      expect(sumOf(samples, 'vmpilot_calls_total', { worker, app: 'none', outcome: 'rejected' })).toBe(1);
      expect(sumOf(samples, 'vmpilot_sip_responses_total', { worker, direction: 'out', method: 'INVITE', code: '404' })).toBe(1);
      expect(samples.some((s) => s.name === 'process_cpu_seconds_total' && s.labels.worker === worker)).toBe(true);
    }
    expect(sumOf(samples, 'vmpilot_calls_total', { worker: 'front' })).toBe(0);
    expect(sumOf(samples, 'vmpilot_cluster_workers_scraped')).toBe(2);
    // Every series says which process it came from.
    expect(samples.filter((s) => !['0', '1', 'front'].includes(s.labels.worker ?? ''))).toEqual([]);
  }, 60_000);

  it('GET /api/calls lists both calls, each with the worker that carried it', async () => {
    let calls: { outcome: string; worker: number | null }[] = [];
    // Workers write their records within a second (call-records/writer.ts).
    for (let i = 0; i < 60 && calls.length < 2; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      calls = (await (await get('/api/calls?since=1h')).json()) as typeof calls;
    }
    expect(calls.map((c) => c.outcome)).toEqual(['rejected', 'rejected']);
    expect(calls.map((c) => c.worker).sort()).toEqual([0, 1]);
  }, 30_000);
});
