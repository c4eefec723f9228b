/**
 * Mailbox enumeration (issue 9 item 4): a wrong PIN for an absent mailbox must take the same path as one for
 * a present mailbox, so that neither the words nor the time tell them apart. Time is not asserted here (a
 * pass/fail test never asserts latency; bench/pin-timing.ts prints p50/p99): instead these tests show that
 * the same work runs, i.e. the scrypt check runs for an absent mailbox too, against a hash of the same cost,
 * the back-off answers alike, and the caller hears the same prompts.
 *
 * Covers: the store's checkPin (hash invoked once per try for present and absent, same parameters; the same
 * verdicts and delays through the back-off); the voicemail log-in from the pilot (same prompt sequence, a
 * hash per try); the attendant's greeting administrator log-in (a hash per try for an absent number).
 * Does not cover: the back-off itself (test/unit/pin-backoff.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallEndedError } from '../../src/call/call.js';
import type { VoicemailContext } from '../../src/apps/voicemail/context.js';
import { loginAndServe } from '../../src/apps/voicemail/login.js';
import { parseConfig } from '../../src/config/load.js';
import { createSay } from '../../src/prompts/say.js';
import * as pin from '../../src/store/pin.js';
import type { PinBackoffPolicy } from '../../src/store/pin-backoff.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { ScriptedCall } from '../helpers/scripted-call.js';

// The real verifyPin, watched: which hash each try was checked against.
vi.mock('../../src/store/pin.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/store/pin.js')>();
  return { ...real, verifyPin: vi.fn(real.verifyPin) };
});
const verifyPin = vi.mocked(pin.verifyPin);

const POLICY: PinBackoffPolicy = { sourceAfter: 3, sharedSourceAfter: 20, sharedSourceForgetAfterMs: 30_000, mailboxAfter: 5, firstDelayMs: 1000, maxDelayMs: 8000, forgetAfterMs: 15 * 60_000 };

let dir: string;
let store: SqliteStore;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pin-enum-'));
  store = await openSqliteStore(join(dir, 'data'));
  await store.createMailbox({ number: '27000', name: 'Alice Example', pin: '2580' });
  verifyPin.mockClear();
});

afterEach(async () => {
  vi.useRealTimers();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The scrypt parameters of a stored hash (scrypt$N$r$p$...), and its key length. */
function costOf(hash: string): string {
  const parts = hash.split('$');
  return `${parts.slice(0, 4).join('$')} key ${Buffer.from(parts[5] ?? '', 'base64').length}`;
}

describe('the store checks an absent mailbox like a present one', () => {
  it('runs scrypt once per wrong PIN for both, against hashes of the same cost', async () => {
    const present = await store.checkPin({ number: '27000', pin: '0000', source: 'a', policy: POLICY });
    const absent = await store.checkPin({ number: '27999', pin: '0000', source: 'b', policy: POLICY });
    expect(present).toEqual(absent);
    expect(verifyPin).toHaveBeenCalledTimes(2);
    const [presentHash, absentHash] = verifyPin.mock.calls.map((c) => c[1]);
    expect(presentHash).toBe((await store.findMailbox('27000'))!.pinHash);
    expect(absentHash).not.toBe(presentHash);
    expect(costOf(absentHash!)).toBe(costOf(presentHash!));
  });

  it('answers the same verdicts and delays through the back-off', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const run = async (number: string): Promise<string[]> => {
      vi.setSystemTime(Date.UTC(2026, 0, 5));
      const seen: string[] = [];
      for (let i = 0; i < 8; i++) {
        const r = await store.checkPin({ number, pin: '0000', source: `caller-${i % 2}-${number}`, policy: POLICY });
        seen.push(r.verdict === 'wait' ? `wait ${r.waitMs}` : r.verdict);
        if (r.verdict === 'wait') vi.setSystemTime(Date.now() + r.waitMs);
      }
      return seen;
    };
    const present = await run('27000');
    expect(present).toContain('wait 1000');
    expect(await run('27999')).toEqual(present);
  });
});

describe('the voicemail log-in from the pilot', () => {
  it('says the same words to an absent mailbox as to a present one, and checks a PIN on each try', async () => {
    const config = parseConfig('voicemail: { timeZone: UTC }', dir);
    const ctx: VoicemailContext = {
      store,
      config: config.voicemail,
      say: createSay('en-US'),
      logger: pino({ level: 'silent' }),
      attendantPilots: [],
      voicemailPilots: ['8000'],
    };
    const login = async (number: string, source: string): Promise<string[]> => {
      const call = new ScriptedCall(`${number}#1111#`.repeat(3));
      await expect(loginAndServe(call, ctx, { who: { source } })).rejects.toBeInstanceOf(CallEndedError);
      return call.asked;
    };
    const present = await login('27000', '5550001');
    expect(verifyPin).toHaveBeenCalledTimes(3);
    const absent = await login('27999', '5550002');
    expect(verifyPin).toHaveBeenCalledTimes(6);
    expect(absent).toEqual(present);
    expect(present.slice(-2)).toEqual(['too_many_attempts', 'goodbye']);
  });
});
