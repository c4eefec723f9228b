/*
 * A deposit racing another process's start-up repair (src/store/sqlite.ts store()): a cluster worker restarted
 * while another worker deposits runs repair, which may find the new message's audio and sidecar already in
 * place and its row not yet inserted, and attach it.
 *
 * Covers: the deposit still succeeds, and the message is stored once (counts 1 new). The race is made exact
 * by running the other store's repair right after the deposit placed its files (message-files.ts wrapped).
 * Does not cover: repair's own rules (store-repair.test.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { newMessage } from '../helpers/store-fixture.js';

const hook = vi.hoisted(() => ({ afterPlace: undefined as undefined | (() => Promise<unknown>) }));

vi.mock('../../src/store/message-files.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/store/message-files.js')>();
  return {
    ...real,
    placeMessage: async (...args: Parameters<typeof real.placeMessage>) => {
      const placed = await real.placeMessage(...args);
      await hook.afterPlace?.();
      return placed;
    },
  };
});

let dir: string;
let depositing: SqliteStore;
let restarting: SqliteStore;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vmpilot-race-'));
  depositing = await openSqliteStore(dir);
  restarting = await openSqliteStore(dir);
  await depositing.createMailbox({ number: '27000', name: 'Alice', pin: '2580' });
});

afterEach(async () => {
  hook.afterPlace = undefined;
  await depositing.close();
  await restarting.close();
});

describe('a deposit while another process repairs', () => {
  it('succeeds when the repair attached the message first, and the message is stored once', async () => {
    let attached = 0;
    hook.afterPlace = async () => {
      hook.afterPlace = undefined;
      attached = (await restarting.repair()).reattached.length;
    };
    const m = await depositing.deposit(newMessage(depositing.tmpDir));
    expect(attached).toBe(1);
    expect(m.mailbox).toBe('27000');
    expect(await depositing.counts('27000')).toMatchObject({ new: 1 });
  });
});
