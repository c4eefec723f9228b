/*
 * The store's start-up repair (src/store/repair.ts via SqliteStore.repair) on broken states built by hand in a
 * real temporary folder, as a crash would leave them.
 *
 * Covers:
 * (a) tmp/: a recording with its sidecar and enough audio delivered as a new message, with the duration of
 *     what the file holds (header lagging behind the data, or never updated) and the header fixed; delivered
 *     even into a full mailbox; kept when its file is short of the sidecar's minMs (default 1000) by no more
 *     than a killed writer lacks (crashLossMs), removed when shorter, empty, without a sidecar, or not a WAV; lone
 *     sidecars and partial files removed; a recording for a mailbox that does not exist quarantined.
 * (b) messages/: audio without a row re-attached from its sidecar; quarantined to orphans/ when the sidecar
 *     is missing, unreadable or names another mailbox, or the folder is no mailbox's; a name already taken in
 *     orphans/ not overwritten; sidecars without audio and .part files removed.
 * (c) rows whose audio is missing marked deleted and reported.
 * A healthy store reports nothing, a second repair finds nothing, and changed mailboxes get 'counts' events.
 *
 * Does not cover: a real crash of a real process (the states are what such a crash leaves, built directly);
 * what the voicemail app writes into tmp/ (it uses recording-sidecar.ts, exercised here).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WAV_EARLY_MS, crashLossMs, buildWavHeader, parseWavHeader } from '../../src/media/wav.js';

/** What a killed writer's file lacks: in a short recording's first seconds, and later. */
const EARLY_LOSS = crashLossMs(0);
const LATE_LOSS = crashLossMs(WAV_EARLY_MS);
import { newMessageId } from '../../src/store/message-id.js';
import { writeMessageSidecar } from '../../src/store/message-sidecar.js';
import { writeRecordingSidecar, type RecordingSidecar } from '../../src/store/recording-sidecar.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import type { MessageCounts, NewMessage } from '../../src/store/types.js';

let dir: string;
let store: SqliteStore;

/** A PCM16 8 kHz WAV holding `ms` of audio whose header claims `headerMs` (a writer killed mid-way). */
function wav(path: string, ms: number, headerMs = ms): string {
  const data = Buffer.alloc((ms / 1000) * 16000, 7);
  writeFileSync(path, Buffer.concat([buildWavHeader({ encoding: 'pcm16', dataBytes: (headerMs / 1000) * 16000 }), data]));
  return path;
}

const meta = (overrides: Partial<RecordingSidecar> = {}): RecordingSidecar => ({
  mailbox: '27000',
  from: '4455',
  fromName: 'Bob',
  reason: 'busy',
  urgent: true,
  receivedAt: 1_700_000_000_000,
  ...overrides,
});

const tmpFiles = (): string[] => readdirSync(store.tmpDir).sort();
const mailboxDir = (mb = '27000'): string => join(dir, 'messages', mb);

async function deposit(overrides: Partial<NewMessage> = {}) {
  return store.deposit({
    mailbox: '27000',
    from: '4455',
    fromName: 'Bob',
    durationMs: 1000,
    urgent: false,
    reason: 'no-answer',
    audioFile: wav(join(store.tmpDir, `${newMessageId()}.wav`), 1000),
    ...overrides,
  });
}

/** Deletes rows behind the store's back, as a lost commit would. */
function deleteRow(id: string): void {
  const db = new Database(join(dir, 'vmpilot.db'));
  db.prepare('DELETE FROM messages WHERE id = ?').run(id);
  db.close();
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vmpilot-repair-'));
  store = await openSqliteStore(dir);
  await store.createMailbox({ number: '27000', name: 'Alice', pin: '2580' });
});

afterEach(async () => {
  await store.close();
});

it('reports nothing for a healthy store and leaves its messages alone', async () => {
  const m = await deposit();
  expect(await store.repair()).toEqual({ reattached: [], quarantined: [], missingAudio: [], tempFilesRemoved: 0 });
  expect(await store.getMessage(m.id)).toMatchObject({ folder: 'new' });
});

describe('(a) recordings left in tmp/', () => {
  it('delivers a recording with its sidecar as a new message, counting the audio past a lagging header', async () => {
    const rec = wav(join(store.tmpDir, 'call-1.wav'), 3000, 2000);
    await writeRecordingSidecar(rec, meta());
    const report = await store.repair();
    expect(report.reattached).toHaveLength(1);
    expect(report.tempFilesRemoved).toBe(0);
    const m = (await store.getMessage(report.reattached[0]!))!;
    expect(m).toMatchObject({ mailbox: '27000', folder: 'new', from: '4455', fromName: 'Bob', reason: 'busy', urgent: true, receivedAt: 1_700_000_000_000, durationMs: 3000 });
    // The header now counts every byte.
    const file = readFileSync(m.audioPath);
    const info = parseWavHeader(file);
    expect(info.dataBytes).toBe(48000);
    expect(file.readUInt32LE(40)).toBe(48000);
    expect(file.readUInt32LE(4)).toBe(36 + 48000);
    expect(tmpFiles()).toEqual([]);
  });

  it('delivers a recording whose header was never updated (data size 0), addressed by alias', async () => {
    await store.updateMailbox('27000', { aliases: ['+4687270000'] });
    const rec = wav(join(store.tmpDir, 'call-2.wav'), 1500, 0);
    await writeRecordingSidecar(rec, meta({ mailbox: '+4687270000' }));
    const report = await store.repair();
    expect(report.reattached).toHaveLength(1);
    expect(await store.getMessage(report.reattached[0]!)).toMatchObject({ mailbox: '27000', durationMs: 1500 });
  });

  it('delivers it even into a full mailbox (the caller was let in to record)', async () => {
    await store.updateMailbox('27000', { maxMessages: 1 });
    await deposit();
    await writeRecordingSidecar(wav(join(store.tmpDir, 'call-3.wav'), 2000), meta());
    expect((await store.repair()).reattached).toHaveLength(1);
    expect(await store.listMessages('27000')).toHaveLength(2);
  });

  it('deletes a recording without a sidecar', async () => {
    wav(join(store.tmpDir, 'greeting-in-progress.wav'), 5000);
    const report = await store.repair();
    expect(report).toMatchObject({ reattached: [], tempFilesRemoved: 1 });
    expect(tmpFiles()).toEqual([]);
    expect(await store.listMessages('27000')).toEqual([]);
  });

  describe("the deposit's minimum length, judged on a file that lacks up to crashLossMs", () => {
    it('delivers a recording whose audio on disk is short of minMs by less than what a killed writer lacks', async () => {
      // The caller had said about 1.1 s: the file holds 0.6 s of it (issue 9 item 10).
      const rec = wav(join(store.tmpDir, 'short-but-said.wav'), 1000 - EARLY_LOSS + 100);
      await writeRecordingSidecar(rec, meta({ minMs: 1000 }));
      const report = await store.repair();
      expect(report.reattached).toHaveLength(1);
      expect(await store.getMessage(report.reattached[0]!)).toMatchObject({ durationMs: 600 });
    });

    it('deletes, with its sidecar, a recording too short even counting what the writer lacked', async () => {
      const rec = wav(join(store.tmpDir, 'hangup-at-beep.wav'), 1000 - EARLY_LOSS - 100);
      await writeRecordingSidecar(rec, meta({ minMs: 1000 }));
      expect(await store.repair()).toMatchObject({ reattached: [], tempFilesRemoved: 2 });
      expect(tmpFiles()).toEqual([]);
    });

    it("applies the sidecar's minMs (a site's voicemail.minMessageMs), and 1000 ms when it has none", async () => {
      await writeRecordingSidecar(wav(join(store.tmpDir, 'a-too-short.wav'), 3000 - LATE_LOSS - 100), meta({ minMs: 3000 }));
      await writeRecordingSidecar(wav(join(store.tmpDir, 'b-kept.wav'), 3000 - LATE_LOSS), meta({ minMs: 3000 }));
      await writeRecordingSidecar(wav(join(store.tmpDir, 'c-old-too-short.wav'), 1000 - EARLY_LOSS - 100), meta());
      await writeRecordingSidecar(wav(join(store.tmpDir, 'd-empty.wav'), 0), meta({ minMs: 0 }));
      const report = await store.repair();
      expect(report.reattached).toHaveLength(1);
      expect(await store.getMessage(report.reattached[0]!)).toMatchObject({ durationMs: 3000 - LATE_LOSS });
      expect(tmpFiles()).toEqual([]);
    });
  });

  it('deletes a file that is not a WAV, lone sidecars and partial writes', async () => {
    writeFileSync(join(store.tmpDir, 'broken.wav'), Buffer.alloc(0));
    await writeRecordingSidecar(join(store.tmpDir, 'broken.wav'), meta());
    await writeRecordingSidecar(join(store.tmpDir, 'lonely.wav'), meta());
    writeFileSync(join(store.tmpDir, 'x.json.part'), '{');
    expect(await store.repair()).toMatchObject({ reattached: [], tempFilesRemoved: 4 });
    expect(tmpFiles()).toEqual([]);
  });

  it('quarantines a recording for a mailbox that does not exist, with its sidecar', async () => {
    const rec = wav(join(store.tmpDir, 'call-4.wav'), 2000);
    await writeRecordingSidecar(rec, meta({ mailbox: '99999' }));
    const report = await store.repair();
    expect(report.quarantined).toEqual([join(dir, 'orphans', '99999', 'call-4.wav')]);
    expect(readdirSync(join(dir, 'orphans', '99999')).sort()).toEqual(['call-4.json', 'call-4.wav']);
    expect(tmpFiles()).toEqual([]);
  });
});

describe('(b) audio under messages/ without a row', () => {
  it('re-attaches it from its sidecar as a new message', async () => {
    const m = await deposit({ urgent: true, fromName: 'Carol' });
    await store.markHeard(m.id);
    deleteRow(m.id);
    const report = await store.repair();
    expect(report.reattached).toEqual([m.id]);
    expect(await store.getMessage(m.id)).toEqual({ ...m, folder: 'new', heard: false });
  });

  it('re-attaches audio and sidecar written by hand (a crash just before the commit)', async () => {
    const id = newMessageId();
    mkdirSync(mailboxDir(), { recursive: true });
    wav(join(mailboxDir(), `${id}.wav`), 2000);
    await writeMessageSidecar(join(mailboxDir(), `${id}.json`), {
      id,
      mailbox: '27000',
      from: '',
      fromName: '',
      receivedAt: 5,
      durationMs: 2000,
      urgent: false,
      reason: 'direct',
    });
    expect((await store.repair()).reattached).toEqual([id]);
    expect((await store.listMessages('27000')).map((m) => m.id)).toEqual([id]);
  });

  it('quarantines audio with no sidecar to orphans/<mailbox>/', async () => {
    const m = await deposit();
    deleteRow(m.id);
    rmSync(join(mailboxDir(), `${m.id}.json`));
    const report = await store.repair();
    const moved = join(dir, 'orphans', '27000', `${m.id}.wav`);
    expect(report).toMatchObject({ reattached: [], quarantined: [moved] });
    expect(existsSync(moved)).toBe(true);
    expect(existsSync(m.audioPath)).toBe(false);
  });

  it('quarantines audio whose sidecar is unreadable or names another mailbox, sidecar and all', async () => {
    const a = await deposit();
    const b = await deposit();
    deleteRow(a.id);
    deleteRow(b.id);
    writeFileSync(join(mailboxDir(), `${a.id}.json`), '{"id": "tru');
    const sidecar = JSON.parse(readFileSync(join(mailboxDir(), `${b.id}.json`), 'utf8'));
    writeFileSync(join(mailboxDir(), `${b.id}.json`), JSON.stringify({ ...sidecar, mailbox: '27001' }));
    const report = await store.repair();
    expect(report.quarantined.sort()).toEqual([a.id, b.id].sort().map((id) => join(dir, 'orphans', '27000', `${id}.wav`)));
    expect(readdirSync(join(dir, 'orphans', '27000'))).toHaveLength(4);
    expect(readdirSync(mailboxDir())).toEqual([]);
  });

  it('quarantines audio in the folder of a mailbox that does not exist', async () => {
    mkdirSync(mailboxDir('555'), { recursive: true });
    wav(join(mailboxDir('555'), 'stray.wav'), 1000);
    expect((await store.repair()).quarantined).toEqual([join(dir, 'orphans', '555', 'stray.wav')]);
  });

  it('does not overwrite a file of the same name already in orphans/', async () => {
    mkdirSync(join(dir, 'orphans', '27000'), { recursive: true });
    writeFileSync(join(dir, 'orphans', '27000', 'old.wav'), 'first');
    mkdirSync(mailboxDir(), { recursive: true });
    wav(join(mailboxDir(), 'old.wav'), 1000);
    expect((await store.repair()).quarantined).toEqual([join(dir, 'orphans', '27000', 'old.1.wav')]);
    expect(readFileSync(join(dir, 'orphans', '27000', 'old.wav'), 'utf8')).toBe('first');
  });

  it('removes sidecars whose audio is gone (an interrupted purge) and .part files', async () => {
    const m = await deposit();
    const keep = await deposit();
    await store.setFolder(m.id, 'deleted');
    await store.purgeDeleted('27000');
    await writeMessageSidecar(join(mailboxDir(), `${m.id}.json`), { id: m.id, mailbox: '27000', from: '', fromName: '', receivedAt: 1, durationMs: 1, urgent: false, reason: 'other' });
    writeFileSync(join(mailboxDir(), `${newMessageId()}.wav.part`), 'x');
    const report = await store.repair();
    expect(report).toEqual({ reattached: [], quarantined: [], missingAudio: [], tempFilesRemoved: 0 });
    expect(readdirSync(mailboxDir()).sort()).toEqual([`${keep.id}.json`, `${keep.id}.wav`]);
  });
});

describe('(c) rows whose audio is missing', () => {
  it('marks them deleted and reports them', async () => {
    const lost = await deposit();
    const fine = await deposit();
    rmSync(lost.audioPath);
    const report = await store.repair();
    expect(report.missingAudio).toEqual([lost.id]);
    expect((await store.getMessage(lost.id))!.folder).toBe('deleted');
    expect((await store.listMessages('27000')).map((m) => m.id)).toEqual([fine.id]);
  });
});

it('announces the counts of mailboxes it changed, and a second repair finds nothing', async () => {
  const lost = await deposit();
  rmSync(lost.audioPath);
  await writeRecordingSidecar(wav(join(store.tmpDir, 'call.wav'), 2000), meta({ urgent: false }));
  const seen: [string, MessageCounts][] = [];
  store.events.on('counts', (mb, c) => seen.push([mb, c]));
  await store.repair();
  expect(seen.at(-1)).toEqual(['27000', { new: 1, saved: 0, urgentNew: 0, urgentSaved: 0 }]);
  expect(await store.repair()).toEqual({ reattached: [], quarantined: [], missingAudio: [], tempFilesRemoved: 0 });
});
