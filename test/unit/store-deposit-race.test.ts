/*
 * A deposit racing another process between placing its files and inserting its row (src/store/sqlite.ts store()):
 * - a cluster worker restarted while another worker deposits runs repair, which may find the new message's audio
 *   and sidecar already in place and its row not yet inserted, and attach it: the deposit still succeeds, and the
 *   message is stored once (counts 1 new);
 * - another process renumbers the mailbox (its folder renamed with the placed files, under the write lock): the
 *   message lands in the renumbered mailbox, playable, with a sidecar naming it (src/store/mailbox-gone.ts);
 * - another process's deposit takes the mailbox's last place: this one rejects with MailboxFullError and its
 *   recording is back where it was (before: both were stored, the quota was checked per process);
 * - another process deletes the mailbox: the deposit rejects with MailboxGoneError and the message is in
 *   orphans/27000/ (before: the deleter removed the folder with the placed audio, and the message was lost).
 * The race is made exact by running the other store's step right after the deposit placed its files
 * (message-files.ts wrapped).
 * Does not cover: repair's own rules (store-repair.test.ts).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseWavHeader } from '../../src/media/wav.js';
import { MailboxGoneError } from '../../src/store/errors.js';
import { messageSidecarPath } from '../../src/store/layout.js';
import { readMessageSidecar } from '../../src/store/message-sidecar.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { MailboxFullError } from '../../src/store/types.js';
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

describe('a deposit while another process changes the mailbox', () => {
  it('renumbered: the message lands in the renumbered mailbox, playable, its sidecar naming it', async () => {
    hook.afterPlace = async () => {
      hook.afterPlace = undefined;
      await restarting.renumberMailbox('27000', '27100');
    };
    const m = await depositing.deposit(newMessage(depositing.tmpDir));
    expect(m.mailbox).toBe('27100');
    const [listed] = await depositing.listMessages('27100');
    expect(listed?.id).toBe(m.id);
    expect(parseWavHeader(readFileSync(listed!.audioPath)).dataOffset).toBeGreaterThan(0);
    expect((await readMessageSidecar(messageSidecarPath(depositing.layout, '27100', m.id)))?.mailbox).toBe('27100');
    expect(existsSync(join(dir, 'orphans'))).toBe(false);
    expect((await depositing.repair()).quarantined).toEqual([]);
  });

  it("filled: the last place taken by the other process's deposit, this one rejects with MailboxFullError, its recording back in place", async () => {
    await depositing.updateMailbox('27000', { maxMessages: 1 });
    hook.afterPlace = async () => {
      hook.afterPlace = undefined;
      await restarting.deposit(newMessage(restarting.tmpDir));
    };
    const message = newMessage(depositing.tmpDir);
    await expect(depositing.deposit(message)).rejects.toBeInstanceOf(MailboxFullError);
    expect(await depositing.counts('27000')).toMatchObject({ new: 1 });
    expect(existsSync(message.audioFile), 'the recording, for the caller to discard').toBe(true);
    expect(readdirSync(join(dir, 'messages', '27000')).filter((n) => n.endsWith('.json'))).toHaveLength(1);
  });

  it('deleted: rejects with MailboxGoneError, the message kept in orphans/27000/', async () => {
    hook.afterPlace = async () => {
      hook.afterPlace = undefined;
      await restarting.deleteMailbox('27000');
    };
    const err = await depositing.deposit(newMessage(depositing.tmpDir)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MailboxGoneError);
    const kept = readdirSync(join(dir, 'orphans', '27000'));
    expect(kept.filter((n) => n.endsWith('.wav'))).toHaveLength(1);
    expect(kept.filter((n) => n.endsWith('.json'))).toHaveLength(1);
  });
});
