/**
 * Where local workers listen and which RTP ports each owns (src/cluster/worker-plan.ts), and the config keys
 * that drive it (cluster, limits).
 *
 * Covers: worker ports from cluster.basePort (default: first listen port + 5) per distinct listen port; free
 * ports when basePort is 0 or the front door itself is on a free port; refusals (past 65535, overlapping the
 * front door); rtp.ports cut into equal even-aligned slices; 'auto' = one per core; workerConfig; the cluster
 * and limits keys (defaults, bad values).
 * Does not cover: starting workers (integration tests).
 */
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseConfig, ConfigError } from '../../src/config/load.js';
import { planWorkers, workerConfig, workerCount, workerMaxCalls } from '../../src/cluster/worker-plan.js';

const config = (yaml: string) => parseConfig(yaml, '/srv/vmpilot');

describe('planWorkers', () => {
  it('gives worker k the ports basePort + k * (distinct listen ports) + j, from the first listen port + 5 by default', () => {
    const c = config('sip: { listen: ["udp:0.0.0.0:5060", "tcp:0.0.0.0:5060", "tcp:0.0.0.0:5061"] }\ncluster: { workers: 2 }');
    const plan = planWorkers({ ...c, sip: { ...c.sip, listen: c.sip.listen.map((l, i) => (i === 2 ? { ...l, transport: 'tls' as const } : l)) } }, 2);
    expect(plan.map((p) => p.listen.map((l) => `${l.transport}:${l.port}`))).toEqual([
      ['udp:5065', 'tcp:5065', 'tls:5066'],
      ['udp:5067', 'tcp:5067', 'tls:5068'],
    ]);
  });

  it('uses free ports when cluster.basePort is 0 or the front door is on a free port', () => {
    expect(planWorkers(config('sip: { listen: ["udp:127.0.0.1:5060"] }\ncluster: { workers: 2, basePort: 0 }'), 2)[1]!.listen[0]!.port).toBe(0);
    expect(planWorkers(config('sip: { listen: ["udp:127.0.0.1:0"] }\ncluster: { workers: 2 }'), 2)[1]!.listen[0]!.port).toBe(0);
  });

  it('refuses ports past 65535 and ports that include the front door\'s', () => {
    expect(() => planWorkers(config('sip: { listen: ["udp:127.0.0.1:5060"] }\ncluster: { workers: 2, basePort: 65535 }'), 2)).toThrow(/past 65535/);
    expect(() => planWorkers(config('sip: { listen: ["udp:127.0.0.1:5060"] }\ncluster: { workers: 2, basePort: 5059 }'), 2)).toThrow(/front door's port 5060/);
  });

  it('cuts rtp.ports into one equal slice per worker, each a whole number of even/odd pairs', () => {
    const plan = planWorkers(config('rtp: { ports: "20000-29999" }\ncluster: { workers: 3 }'), 3);
    expect(plan.map((p) => [p.rtpMin, p.rtpMax])).toEqual([
      [20000, 23331],
      [23332, 26663],
      [26664, 29995],
    ]);
  });

  it('refuses an RTP range too small for one pair per worker', () => {
    expect(() => planWorkers(config('rtp: { ports: "20000-20003" }'), 3)).toThrow(/too small for 3 workers/);
  });
});

describe('workerCount and workerConfig', () => {
  it('counts "auto" as one worker per core', () => {
    expect(workerCount('auto')).toBe(availableParallelism());
    expect(workerCount(3)).toBe(3);
  });

  it('gives a worker its own ports and RTP slice and no cluster section (it is an ordinary server)', () => {
    const c = config('sip: { listen: ["udp:127.0.0.1:5060"] }\nrtp: { ports: "20000-20099" }\ncluster: { workers: 2 }');
    const w = workerConfig(c, planWorkers(c, 2)[1]!);
    expect(w.sip.listen).toEqual([{ transport: 'udp', host: '127.0.0.1', port: 5066 }]);
    expect([w.rtp.portMin, w.rtp.portMax]).toEqual([20050, 20099]);
    expect(w.cluster).toBeUndefined();
  });
});

describe('workerMaxCalls', () => {
  it('is limits.maxCalls, or the RTP port pairs of the worker\'s slice when there are fewer', () => {
    const c = config('rtp: { ports: "20000-20099" }\nlimits: { maxCalls: 30 }');
    const [first] = planWorkers(c, 2);
    expect(workerMaxCalls(c, first!)).toBe(25);
    const roomy = config('limits: { maxCalls: 30 }');
    expect(workerMaxCalls(roomy, planWorkers(roomy, 2)[0]!)).toBe(30);
  });
});

describe('the cluster and limits keys', () => {
  it('defaults: no cluster (single-process mode), limits.maxCalls 600; cluster.workers "auto" when the section is there', () => {
    const c = config('');
    expect(c.cluster).toBeUndefined();
    expect(c.limits.maxCalls).toBe(600);
    expect(config('cluster: {}').cluster).toEqual({ workers: 'auto', remote: [] });
  });

  it('reports bad values at their paths', () => {
    const issues = (yaml: string): string[] => {
      try {
        config(yaml);
      } catch (err) {
        if (err instanceof ConfigError) return err.issues.map((i) => i.path);
        throw err;
      }
      return [];
    };
    expect(issues('cluster: { workers: "many" }')).toEqual(['cluster.workers']);
    expect(issues('cluster: { workers: 0 }')).toEqual(['cluster.workers']);
    expect(issues('cluster: { remote: ["http://x"] }')).toEqual(['cluster.remote[0]']);
    expect(issues('cluster: { nodes: 2 }')).toEqual(['cluster.nodes']);
    expect(issues('limits: { maxCalls: 0 }')).toEqual(['limits.maxCalls']);
  });
});
