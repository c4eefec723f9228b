/*
 * A deposit whose mailbox another process or host renumbered or deleted while the caller was recording (the
 * call found the mailbox at its start; the deposit comes at the hang-up), the same tests against each engine
 * (test/helpers/store-engines.ts). Real database, real files. "The other process" is a second store instance:
 * on SQLite the same folder, on PostgreSQL another host (same database, its own folder).
 *
 * Covers:
 * - renumbered: the deposit for the old number lands in the renumbered mailbox, playable (following two
 *   renumbers in a row too);
 * - deleted: the deposit rejects with MailboxGoneError (a NoSuchMailboxError), and the recording with its sidecar
 *   is at once in orphans/<number>/ (named by the error), not left in tmp/, and an error line says so;
 * - a recording cut short by a crash, for a number renumbered before the restart: repair delivers it to the
 *   renumbered mailbox (before: quarantined);
 * - a deposit placed and not committed (PostgreSQL: kept on this host through an outage; SQLite: a crash before
 *   the insert), the mailbox renumbered by another process meanwhile: repair commits it into the renumbered
 *   mailbox (before: quarantined, its sidecar naming a number gone).
 * Does not cover: a renumber killed half-way (test/integration/renumber-crash.test.ts); a renumber or delete
 * committed between a SQLite deposit's placing of its files and its insert (store-deposit-race.test.ts).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseWavHeader } from '../../src/media/wav.js';
import { MailboxGoneError } from '../../src/store/errors.js';
import type { StoreLayout } from '../../src/store/layout.js';
import { placeMessage } from '../../src/store/message-files.js';
import { recordingSidecarPath, writeRecordingSidecar } from '../../src/store/recording-sidecar.js';
import { NoSuchMailboxError, type MessageStore } from '../../src/store/types.js';
import { newMessage, recordingIn } from '../helpers/store-fixture.js';
import { storeEngines, type StorePlace } from '../helpers/store-engines.js';

const layoutOf = (store: MessageStore): StoreLayout => (store as unknown as { layout: StoreLayout }).layout;

function expectPlayable(path: string): void {
  const bytes = readFileSync(path);
  const info = parseWavHeader(bytes);
  expect(bytes.length - info.dataOffset).toBeGreaterThan(0);
  expect(bytes.readUInt32LE(info.dataOffset - 4)).toBe(bytes.length - info.dataOffset);
}

describe.each(storeEngines())('the $name store: a deposit for a mailbox changed during the call', (engine) => {
  let place: StorePlace;
  let otherPlace: StorePlace;
  /** The store of the process taking the call. */
  let store: MessageStore;
  /** Another process or host, where the administrator changes the mailbox. */
  let other: MessageStore;
  const errors: { msg?: string; file?: string }[] = [];
  const logger = pino({ level: 'error' }, { write: (l: string) => void errors.push(JSON.parse(l) as { msg?: string }) });

  beforeEach(async () => {
    errors.length = 0;
    place = await engine.place();
    otherPlace = engine.onOtherHost(place);
    store = await engine.open(place, { logger });
    other = await engine.open(otherPlace);
    await store.createMailbox({ number: '27000', name: 'Alice', pin: '4826' });
  });

  afterEach(async () => {
    await other.close();
    await store.close();
    for (const p of new Set([place.dir, otherPlace.dir])) rmSync(p, { recursive: true, force: true });
  });

  it('renumbered: the message lands in the renumbered mailbox, playable', async () => {
    const message = newMessage(store.tmpDir);
    await other.renumberMailbox('27000', '27100');
    const stored = await store.deposit(message);
    expect(stored.mailbox).toBe('27100');
    const listed = await store.listMessages('27100');
    expect(listed.map((m) => m.id)).toEqual([stored.id]);
    expectPlayable(listed[0]!.audioPath);
  });

  it('renumbered twice: the message follows both', async () => {
    const message = newMessage(store.tmpDir);
    await other.renumberMailbox('27000', '27100');
    await other.renumberMailbox('27100', '27200');
    expect((await store.deposit(message)).mailbox).toBe('27200');
    expect(await store.listMessages('27200')).toHaveLength(1);
  });

  it('deleted: rejects with MailboxGoneError, the recording kept in orphans/27000/ with its sidecar, logged', async () => {
    const message = newMessage(store.tmpDir);
    await writeRecordingSidecar(message.audioFile, { mailbox: '27000', from: '4455', fromName: 'Bob', reason: 'no-answer', urgent: false, receivedAt: Date.now() });
    await other.deleteMailbox('27000');
    const err = await store.deposit(message).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MailboxGoneError);
    expect(err).toBeInstanceOf(NoSuchMailboxError);
    const keptAt = (err as MailboxGoneError).keptAt;
    expect(keptAt.startsWith(join(place.dir, 'orphans', '27000'))).toBe(true);
    expectPlayable(keptAt);
    expect(existsSync(recordingSidecarPath(keptAt))).toBe(true);
    expect(existsSync(message.audioFile)).toBe(false);
    expect(errors.find((l) => l.msg?.startsWith('mailbox deleted during the call'))).toMatchObject({ file: keptAt });
  });

  it('a recording cut short by a crash, its number renumbered before the restart: repair delivers it to the renumbered mailbox', async () => {
    const wav = recordingIn(store.tmpDir, 2000);
    await writeRecordingSidecar(wav, { mailbox: '27000', from: '4455', fromName: 'Bob', reason: 'no-answer', urgent: false, receivedAt: Date.now() });
    await other.renumberMailbox('27000', '27100');
    const report = await store.repair();
    expect(report.quarantined).toEqual([]);
    expect(report.reattached).toHaveLength(1);
    expect(await store.listMessages('27100')).toHaveLength(1);
  });

  it('a deposit placed and not committed, the mailbox renumbered by another process meanwhile: repair commits it into the renumbered mailbox', async () => {
    // Audio and sidecar, no row: on PostgreSQL a deposit kept on this host through an outage; on SQLite a crash
    // between the files and the insert.
    const kept = await placeMessage(layoutOf(store), '27000', newMessage(store.tmpDir));
    await other.renumberMailbox('27000', '27100');
    const report = await store.repair();
    expect(report.quarantined).toEqual([]);
    expect(report.reattached).toEqual([kept.id]);
    const listed = await store.listMessages('27100');
    expect(listed.map((m) => m.id)).toEqual([kept.id]);
    expectPlayable(listed[0]!.audioPath);
  });
});
