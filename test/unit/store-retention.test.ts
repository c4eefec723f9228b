/**
 * startRetention (store/retention.ts): at start and then hourly it expires messages and forgets mailbox renumbers
 * older than RENUMBER_MEMORY_MS.
 *
 * Covers: the first pass at start, the renumber cut-off it asks for, the hourly repeat, stop().
 * Does not cover: what the store deletes (store-mailbox-admin.test.ts, on both engines).
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RENUMBER_MEMORY_MS } from '../../src/store/mailbox-renumber.js';
import { startRetention } from '../../src/store/retention.js';

describe('startRetention', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_800_000_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('trims renumber records older than RENUMBER_MEMORY_MS at start and every hour', async () => {
    const cutoffs: number[] = [];
    const store = {
      expire: async () => 0,
      trimRenumbers: async (before: number) => {
        cutoffs.push(before);
        return 0;
      },
    };
    const retention = startRetention(store, { voicemail: { retainNewDays: 0, retainSavedDays: 0 } } as never, pino({ level: 'silent' }));
    expect(cutoffs).toEqual([1_800_000_000_000 - RENUMBER_MEMORY_MS]);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(cutoffs).toEqual([1_800_000_000_000 - RENUMBER_MEMORY_MS, 1_800_003_600_000 - RENUMBER_MEMORY_MS]);
    retention.stop();
    await vi.advanceTimersByTimeAsync(3 * 3_600_000);
    expect(cutoffs.length).toBe(2);
  });
});
