/**
 * The front door's choice of worker (src/cluster/health.ts, WorkerTable).
 *
 * Covers: the ready worker with the fewest calls; ties taken in turn; calls redirected since a worker's last
 * report counted as its load; never a worker that is starting, draining, dead or full; only workers that
 * listen on the request's transport; remote workers (no call count) only when no local worker can take the
 * call, in turn; canTakeCalls for OPTIONS.
 * Does not cover: where the reports come from (local-workers.ts, remote-workers.ts; integration tests).
 */
import { describe, expect, it } from 'vitest';
import { WorkerState, WorkerTable, type WorkerEntry } from '../../src/cluster/health.js';

const UDP = [{ transport: 'udp' as const, port: 5065 }];

function table(calls: number[], maxCalls = 600): { t: WorkerTable; workers: WorkerEntry[] } {
  const t = new WorkerTable();
  const workers = calls.map((n, i) => {
    const w = t.add(`worker ${i}`, false);
    t.report(w, { state: WorkerState.Ready, calls: n, maxCalls, endpoints: [{ transport: 'udp', port: 5065 + i }] });
    return w;
  });
  return { t, workers };
}

const names = (t: WorkerTable, n: number): (string | undefined)[] => Array.from({ length: n }, () => t.choose('udp')?.worker.name);

describe('WorkerTable.choose', () => {
  it('picks the ready worker with the fewest calls', () => {
    const { t } = table([5, 2, 7]);
    expect(t.choose('udp')?.worker.name).toBe('worker 1');
  });

  it('takes ties in turn, so that idle workers all get calls', () => {
    const { t, workers } = table([0, 0, 0]);
    // Each redirect counts until the next report; reset the counts to keep the three tied.
    const picks = Array.from({ length: 6 }, () => {
      const name = t.choose('udp')!.worker.name;
      for (const w of workers) t.report(w, { state: WorkerState.Ready, calls: 0, maxCalls: 600 });
      return name;
    });
    expect(picks).toEqual(['worker 0', 'worker 1', 'worker 2', 'worker 0', 'worker 1', 'worker 2']);
  });

  it('counts calls redirected since the last report, so a burst between reports is spread', () => {
    const { t } = table([10, 0]);
    // worker 1 takes the first ten (0..9 < 10), then the two alternate.
    const picks = names(t, 14);
    expect(picks.slice(0, 10).every((n) => n === 'worker 1')).toBe(true);
    expect(picks.slice(10)).toEqual(['worker 0', 'worker 1', 'worker 0', 'worker 1']);
  });

  it('never picks a worker that is starting, draining or dead', () => {
    const { t, workers } = table([9, 0, 0, 0]);
    t.setState(workers[1]!, WorkerState.Starting);
    t.setState(workers[2]!, WorkerState.Draining);
    t.setState(workers[3]!, WorkerState.Dead);
    expect(names(t, 3)).toEqual(['worker 0', 'worker 0', 'worker 0']);
  });

  it('never picks a full worker, and picks none when all are full', () => {
    const { t } = table([3, 2], 3);
    expect(names(t, 2)).toEqual(['worker 1', undefined]);
    expect(t.canTakeCalls()).toBe(false);
  });

  it('picks only a worker that listens on the request\'s transport', () => {
    const t = new WorkerTable();
    const a = t.add('a', false);
    const b = t.add('b', false);
    t.report(a, { state: WorkerState.Ready, calls: 0, maxCalls: 10, endpoints: UDP });
    t.report(b, { state: WorkerState.Ready, calls: 5, maxCalls: 10, endpoints: [{ transport: 'tls', port: 5066 }] });
    expect(t.choose('tls')?.endpoint).toEqual({ transport: 'tls', port: 5066 });
    expect(t.choose('tcp')).toBeUndefined();
  });

  it('sends calls to remote workers, in turn, only when no local worker can take them', () => {
    const { t, workers } = table([1], 2);
    const r1 = t.add('sip:10.0.0.5:5065', true, [{ transport: 'udp', host: '10.0.0.5', port: 5065 }]);
    const r2 = t.add('sip:10.0.0.6:5065', true, [{ transport: 'udp', host: '10.0.0.6', port: 5065 }]);
    t.setState(r1, WorkerState.Ready);
    t.setState(r2, WorkerState.Ready);
    expect(names(t, 4)).toEqual(['worker 0', 'sip:10.0.0.5:5065', 'sip:10.0.0.6:5065', 'sip:10.0.0.5:5065']);
    t.setState(workers[0]!, WorkerState.Dead);
    t.setState(r1, WorkerState.Dead);
    expect(names(t, 2)).toEqual(['sip:10.0.0.6:5065', 'sip:10.0.0.6:5065']);
  });

  it('can take calls only while some worker is ready and not full', () => {
    const t = new WorkerTable();
    const w = t.add('w', false);
    expect(t.canTakeCalls()).toBe(false);
    t.report(w, { state: WorkerState.Ready, calls: 0, maxCalls: 1, endpoints: UDP });
    expect(t.canTakeCalls()).toBe(true);
    t.setState(w, WorkerState.Draining);
    expect(t.canTakeCalls()).toBe(false);
  });
});
