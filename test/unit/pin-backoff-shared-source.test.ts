/*
 * The PIN back-off's count of a shared source (a PBX) at all mailboxes together, and the back-off following a
 * renumbered mailbox (src/store/pin-backoff.ts, pin-failure-table.ts, pg/pin-failures.ts), the same tests against
 * each engine (test/helpers/store-engines.ts): SQLite in a temporary folder, PostgreSQL in a throwaway server's
 * database. The store's clock is faked (Date only) where a test needs exact times.
 *
 * Covers: one wrong PIN at each of many mailboxes (absent ones too) from one shared source is slowed once the
 * source reaches sharedSourceAfter, at any further mailbox, with the first delay, and raises one
 * 'sharedSource' alert (and enterPin logs it); a source failing slower than its forget period (the window over
 * the threshold) is never slowed; a right PIN at one mailbox does not clear it; a renumber moves the counts of
 * every source at the mailbox to the new number, merging what the new number had counted while it was no
 * mailbox. Not: the per-mailbox and per-source keys (pin-backoff.test.ts), the config keys (config.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { callTrySource, enterPin } from '../../src/apps/pin-entry.js';
import type { Call } from '../../src/call/call.js';
import type { PinBackoffPolicy } from '../../src/store/pin-backoff.js';
import type { MessageStore, PinAlert, PinCheck } from '../../src/store/types.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { storeEngines, type StorePlace } from '../helpers/store-engines.js';

const POLICY: PinBackoffPolicy = {
  sourceAfter: 3,
  sharedSourceAfter: 6,
  sharedSourceForgetAfterMs: 30_000,
  mailboxAfter: 10,
  firstDelayMs: 1000,
  maxDelayMs: 8000,
  forgetAfterMs: 15 * 60_000,
};
const T0 = Date.UTC(2026, 0, 5, 9, 0);
const PBX = '192.0.2.10';
const viaPbx = callTrySource({ sourceKey: PBX, parties: { caller: { number: '' } } as Call['parties'] });

describe.each(storeEngines())('the $name store: a shared source at all mailboxes together', (engine) => {
  let place: StorePlace;
  let store: MessageStore;

  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
    place = await engine.place();
    store = await engine.open(place);
    await store.createMailbox({ number: '27000', name: 'Alice', pin: '2580' });
  });

  afterEach(async () => {
    vi.useRealTimers();
    await store.close();
  });

  const tryAt = (number: string, pin = '0000', policy = POLICY): Promise<PinCheck> => store.checkPin({ number, pin, ...viaPbx, policy });

  it('slows one wrong PIN per mailbox from one source once the source reaches sharedSourceAfter, at any mailbox', async () => {
    const alerts: PinAlert[] = [];
    for (let i = 0; i < POLICY.sharedSourceAfter; i++) {
      const r = await tryAt(`3100${i}`);
      expect(r.verdict).toBe('wrong');
      if (r.verdict === 'wrong') alerts.push(...r.alerts);
    }
    expect(alerts).toEqual([{ kind: 'sharedSource', failures: POLICY.sharedSourceAfter, delayMs: POLICY.firstDelayMs }]);
    const next = await tryAt('31999');
    expect(next).toEqual({ verdict: 'wait', waitMs: POLICY.firstDelayMs });
    // The owner behind the same PBX waits too: the source is slowed, whoever is behind it.
    expect((await tryAt('27000', '2580')).verdict).toBe('wait');
    vi.setSystemTime(T0 + POLICY.firstDelayMs);
    expect((await tryAt('27000', '2580')).verdict).toBe('ok');
    // The right PIN did not clear the source's count: the next wrong PIN anywhere waits again.
    vi.setSystemTime(T0 + 2 * POLICY.firstDelayMs);
    expect((await tryAt('31998')).verdict).toBe('wrong');
    expect((await tryAt('31997')).verdict).toBe('wait');
  });

  it('never slows a source whose failures come slower than one per forget period (the window over the threshold)', async () => {
    for (let i = 0; i < 3 * POLICY.sharedSourceAfter; i++) {
      vi.setSystemTime(T0 + i * (POLICY.sharedSourceForgetAfterMs + 1));
      expect((await tryAt(`3200${i}`)).verdict).toBe('wrong');
    }
  });

  it('logs the alert as a warn line naming the source and the kind', async () => {
    const { logger: log, logs: lines } = capturedLogger('warn');
    for (let i = 0; i < POLICY.sharedSourceAfter; i++) await enterPin(`3300${i}`, '0000', { store, policy: POLICY, ...viaPbx, log, pause: async () => undefined });
    expect(lines).toEqual([expect.objectContaining({ level: 40, source: PBX, key: 'sharedSource', failures: POLICY.sharedSourceAfter })]);
    expect(String(lines[0]!.msg)).toMatch(/many mailboxes/);
  });

  it("moves every source's count at a renumbered mailbox to its new number", async () => {
    for (let i = 0; i < POLICY.sourceAfter; i++) expect((await tryAt('27000')).verdict).toBe('wrong');
    expect((await tryAt('27000')).verdict).toBe('wait');
    await store.renumberMailbox('27000', '27005');
    // Under the new number the PBX's count at this mailbox is still past its threshold...
    expect((await tryAt('27005')).verdict).toBe('wait');
    // ...and the old number, no mailbox now, starts from nothing.
    expect((await tryAt('27000')).verdict).toBe('wrong');
  });

  it('merges the counts the new number had while it was no mailbox (the renumber does not fail on them)', async () => {
    expect((await tryAt('27005')).verdict).toBe('wrong');
    expect((await tryAt('27000')).verdict).toBe('wrong');
    await store.renumberMailbox('27000', '27005');
    expect((await store.findMailbox('27005'))?.failedLogins).toBe(1);
    expect((await tryAt('27005', '2580')).verdict).toBe('ok');
  });
});
