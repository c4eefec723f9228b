/*
 * SharedLeadership (src/cluster/shared-leadership.ts) and runWhileLeader (src/cluster/leader-job.ts): several
 * leader-only jobs of a host on one leadership. A scripted Leadership stands in for the lock.
 *
 * Covers: the lock is competed for once, from the first job's start; every job hears a win and a loss; a job that
 * starts while the host leads is told at once; the lock is given up only after the last job stopped, each job
 * told `false` before; a handler that throws does not keep the others from hearing; a leader job is started on a
 * win and stopped on a loss, and a loss while it starts stops it once started.
 * Does not cover: PostgreSQL's lock (pg-leadership.test.ts), two hosts (test/integration/leader-jobs.test.ts).
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Leadership, LeadershipOptions } from '../../src/cluster/leadership.js';
import { runWhileLeader } from '../../src/cluster/leader-job.js';
import { SharedLeadership } from '../../src/cluster/shared-leadership.js';

const logger = pino({ level: 'silent' });

/** A lock the test wins and loses by hand. */
class ScriptedLock implements Leadership {
  leader = false;
  started = 0;
  stopped = 0;
  constructor(private readonly opts: LeadershipOptions) {}
  start(): void {
    this.started++;
  }
  async stop(): Promise<void> {
    this.stopped++;
    if (this.leader) this.set(false);
  }
  set(leader: boolean): void {
    this.leader = leader;
    this.opts.onChange(leader);
  }
}

function hub(): { shared: SharedLeadership; lock: () => ScriptedLock; made: () => number } {
  const locks: ScriptedLock[] = [];
  const shared = new SharedLeadership((opts) => {
    const l = new ScriptedLock(opts);
    locks.push(l);
    return l;
  }, logger);
  return { shared, lock: () => locks[0]!, made: () => locks.length };
}

describe('SharedLeadership', () => {
  it('competes once for all jobs; each hears the win and the loss; a late job is told it leads at once', () => {
    const { shared, lock, made } = hub();
    const heard: string[] = [];
    shared.share({ onChange: (l) => heard.push(`a:${l}`) }).start();
    shared.share({ onChange: (l) => heard.push(`b:${l}`) }).start();
    expect(made()).toBe(1);
    expect(lock().started).toBe(1);
    lock().set(true);
    const late = shared.share({ onChange: (l) => heard.push(`c:${l}`) });
    late.start();
    expect(late.leader).toBe(true);
    lock().set(false);
    expect(heard).toEqual(['a:true', 'b:true', 'c:true', 'a:false', 'b:false', 'c:false']);
  });

  it('gives the lock up only after the last job stopped, each job told false before', async () => {
    const { shared, lock } = hub();
    const heard: string[] = [];
    const a = shared.share({ onChange: (l) => heard.push(`a:${l}`) });
    const b = shared.share({ onChange: (l) => heard.push(`b:${l}`) });
    a.start();
    b.start();
    lock().set(true);
    await a.stop();
    expect(lock().stopped).toBe(0);
    expect(b.leader).toBe(true);
    await b.stop();
    expect(lock().stopped).toBe(1);
    expect(heard).toEqual(['a:true', 'b:true', 'a:false', 'b:false']);
  });

  it('a job whose handler throws does not keep the others from hearing', () => {
    const { shared, lock } = hub();
    const heard: boolean[] = [];
    shared.share({ onChange: () => { throw new Error('boom'); } }).start();
    shared.share({ onChange: (l) => heard.push(l) }).start();
    lock().set(true);
    expect(heard).toEqual([true]);
  });
});

describe('runWhileLeader', () => {
  it('starts the job on a win, stops it on a loss, and again on the next win', async () => {
    const { shared, lock } = hub();
    const events: string[] = [];
    let n = 0;
    const job = runWhileLeader({
      leadership: (opts) => shared.share(opts),
      start: () => ({ id: ++n }),
      stop: async (j) => void events.push(`stop ${j.id}`),
      name: 'test job',
      logger,
    });
    expect(job.running).toBeUndefined();
    lock().set(true);
    await new Promise((r) => setTimeout(r, 0));
    expect(job.running).toEqual({ id: 1 });
    lock().set(false);
    expect(job.running).toBeUndefined();
    lock().set(true);
    await new Promise((r) => setTimeout(r, 0));
    expect(job.running).toEqual({ id: 2 });
    await job.stop();
    expect(events).toEqual(['stop 1', 'stop 2']);
    expect(lock().stopped).toBe(1);
  });

  it('a loss while the job starts stops it once started', async () => {
    const { shared, lock } = hub();
    const stopped: number[] = [];
    let release!: () => void;
    const job = runWhileLeader({
      leadership: (opts) => shared.share(opts),
      start: () => new Promise<number>((resolve) => (release = () => resolve(7))),
      stop: async (j) => void stopped.push(j),
      name: 'slow job',
      logger,
    });
    lock().set(true);
    await new Promise((r) => setTimeout(r, 0));
    lock().set(false);
    release();
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => setTimeout(r, 0));
    expect(stopped).toEqual([7]);
    expect(job.running).toBeUndefined();
    await job.stop();
  });
});
