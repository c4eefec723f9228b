/**
 * The mailbox quota across hosts on one PostgreSQL store (src/store/pg/quota.ts): two hosts (two store instances
 * on one database, each with its own folder) deposit into a mailbox with one place left, at the same moment.
 *
 * Covers: exactly one deposit is stored and the other rejects with MailboxFullError, in each of five rounds (a
 * mailbox each, maxMessages 1); the rejected recording is left where it was (the voicemail app discards it, as on
 * SQLite). Before the fix both hosts counted zero messages and both stored theirs.
 * Does not cover: the quota's rules (store.test.ts on both engines), SQLite (one process's deposits into a
 * mailbox run one after the other).
 */
import { existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageStore } from '../../src/store/types.js';
import { MailboxFullError } from '../../src/store/types.js';
import { postgresPerFile } from '../helpers/postgres.js';
import { postgresEngine, type StorePlace } from '../helpers/store-engines.js';
import { newMessage } from '../helpers/store-fixture.js';

const engine = postgresEngine(postgresPerFile());
let place: StorePlace;
let hostB: StorePlace;
let a: MessageStore;
let b: MessageStore;

beforeAll(async () => {
  place = await engine.place();
  hostB = engine.onOtherHost(place);
  a = await engine.open(place);
  b = await engine.open(hostB);
}, 40_000);

afterAll(async () => {
  await b?.close();
  await a?.close();
  for (const p of [place, hostB]) if (p) rmSync(p.dir, { recursive: true, force: true });
});

describe('the last place of a mailbox, taken by two hosts at once', () => {
  it('goes to one of them; the other is told the mailbox is full', async () => {
    for (let round = 0; round < 5; round++) {
      const number = `2750${round}`;
      await a.createMailbox({ number, name: `Round ${round}`, pin: '4826', maxMessages: 1 });
      const messages = [newMessage(a.tmpDir, { mailbox: number }), newMessage(b.tmpDir, { mailbox: number })];
      const results = await Promise.allSettled([a.deposit(messages[0]!), b.deposit(messages[1]!)]);
      const stored = results.filter((r) => r.status === 'fulfilled');
      const refused = results.flatMap((r, i) => (r.status === 'rejected' ? [{ reason: r.reason as unknown, file: messages[i]!.audioFile }] : []));
      expect(stored, `round ${round}`).toHaveLength(1);
      expect(refused[0]!.reason, `round ${round}`).toBeInstanceOf(MailboxFullError);
      expect(existsSync(refused[0]!.file), 'the refused recording is left for the app').toBe(true);
      expect((await a.counts(number)).new, `round ${round}`).toBe(1);
    }
  }, 40_000);
});
