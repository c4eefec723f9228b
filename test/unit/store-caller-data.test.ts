/*
 * One caller's data (seed 002: erase by caller number; src/store sqlite.ts/postgres.ts callerData and
 * eraseCaller), the same tests against each engine (test/helpers/store-engines.ts). Real databases, real files.
 *
 * Covers: callerData lists the caller's messages in every mailbox and folder (deleted ones too) and their call
 * records, nobody else's; eraseCaller removes those messages' rows and audio files, their queued emails and call
 * records, announces the lamps of the mailboxes it changed, and leaves other callers' messages, emails and
 * records intact; erasing again finds nothing.
 * Does not cover: the CLI and HTTP faces (test/integration/caller-erase.test.ts).
 */
import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeEngines, type StorePlace } from '../helpers/store-engines.js';
import { newMessage } from '../helpers/store-fixture.js';
import type { CallRecord, MessageStore } from '../../src/store/types.js';

const ALICE = '+4930111';
const BOB = '4455';

function record(callId: string, from: string, offeredAt: number, messageId?: string): CallRecord {
  return { callId, offeredAt, endedAt: offeredAt + 1000, from, to: '27000', pilot: '27000', app: 'voicemail', outcome: 'message', detail: '27000', ...(messageId && { messageId }) };
}

describe.each(storeEngines())("the $name store's caller data", (engine) => {
  let place: StorePlace;
  let store: MessageStore;

  beforeEach(async () => {
    place = await engine.place();
    store = await engine.open(place);
    await store.createMailbox({ number: '27000', name: 'Anna', pin: '4826' });
    await store.createMailbox({ number: '27001', name: 'Carl', pin: '4826' });
  });

  afterEach(async () => {
    await store.close();
  });

  /** Alice leaves two messages (27000, and 27001 where it is deleted), Bob one; their calls are recorded; both emails queued. */
  async function seed(): Promise<{ alice: string[]; bob: string }> {
    const a1 = await store.deposit(newMessage(store.tmpDir, { from: ALICE, fromName: 'Alice' }));
    const a2 = await store.deposit(newMessage(store.tmpDir, { mailbox: '27001', from: ALICE, fromName: 'Alice' }));
    await store.setFolder(a2.id, 'deleted');
    const b = await store.deposit(newMessage(store.tmpDir, { from: BOB }));
    const t = Date.now();
    await store.addCallRecords([record('c1', ALICE, t - 3000, a1.id), record('c2', ALICE, t - 2000, a2.id), record('c3', BOB, t - 1000, b.id)]);
    for (const m of [a1, a2, b]) await store.enqueueMail({ mailbox: m.mailbox, messageId: m.id, payload: '{}' }, 1000);
    return { alice: [a1.id, a2.id], bob: b.id };
  }

  it("lists a caller's messages in every mailbox and folder, and their call records, nobody else's", async () => {
    const ids = await seed();
    const data = await store.callerData(ALICE);
    expect(data.messages.map((m) => [m.id, m.mailbox, m.folder])).toEqual([
      [ids.alice[0], '27000', 'new'],
      [ids.alice[1], '27001', 'deleted'],
    ]);
    expect(data.callRecords.map((r) => r.callId)).toEqual(['c2', 'c1']);
    expect(await store.callerData('999')).toEqual({ messages: [], callRecords: [] });
  });

  it("erases the caller's messages with their audio, queued emails and call records; others are kept; the lamp is announced", async () => {
    const ids = await seed();
    const paths = (await store.callerData(ALICE)).messages.map((m) => m.audioPath);
    expect(paths.every((p) => existsSync(p))).toBe(true);
    const announced: string[] = [];
    store.events.on('counts', (mailbox) => announced.push(mailbox));

    expect(await store.eraseCaller(ALICE)).toEqual({ messages: 2, queuedEmails: 2, callRecords: 2 });

    expect(await store.callerData(ALICE)).toEqual({ messages: [], callRecords: [] });
    for (const id of ids.alice) expect(await store.getMessage(id)).toBeUndefined();
    expect(paths.filter((p) => existsSync(p))).toEqual([]);
    expect(announced.sort()).toEqual(['27000', '27001']);
    expect(await store.counts('27000')).toMatchObject({ new: 1 });
    // Bob's message, its audio, its email and its call record are untouched.
    const bob = await store.getMessage(ids.bob);
    expect(bob && existsSync(bob.audioPath)).toBe(true);
    const mail = await store.claimMail('t', Date.now(), 60_000);
    expect(mail?.messageId).toBe(ids.bob);
    expect(await store.claimMail('t', Date.now(), 60_000)).toBeUndefined();
    expect((await store.listCallRecords({})).map((r) => r.callId)).toEqual(['c3']);

    expect(await store.eraseCaller(ALICE)).toEqual({ messages: 0, queuedEmails: 0, callRecords: 0 });
  });

  it('survives a reopen: what was erased stays erased', async () => {
    await seed();
    await store.eraseCaller(ALICE);
    await store.close();
    store = await engine.open(place);
    expect(await store.callerData(ALICE)).toEqual({ messages: [], callRecords: [] });
    expect((await store.callerData(BOB)).messages).toHaveLength(1);
  });
});
