/**
 * The unsolicited-MWI delivery policy (delivery.ts) with a fake attempt function and fake timers, and the
 * mapping of NOTIFY responses to its outcomes (notifier.ts).
 *
 * Covers: targets tried in order; a 2xx or a refusal ends the delivery; every target failing → retry of the
 * whole list after 1 s doubling to 5 min, until a target answers; only the latest state per mailbox (a
 * change replaces a pending retry and goes at once; a change during a NOTIFY goes after it); pacing through
 * the rate gate, news before bulk work (a resend, retries), a mailbox moved from the bulk lane to the news lane
 * sent once; stop(). Response classes: 2xx, 4xx, 408, 3xx, 5xx, 6xx.
 * Does not cover: building and sending the NOTIFY over SIP (integration/mwi.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { MwiDelivery, DeliveryState, type AttemptOutcome } from '../../src/mwi/delivery.js';
import { RateGate } from '../../src/mwi/rate-gate.js';
import { classifyNotifyResponse } from '../../src/mwi/notifier.js';
import type { MessageCounts } from '../../src/store/types.js';

const logger = pino({ level: 'silent' });
const counts = (n: number): MessageCounts => ({ new: n, saved: 0, urgentNew: 0, urgentSaved: 0 });

interface Call {
  target: string;
  mailbox: string;
  counts: MessageCounts;
  at: number;
}

function harness(outcome: (target: string, call: number) => AttemptOutcome | Promise<AttemptOutcome>, opts: { targets?: string[]; perSecond?: number } = {}) {
  const calls: Call[] = [];
  const start = Date.now();
  const delivery = new MwiDelivery<string>({
    name: 'mxone',
    targets: opts.targets ?? ['a', 'b'],
    gate: new RateGate(opts.perSecond ?? 1000),
    logger,
    attempt: (target, mailbox, c) => {
      calls.push({ target, mailbox, counts: c, at: Date.now() - start });
      return Promise.resolve(outcome(target, calls.length));
    },
  });
  return { delivery, calls };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('MwiDelivery', () => {
  it('MUST try the targets in order and stop at the first that answers 2xx', async () => {
    const { delivery, calls } = harness((t) => (t === 'a' ? 'failed' : 'delivered'), { targets: ['a', 'b', 'c'] });
    delivery.update('27000', counts(1));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls.map((c) => c.target)).toEqual(['a', 'b']);
    expect(delivery.pending).toBe(0);
  });

  it('MUST stop, without trying other targets or retrying, when the PBX refuses the NOTIFY', async () => {
    const { delivery, calls } = harness(() => 'refused');
    delivery.update('27000', counts(1));
    await vi.advanceTimersByTimeAsync(600_000);
    expect(calls.map((c) => c.target)).toEqual(['a']);
    expect(delivery.pending).toBe(0);
  });

  it('MUST retry the whole list after 1 s, then doubling up to 5 min, while every target fails', async () => {
    const { delivery, calls } = harness(() => 'failed');
    delivery.update('27000', counts(1));
    await vi.advanceTimersByTimeAsync(1_200_000);
    const runs = calls.filter((c) => c.target === 'a').map((c) => c.at);
    const gaps = runs.slice(1).map((at, i) => at - runs[i]!);
    expect(gaps.slice(0, 11)).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000, 300000]);
    expect(calls.filter((c) => c.target === 'b')).toHaveLength(runs.length);
    expect(delivery.stateOf('27000')).toBe(DeliveryState.Backoff);
  });

  it('MUST keep retrying until a target answers, and then stop', async () => {
    const { delivery, calls } = harness((_t, n) => (n >= 7 ? 'delivered' : 'failed'));
    delivery.update('27000', counts(1));
    await vi.advanceTimersByTimeAsync(600_000);
    expect(calls).toHaveLength(7); // a b (0 s), a b (1 s), a b (3 s), a (7 s)
    expect(calls[6]).toMatchObject({ target: 'a', at: 7000 });
    expect(delivery.pending).toBe(0);
  });

  it('a newer state MUST replace a pending retry and be sent at once, with the backoff started over', async () => {
    const { delivery, calls } = harness(() => 'failed', { targets: ['a'] });
    delivery.update('27000', counts(1));
    await vi.advanceTimersByTimeAsync(3500); // runs at 0, 1000, 3000; next retry would be at 7000
    delivery.update('27000', counts(2));
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.at(-1)).toMatchObject({ at: 3500, counts: counts(2) });
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls.at(-1)).toMatchObject({ at: 4500, counts: counts(2) });
    expect(calls.map((c) => c.counts.new)).toEqual([1, 1, 1, 2, 2]);
  });

  it('a change while a NOTIFY is in flight MUST be sent after it, and only the latest of several', async () => {
    const answers: ((o: AttemptOutcome) => void)[] = [];
    const { delivery, calls } = harness(() => new Promise<AttemptOutcome>((resolve) => answers.push(resolve)), { targets: ['a'] });
    delivery.update('27000', counts(1));
    await vi.advanceTimersByTimeAsync(0);
    expect(delivery.stateOf('27000')).toBe(DeliveryState.Sending);
    delivery.update('27000', counts(2));
    delivery.update('27000', counts(3));
    answers[0]!('delivered');
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.map((c) => c.counts.new)).toEqual([1, 3]);
    answers[1]!('delivered');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toHaveLength(2);
    expect(delivery.pending).toBe(0);
  });

  it('keeps one state per mailbox and delivers each mailbox on its own', async () => {
    const { delivery, calls } = harness(() => 'delivered', { targets: ['a'] });
    delivery.update('27000', counts(1));
    delivery.update('27001', counts(4));
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.map((c) => [c.mailbox, c.counts.new])).toEqual([
      ['27000', 1],
      ['27001', 4],
    ]);
  });

  it('MUST take a slot of the rate gate for every run', async () => {
    const { delivery, calls } = harness(() => 'delivered', { targets: ['a'], perSecond: 2 });
    for (let i = 0; i < 5; i++) delivery.update(`2700${i}`, counts(i));
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(2); // one second's burst
    await vi.advanceTimersByTimeAsync(1500);
    expect(calls.map((c) => c.at)).toEqual([0, 0, 500, 1000, 1500]);
  });

  it('news MUST go before a resend still waiting for the gate, and a mailbox in both is sent once, as news', async () => {
    const { delivery, calls } = harness(() => 'delivered', { targets: ['a'], perSecond: 2 });
    for (let i = 0; i < 6; i++) delivery.update(`2700${i}`, counts(0), 'bulk');
    await vi.advanceTimersByTimeAsync(0); // one second's burst: 27000, 27001
    delivery.update('28000', counts(1)); // a deposit in a mailbox the resend does not hold
    delivery.update('27005', counts(3)); // and one in a mailbox the resend queued last
    await vi.advanceTimersByTimeAsync(3000);
    expect(calls.map((c) => c.mailbox)).toEqual(['27000', '27001', '28000', '27005', '27002', '27003', '27004']);
    expect(calls.find((c) => c.mailbox === '27005')?.counts).toEqual(counts(3));
    expect(delivery.pending).toBe(0);
  });

  it('a retry to a PBX that failed MUST wait behind news', async () => {
    const { delivery, calls } = harness((_t, n) => (n === 1 ? 'failed' : 'delivered'), { targets: ['a'], perSecond: 1 });
    delivery.update('27000', counts(1)); // fails: retried after 1 s, in the bulk lane
    await vi.advanceTimersByTimeAsync(500);
    delivery.update('28000', counts(1)); // news waiting for the gate's next tokens (1 s, 2 s) when the retry queues
    delivery.update('28001', counts(1));
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls.map((c) => [c.mailbox, c.at])).toEqual([
      ['27000', 0],
      ['28000', 1000],
      ['28001', 2000],
      ['27000', 3000],
    ]);
    expect(delivery.pending).toBe(0);
  });

  it('stop() MUST forget pending states and retries', async () => {
    const { delivery, calls } = harness(() => 'failed', { targets: ['a'] });
    delivery.update('27000', counts(1));
    await vi.advanceTimersByTimeAsync(0);
    delivery.stop();
    delivery.update('27000', counts(2));
    await vi.advanceTimersByTimeAsync(600_000);
    expect(calls).toHaveLength(1);
    expect(delivery.pending).toBe(0);
  });

  it('counts an attempt that throws as a failure of that target', async () => {
    const { delivery, calls } = harness((t) => {
      if (t === 'a') throw new Error('boom');
      return 'delivered';
    });
    delivery.update('27000', counts(1));
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.map((c) => c.target)).toEqual(['a', 'b']);
    expect(delivery.pending).toBe(0);
  });
});

describe('RateGate', () => {
  it('runs up to the burst at once, then one job every 1/rate seconds, in order', async () => {
    const gate = new RateGate(10, 3);
    const ran: [number, number][] = [];
    const start = Date.now();
    for (let i = 0; i < 6; i++) gate.run(() => ran.push([i, Date.now() - start]));
    expect(ran).toEqual([
      [0, 0],
      [1, 0],
      [2, 0],
    ]);
    expect(gate.waiting).toBe(3);
    await vi.advanceTimersByTimeAsync(300);
    expect(ran.slice(3)).toEqual([
      [3, 100],
      [4, 200],
      [5, 300],
    ]);
  });

  it('runs waiting news jobs before waiting bulk jobs, each lane in order', async () => {
    const gate = new RateGate(10, 1);
    const ran: string[] = [];
    gate.run(() => ran.push('first'));
    for (const name of ['b1', 'b2']) gate.run(() => ran.push(name), 'bulk');
    for (const name of ['n1', 'n2']) gate.run(() => ran.push(name), 'news');
    await vi.advanceTimersByTimeAsync(400);
    expect(ran).toEqual(['first', 'n1', 'n2', 'b1', 'b2']);
  });

  it('clear() drops waiting jobs', async () => {
    const gate = new RateGate(1, 1);
    let ran = 0;
    gate.run(() => ran++);
    gate.run(() => ran++);
    gate.clear();
    await vi.advanceTimersByTimeAsync(5000);
    expect(ran).toBe(1);
  });
});

describe('classifyNotifyResponse', () => {
  it.each([
    [200, 'delivered'],
    [202, 'delivered'],
    [400, 'refused'],
    [403, 'refused'],
    [404, 'refused'],
    [489, 'refused'],
    [408, 'failed'],
    [302, 'failed'],
    [500, 'failed'],
    [503, 'failed'],
    [600, 'failed'],
    [603, 'failed'],
  ])('%i → %s', (status, outcome) => {
    expect(classifyNotifyResponse(status)).toBe(outcome);
  });
});
