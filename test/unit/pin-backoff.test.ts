/**
 * The PIN back-off (src/store/pin-backoff.ts, pin-failure-table.ts, the store's checkPin, apps/pin-entry.ts)
 * that replaced the permanent lock (issue 9 item 4), over the real SQLite store in a temporary folder.
 *
 * Covers: the delay grows (doubling from the threshold, up to the cap) and failures are forgotten over time;
 * per source and per mailbox thresholds; only one try per delay when several calls guess at once; the owner
 * gets in with the right PIN after an attacker's failures, once the delay is over (store level, and through
 * enterPin which waits it out); the alert (a warn line with mailbox and source, once per key per forget
 * period, counted in the store); `failedLogins: 0` (vmpilot mailbox unlock) lifts the back-off; schema 3
 * lifts the locks of version 1; calls through a PBX (one address for every caller): one anonymous caller does
 * not slow the others at other mailboxes, a caller cannot escape by changing From, a right PIN or unlock clear
 * every source's count at the mailbox.
 * Does not cover: absent versus present mailboxes (test/unit/pin-enumeration.test.ts), the config keys
 * (test/unit/config.test.ts).
 * The store's clock is faked (Date only; scrypt and SQLite run for real) where a test needs exact delays.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { callTrySource, enterPin } from '../../src/apps/pin-entry.js';
import { CallEndedError, type Call } from '../../src/call/call.js';
import { DEFAULT_PIN_BACKOFF, delayAfter, rememberedFailures, type PinBackoffPolicy } from '../../src/store/pin-backoff.js';
import { hashPin } from '../../src/store/pin.js';
import { MIGRATIONS } from '../../src/store/schema.sql.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import type { PinCheck } from '../../src/store/types.js';
import { pinVerdict } from '../helpers/pin-check.js';

const T0 = Date.UTC(2026, 0, 5, 9, 0);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const POLICY: PinBackoffPolicy = { sourceAfter: 3, sharedSourceAfter: 20, sharedSourceForgetAfterMs: 30_000, mailboxAfter: 10, firstDelayMs: 1000, maxDelayMs: 8000, forgetAfterMs: 15 * 60_000 };

let dir: string;
let store: SqliteStore;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pin-backoff-'));
  store = await openSqliteStore(join(dir, 'data'));
  await store.createMailbox({ number: '27000', name: 'Alice Example', pin: '2580' });
});

afterEach(async () => {
  vi.useRealTimers();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function at(ms: number): void {
  vi.setSystemTime(T0 + ms);
}

const attempt = (pin: string, source: string, policy = POLICY, number = '27000'): Promise<PinCheck> => store.checkPin({ number, pin, source, policy });

describe('the policy', () => {
  it('delays nothing below the threshold, then doubles from firstDelay up to the cap', () => {
    const delays = [0, 1, 2, 3, 4, 5, 6, 7, 40].map((f) => delayAfter(f, 3, POLICY));
    expect(delays).toEqual([0, 0, 0, 1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it('forgets one failure per forget period without failures', () => {
    const forget = POLICY.forgetAfterMs;
    expect(rememberedFailures(5, 0, forget - 1, forget)).toBe(5);
    expect(rememberedFailures(5, 0, 2 * forget, forget)).toBe(3);
    expect(rememberedFailures(5, 0, 10 * forget, forget)).toBe(0);
  });
});

describe('checkPin under the back-off', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    at(0);
  });

  it('lets a source try freely below its threshold, then makes each next try wait longer (doubling, capped)', async () => {
    for (let i = 0; i < 3; i++) expect((await attempt('0000', 'attacker')).verdict).toBe('wrong');
    const waits: number[] = [];
    let now = 0;
    for (let i = 0; i < 6; i++) {
      const held = await attempt('0000', 'attacker');
      expect(held.verdict).toBe('wait');
      const waitMs = held.verdict === 'wait' ? held.waitMs : 0;
      waits.push(waitMs);
      now += waitMs;
      at(now);
      expect((await attempt('0000', 'attacker')).verdict).toBe('wrong');
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });

  describe('calls through a PBX (one source address carries every caller: callTrySource)', () => {
    const PBX = '192.0.2.10';
    const viaPbx = (caller: string) => callTrySource({ sourceKey: PBX, parties: { caller: { number: caller } } as Call['parties'] });
    const tryAt = (number: string, pin: string, caller: string): Promise<PinCheck> => store.checkPin({ number, pin, ...viaPbx(caller), policy: POLICY });

    it('an anonymous caller guessing at one mailbox does not slow anonymous callers at other mailboxes', async () => {
      await store.createMailbox({ number: '27001', name: 'Bob Example', pin: '1357' });
      for (let i = 0; i < 3; i++) expect((await tryAt('27000', '0000', '')).verdict).toBe('wrong');
      // The attacker is slowed at the mailbox it attacks...
      expect((await tryAt('27000', '0000', '')).verdict).toBe('wait');
      // ...and another anonymous caller, behind the same PBX, logs in to their own mailbox at once.
      expect((await tryAt('27001', '1357', '')).verdict).toBe('ok');
    });

    it('a caller changing its From number on every try is slowed all the same', async () => {
      for (let i = 0; i < 3; i++) expect((await tryAt('27000', '0000', `555000${i}`)).verdict).toBe('wrong');
      const fresh = await tryAt('27000', '0000', '5550009');
      expect(fresh.verdict).toBe('wait');
      expect(fresh.verdict === 'wait' && fresh.waitMs).toBe(POLICY.firstDelayMs);
    });

    it("guessing under the owner's number at other mailboxes does not slow the owner's own log-in", async () => {
      for (const mailbox of ['27001', '27002', '27003']) for (let i = 0; i < 3; i++) expect((await tryAt(mailbox, '0000', '27000')).verdict).toBe('wrong');
      expect((await tryAt('27000', '2580', '27000')).verdict).toBe('ok');
    });

    it('a right PIN and `mailbox unlock` lift the per-mailbox count of every source', async () => {
      for (let i = 0; i < 3; i++) await tryAt('27000', '0000', '');
      expect((await tryAt('27000', '2580', '')).verdict).toBe('wait');
      await store.updateMailbox('27000', { failedLogins: 0 });
      expect((await tryAt('27000', '2580', '')).verdict).toBe('ok');
      for (let i = 0; i < 2; i++) await tryAt('27000', '0000', '');
      expect((await tryAt('27000', '2580', '')).verdict).toBe('ok');
      expect((await tryAt('27000', '0000', '')).verdict).toBe('wrong'); // the right PIN cleared the two before
    });
  });

  it('forgets failures over time: after a quiet forget period per failure, no delay', async () => {
    for (let i = 0; i < 3; i++) await attempt('0000', 'attacker');
    expect((await attempt('0000', 'attacker')).verdict).toBe('wait');
    at(POLICY.forgetAfterMs);
    // One failure forgotten: 2 remembered, below the threshold of 3.
    expect((await attempt('0000', 'attacker')).verdict).toBe('wrong');
  });

  it('the owner, calling from elsewhere, is not slowed by one attacker below the mailbox threshold', async () => {
    for (let i = 0; i < 9; i++) {
      at(i * 60_000); // waits out the attacker's own delays
      expect((await attempt('0000', 'attacker')).verdict).toBe('wrong');
    }
    expect((await attempt('2580', 'owner')).verdict).toBe('ok');
  });

  it('the owner gets in with the right PIN after many attackers\' failures, once the mailbox delay is over', async () => {
    // 14 attackers (spoofed caller numbers), one wrong PIN each as soon as the mailbox lets a try through.
    let now = 0;
    for (let i = 0; i < 14; i++) {
      let r = await attempt('0000', `attacker-${i}`);
      if (r.verdict === 'wait') {
        now += r.waitMs;
        at(now);
        r = await attempt('0000', `attacker-${i}`);
      }
      expect(r.verdict).toBe('wrong');
    }
    const held = await attempt('2580', 'owner');
    expect(held.verdict).toBe('wait');
    const waitMs = held.verdict === 'wait' ? held.waitMs : 0;
    expect(waitMs).toBeLessThanOrEqual(POLICY.maxDelayMs);
    at(now + waitMs);
    const r = await attempt('2580', 'owner');
    expect(r.verdict).toBe('ok');
    expect(await store.findMailbox('27000')).toMatchObject({ locked: false, failedLogins: 0 });
  });

  it('lets one try through per delay when several calls guess at once', async () => {
    for (let i = 0; i < 3; i++) await attempt('0000', 'attacker');
    at(1000);
    const results = await Promise.all([1, 2, 3, 4, 5].map((i) => attempt(`000${i}`, 'attacker')));
    expect(results.filter((r) => r.verdict === 'wrong')).toHaveLength(1);
    expect(results.filter((r) => r.verdict === 'wait')).toHaveLength(4);
  });

  it('raises one alert per key when it reaches its threshold, counted in the store', async () => {
    const alerts = [];
    for (let i = 0; i < 3; i++) {
      const r = await attempt('0000', 'attacker', { ...POLICY, firstDelayMs: 1, maxDelayMs: 1 });
      at(10 * (i + 1));
      if (r.verdict === 'wrong') alerts.push(...r.alerts);
    }
    expect(alerts).toEqual([{ kind: 'source', failures: 3, delayMs: 1 }]);
    // Past the threshold, within the forget period: slowed, not alerted again.
    const again = await attempt('0000', 'attacker', { ...POLICY, firstDelayMs: 1, maxDelayMs: 1 });
    expect(again.verdict === 'wrong' && again.alerts).toEqual([]);
    expect(await store.counters()).toEqual({ pinBackoffAlerts: 1, pinFailures: 4 });
  });

  it('failedLogins: 0 (vmpilot mailbox unlock) lifts the mailbox back-off at once', async () => {
    const policy = { ...POLICY, mailboxAfter: 3, firstDelayMs: 600_000, maxDelayMs: 600_000 };
    for (let i = 0; i < 3; i++) await attempt('0000', `attacker-${i}`, policy);
    expect((await attempt('2580', 'owner', policy)).verdict).toBe('wait');
    await store.updateMailbox('27000', { failedLogins: 0 });
    expect((await attempt('2580', 'owner', policy)).verdict).toBe('ok');
  });
});

describe('enterPin (the apps\' PIN entry)', () => {
  it('waits out a running delay, then lets the owner in with the right PIN', async () => {
    const policy = { ...DEFAULT_PIN_BACKOFF, sourceAfter: 100, mailboxAfter: 2, firstDelayMs: 300, maxDelayMs: 300 };
    for (let i = 0; i < 2; i++) expect(await pinVerdict(store, '27000', '0000', `attacker-${i}`, policy)).toBe('wrong');
    expect(await pinVerdict(store, '27000', '2580', 'owner', policy)).toBe('wait');
    const log = pino({ level: 'silent' });
    const mailbox = await enterPin('27000', '2580', { store, policy, source: 'owner', log, pause: sleep });
    expect(mailbox?.number).toBe('27000');
  });

  it('logs the alert as a warn line naming the mailbox and the source', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const log = pino({ level: 'info' }, sink);
    const policy = { ...DEFAULT_PIN_BACKOFF, sourceAfter: 2, firstDelayMs: 1, maxDelayMs: 1 };
    for (let i = 0; i < 2; i++) {
      await new Promise((r) => setTimeout(r, 5));
      expect(await enterPin('99999', '0000', { store, policy, source: '5550123', log, pause: sleep })).toBeUndefined();
    }
    expect(lines).toEqual([expect.objectContaining({ level: 40, mailbox: '99999', source: '5550123', key: 'source', failures: 2 })]);
  });

  it('stops waiting when the call has ended: the pause rejects (CallEndedError) and so does the entry', async () => {
    const policy = { ...DEFAULT_PIN_BACKOFF, sourceAfter: 1, firstDelayMs: 60_000, maxDelayMs: 60_000 };
    await pinVerdict(store, '27000', '0000', 'attacker', policy);
    const log = pino({ level: 'silent' });
    const hungUp = (): Promise<never> => Promise.reject(new CallEndedError('remote-bye'));
    await expect(enterPin('27000', '2580', { store, policy, source: 'attacker', log, pause: hungUp })).rejects.toBeInstanceOf(CallEndedError);
  });
});

describe('schema 3', () => {
  it('lifts the locks that version 1 set after failures', async () => {
    const file = join(dir, 'v1', 'vmpilot.db');
    mkdirSync(join(dir, 'v1'));
    const db = new Database(file);
    db.exec(MIGRATIONS[0]!);
    db.pragma('user_version = 1');
    db.prepare('INSERT INTO mailboxes (number, name, pin_hash, failed_logins, locked, created_at) VALUES (?, ?, ?, ?, 1, 0)').run('27000', 'Alice', await hashPin('2580'), 10);
    db.close();
    const upgraded = await openSqliteStore(join(dir, 'v1'));
    try {
      expect((await upgraded.findMailbox('27000'))!.locked).toBe(false);
      expect(await pinVerdict(upgraded, '27000', '2580')).toBe('ok');
    } finally {
      await upgraded.close();
    }
  });
});
