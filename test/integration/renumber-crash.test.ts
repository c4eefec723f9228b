/**
 * A mailbox renumber killed half-way (src/store/mailbox-renumber.ts: journaled, finished or rolled back by the
 * start-up repair), on each engine (test/helpers/store-engines.ts): `vmpilot mailbox set 27000 --number 27100`
 * run as a real process and killed (SIGKILL) at a point named by the TEST-ONLY fault hook
 * VMPILOT_TEST_CRASH_AT (src/store/test-crash-point.ts), then the store reopened and repaired as a start does.
 *
 * Covers, with three messages and a greeting in the mailbox:
 * - SQLite killed after the folders were renamed, before the commit (the FIXME window): rolled back, every message
 *   in 27000 and playable, 27100 absent, nothing in orphans/;
 * - SQLite killed after the commit, before the sidecars were rewritten: finished, every message in 27100 and
 *   playable, its sidecar naming 27100;
 * - PostgreSQL killed after the commit, before this host's folders moved, with a deposit that PostgreSQL's
 *   outage kept on the host (audio + sidecar in messages/27000/, not committed): the kept deposit is committed
 *   into 27100 (before: quarantined, its sidecar naming a number that no longer existed), the others playable.
 * Does not cover: renumber semantics (store.test.ts), a deposit racing a renumber (store-deposit-race.test.ts).
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseWavHeader } from '../../src/media/wav.js';
import type { StoreLayout } from '../../src/store/layout.js';
import { placeMessage } from '../../src/store/message-files.js';
import { readMessageSidecar } from '../../src/store/message-sidecar.js';
import type { MessageStore } from '../../src/store/types.js';
import { runCli } from '../helpers/cli-process.js';
import { storeEngines, type StoreEngine, type StorePlace } from '../helpers/store-engines.js';
import { newMessage, recordingIn } from '../helpers/store-fixture.js';

const engines = storeEngines();
const places: StorePlace[] = [];

afterAll(() => {
  for (const p of places) rmSync(p.dir, { recursive: true, force: true });
});

const layoutOf = (store: MessageStore): StoreLayout => (store as unknown as { layout: StoreLayout }).layout;

/** A store with mailbox 27000 holding three messages and a name greeting; closed. Returns the place. */
async function filled(engine: StoreEngine): Promise<StorePlace> {
  const place = await engine.place();
  places.push(place);
  const store = await engine.open(place);
  try {
    await store.createMailbox({ number: '27000', name: 'Alice', pin: '4826' });
    for (let i = 0; i < 3; i++) await store.deposit(newMessage(store.tmpDir, { from: `2700${i}` }));
    await store.setGreeting('27000', 'name', recordingIn(store.tmpDir, 400));
  } finally {
    await store.close();
  }
  return place;
}

/** `vmpilot mailbox set 27000 --number 27100`, killed at `point`. */
async function renumberKilledAt(place: StorePlace, point: string): Promise<void> {
  const config = join(place.dir, 'vmpilot.yaml');
  const storage = place.url === undefined ? `{ dir: ${JSON.stringify(place.dir)} }` : `{ dir: ${JSON.stringify(place.dir)}, url: ${JSON.stringify(place.url)} }`;
  writeFileSync(config, `storage: ${storage}\nhttp: false\nlog: { level: error }\n`);
  process.env.VMPILOT_TEST_CRASH_AT = point;
  try {
    const r = await runCli('mailbox', 'set', '27000', '--number', '27100', '--config', config);
    // Killed: no exit code (SIGKILL), nothing said about success.
    expect(r.code, r.stderr).toBeNull();
  } finally {
    delete process.env.VMPILOT_TEST_CRASH_AT;
  }
}

/** Every listed message's audio is a whole WAV (header sizes agree with the file). */
function expectPlayable(paths: string[]): void {
  for (const path of paths) {
    const bytes = readFileSync(path);
    const info = parseWavHeader(bytes);
    expect(bytes.readUInt32LE(info.dataOffset - 4), path).toBe(bytes.length - info.dataOffset);
    expect(bytes.length - info.dataOffset, path).toBeGreaterThan(0);
  }
}

const orphans = (place: StorePlace): string[] => (existsSync(join(place.dir, 'orphans')) ? readdirSync(join(place.dir, 'orphans'), { recursive: true }).map(String) : []);

describe('a renumber killed half-way, on SQLite', () => {
  const engine = engines.find((e) => e.name === 'sqlite')!;

  it('between the folder rename and the commit: rolled back at start-up, every message in 27000 and playable', async () => {
    const place = await filled(engine);
    await renumberKilledAt(place, 'renumber-files-moved');
    expect(existsSync(join(place.dir, 'messages', '27100')), 'the folder was renamed before the kill').toBe(true);
    const store = await engine.open(place);
    try {
      const report = await store.repair();
      expect(report.quarantined).toEqual([]);
      expect(report.missingAudio).toEqual([]);
      expect(await store.findMailbox('27100')).toBeUndefined();
      const messages = await store.listMessages('27000');
      expect(messages.map((m) => m.from).sort()).toEqual(['27000', '27001', '27002']);
      expectPlayable(messages.map((m) => m.audioPath));
      expect((await store.findMailbox('27000'))!.greetings.name).toBeDefined();
      expect(orphans(place)).toEqual([]);
    } finally {
      await store.close();
    }
  }, 40_000);

  it('after the commit, before the sidecars: finished at start-up, every message in 27100, playable, its sidecar naming 27100', async () => {
    const place = await filled(engine);
    await renumberKilledAt(place, 'renumber-committed');
    const store = await engine.open(place);
    try {
      const report = await store.repair();
      expect(report.quarantined).toEqual([]);
      const messages = await store.listMessages('27100');
      expect(messages).toHaveLength(3);
      expectPlayable(messages.map((m) => m.audioPath));
      for (const m of messages) expect((await readMessageSidecar(m.audioPath.replace(/\.wav$/, '.json')))?.mailbox).toBe('27100');
      expect(orphans(place)).toEqual([]);
    } finally {
      await store.close();
    }
  }, 40_000);
});

describe('a renumber killed half-way, on PostgreSQL', () => {
  const engine = engines.find((e) => e.name === 'postgres')!;

  it('after the commit, before the folders moved: a deposit kept on this host is committed into 27100', async () => {
    const place = await filled(engine);
    const store0 = await engine.open(place);
    // As a deposit made during an outage leaves it: audio and sidecar in messages/27000/, not in the database.
    const kept = await placeMessage(layoutOf(store0), '27000', newMessage(store0.tmpDir, { from: '27009' }));
    await store0.close();
    await renumberKilledAt(place, 'renumber-committed');
    const store = await engine.open(place);
    try {
      const report = await store.repair();
      expect(report.quarantined).toEqual([]);
      expect(report.reattached).toEqual([kept.id]);
      const messages = await store.listMessages('27100');
      expect(messages.map((m) => m.from).sort()).toEqual(['27000', '27001', '27002', '27009']);
      expectPlayable(messages.map((m) => m.audioPath));
      expect(orphans(place)).toEqual([]);
    } finally {
      await store.close();
    }
  }, 60_000);
});
