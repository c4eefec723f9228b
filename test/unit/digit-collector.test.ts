/**
 * DigitCollector (src/call/digit-collector.ts): type-ahead, terminators, deadlines on the media tick, and the
 * trailing '#' after a full-length entry. Not here: where keys come from (media tests), the Call API around it.
 */
import { describe, expect, it } from 'vitest';
import { DigitCollector } from '../../src/call/digit-collector.js';

describe('DigitCollector', () => {
  it('takes type-ahead first, ends on the terminator, and does not count the terminator', async () => {
    const c = new DigitCollector();
    c.push('2', 0);
    c.push('7', 10);
    const pending = c.collect({ max: 5 }, 20);
    c.push('#', 30);
    await expect(pending).resolves.toEqual({ digits: '27', reason: 'terminator', terminator: '#' });
  });

  it('times out on the first key and between keys, checked on the tick', async () => {
    const c = new DigitCollector();
    const first = c.collect({ max: 3, timeoutMs: 100, interDigitMs: 50 }, 0);
    c.tick(99);
    c.push('1', 99);
    c.tick(148);
    c.tick(149);
    await expect(first).resolves.toEqual({ digits: '1', reason: 'timeout' });
  });

  it("drops the '#' a caller adds after a full-length entry, whether already typed or pressed just after", async () => {
    const c = new DigitCollector();
    for (const k of ['2', '7', '0', '0', '1', '#'] as const) c.push(k, 0);
    await expect(c.collect({ max: 5 }, 0)).resolves.toEqual({ digits: '27001', reason: 'max' });
    expect(c.pending).toBe(0);

    const second = c.collect({ max: 2 }, 1000);
    c.push('4', 1000);
    c.push('2', 1010);
    await expect(second).resolves.toMatchObject({ digits: '42', reason: 'max' });
    c.push('#', 1500);
    expect(c.pending).toBe(0);
    // Later, '#' is a key again.
    c.push('#', 4000);
    expect(c.pending).toBe(1);
  });

  it("keeps a '#' after a one-key menu choice: it may be the next menu's own key", async () => {
    const c = new DigitCollector();
    const choice = c.collect({ max: 1 }, 0);
    c.push('1', 10);
    await expect(choice).resolves.toMatchObject({ digits: '1', reason: 'max' });
    c.push('#', 200);
    expect(c.peek()).toBe('#');
  });

  it('rejects a waiting collect with the error end() is given (a hang-up fails it, keys and all)', async () => {
    const c = new DigitCollector();
    const p = c.collect({ max: 4 }, 0);
    c.push('9', 5);
    const ended = new Error('the call has ended');
    c.end(ended);
    await expect(p).rejects.toBe(ended);
  });
});
