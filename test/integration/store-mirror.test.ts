/*
 * The mirror (issue 10): `vmpilot mirror --to DIR` as a real process keeping a SQLite standby identical to a
 * SQLite primary, `vmpilot mirror verify` and `vmpilot mirror restore` as real commands, real files.
 *
 * Covers: 500 deposits, 100 reads, 50 deletions (moves to 'deleted', some purged for good) and 20 mailbox
 * changes (names, PINs, quotas, aliases, greetings and recorded names added, replaced and removed, mailboxes
 * created and removed) made through the store API while the mirror runs, while it is killed (SIGKILL) and
 * after it is restarted (its catch-up sweep), and while the standby cannot take audio (its messages folder
 * replaced by a file: writes fail, the mirror backs off and catches up when it is back); afterwards
 * `mirror verify` reports no difference, and `mirror restore` into an empty store gives the same mailboxes
 * and playable messages (every WAV parses, with its duration), refusing a store that is not empty. A standby
 * whose audio was damaged (one byte) is reported by `mirror verify` with exit 1.
 *
 * Does not cover: PostgreSQL on either side (store-mirror-postgres.test.ts); deposits by real calls (the
 * store API is what a call's deposit ends in); the lag figure (bench/mirror-lag.ts).
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logLine, logRecords, runCli, startCli, stopServing, type Serving } from '../helpers/cli-process.js';
import { untilIdentical } from '../helpers/replica-wait.js';
import { recordingIn } from '../helpers/store-fixture.js';
import { readWavFile } from '../../src/media/wav.js';
import { compareStores } from '../../src/store/replica/compare.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import type { GreetingKind } from '../../src/store/types.js';

const root = mkdtempSync(join(tmpdir(), 'vmpilot-mirror-'));
const primaryDir = join(root, 'primary');
const standbyDir = join(root, 'standby');
const restoredDir = join(root, 'restored');
const primaryConfig = join(root, 'primary.yaml');
const restoredConfig = join(root, 'restored.yaml');
const MAILBOXES = Array.from({ length: 20 }, (_, i) => String(27000 + i));

let primary: SqliteStore;
let mirror: Serving | undefined;
const mirrorRuns: Serving[] = [];
/** A fixed sequence of pseudo-random numbers: the same operations on every run. */
let seed = 42;
const random = (n: number): number => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed % n;
};
const tally = { deposits: 0, reads: 0, deletions: 0, mailboxChanges: 0 };

function startMirror(): Serving {
  mirror = startCli('mirror', '--to', `sqlite:${standbyDir}`, '--config', primaryConfig, '--sweep-s', '2');
  mirrorRuns.push(mirror);
  return mirror;
}

async function deposits(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const mailbox = MAILBOXES[random(MAILBOXES.length)]!;
    const ms = 100 + random(5) * 20;
    await primary.deposit({ mailbox, from: `4455${i}`, fromName: 'Caller', durationMs: ms, urgent: random(7) === 0, reason: 'no-answer', audioFile: recordingIn(primary.tmpDir, ms) });
    tally.deposits++;
  }
}

async function reads(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const unheard = await primary.listMessages(MAILBOXES[random(MAILBOXES.length)]!, 'new');
    if (unheard.length === 0) continue;
    await primary.markHeard(unheard[random(unheard.length)]!.id);
    tally.reads++;
  }
}

/** Moves n messages to 'deleted'; every third mailbox touched is purged (rows and audio gone for good). */
async function deletions(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const mailbox = MAILBOXES[random(MAILBOXES.length)]!;
    const all = await primary.listMessages(mailbox);
    if (all.length === 0) continue;
    await primary.setFolder(all[random(all.length)]!.id, 'deleted');
    tally.deletions++;
    if (i % 3 === 0) await primary.purgeDeleted(mailbox);
  }
}

const CHANGES: ((i: number) => Promise<unknown>)[] = [
  (i) => primary.updateMailbox(MAILBOXES[i % 20]!, { name: `Renamed ${i}` }),
  (i) => primary.setPin(MAILBOXES[(i + 3) % 20]!, `${4000 + i}`),
  (i) => primary.setGreeting(MAILBOXES[(i + 5) % 20]!, 'unavailable', recordingIn(primary.tmpDir, 300 + i)),
  (i) => primary.setGreeting(MAILBOXES[(i + 7) % 20]!, 'name', recordingIn(primary.tmpDir, 200 + i)),
  (i) => primary.updateMailbox(MAILBOXES[(i + 9) % 20]!, { maxMessages: 100 + i, aliases: [`55500${i}`], locked: i % 2 === 0 }),
  async (i) => {
    // A greeting removed: the last one set by the third change, or a new one set and removed.
    const number = MAILBOXES[(i + 2) % 20]!;
    await primary.setGreeting(number, 'busy', recordingIn(primary.tmpDir, 250));
    await primary.setGreeting(number, 'busy' as GreetingKind, undefined);
  },
  (i) => primary.createMailbox({ number: `2810${i}`, name: `New ${i}`, pin: '9753' }),
  // A mailbox deleted, with its messages: one created above, given a message first.
  async () => {
    const created = (await primary.listMailboxes()).find((m) => m.number.startsWith('2810'));
    if (!created) return;
    await primary.deposit({ mailbox: created.number, from: '4455', fromName: '', durationMs: 100, urgent: false, reason: 'busy', audioFile: recordingIn(primary.tmpDir, 100) });
    await primary.deleteMailbox(created.number);
  },
];

async function mailboxChanges(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await CHANGES[tally.mailboxChanges % CHANGES.length]!(tally.mailboxChanges);
    tally.mailboxChanges++;
  }
}

/** A share of the workload: n hundredths of 500 deposits, 100 reads, 50 deletions, 20 mailbox changes. */
async function workload(share: number): Promise<void> {
  await deposits(5 * share);
  await reads(share);
  await deletions(share / 2);
  await mailboxChanges(share / 5);
}

/** Waits until the standby compares identical to the primary (the mirror has caught up), bounded in time. */
async function caughtUp(timeoutMs: number): Promise<void> {
  const standby = await openSqliteStore(standbyDir);
  try {
    await untilIdentical(primary.replica(), standby.replica(), timeoutMs);
  } finally {
    await standby.close();
  }
}

beforeAll(async () => {
  writeFileSync(primaryConfig, `storage: { dir: ${JSON.stringify(primaryDir)} }\nlog: { level: info }\n`);
  writeFileSync(restoredConfig, `storage: { dir: ${JSON.stringify(restoredDir)} }\n`);
  primary = await openSqliteStore(primaryDir);
  // One PIN hash (scrypt is slow on purpose) for all: the others are written as the replica writes them.
  const first = await primary.createMailbox({ number: MAILBOXES[0]!, name: `Owner ${MAILBOXES[0]}`, pin: '2580' });
  const fields = (await primary.replica().mailbox(first.number))!;
  for (const number of MAILBOXES.slice(1)) await primary.replica().putMailbox({ ...fields, number, name: `Owner ${number}` });
});

afterAll(async () => {
  for (const run of mirrorRuns) await stopServing(run);
  await primary?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('vmpilot mirror', () => {
  it('keeps the standby identical through a kill, a restart and an outage; verify finds no difference; restore rebuilds the primary', async () => {
    startMirror();
    await logLine(mirror!, 'mirror sweep');
    await workload(30);

    // The mirror killed mid-stream: what happens meanwhile is caught up by the next one's first sweep.
    mirror!.child.kill('SIGKILL');
    await mirror!.exited;
    await workload(30);
    startMirror();
    await logLine(mirror!, 'mirror sweep');

    // The standby cannot take audio for a while: its messages folder is a file.
    const messages = join(standbyDir, 'messages');
    renameSync(messages, `${messages}.away`);
    writeFileSync(messages, 'not a folder');
    await workload(20);
    await logLine(mirror!, 'mirror pass failed');
    rmSync(messages);
    renameSync(`${messages}.away`, messages);
    await workload(20);
    expect(tally).toMatchObject({ deposits: 500, mailboxChanges: 20 });
    expect(tally.reads).toBeGreaterThanOrEqual(90);
    expect(tally.deletions).toBeGreaterThanOrEqual(45);

    await caughtUp(20_000);
    const copiedLines = logRecords(mirrorRuns[0]!).concat(logRecords(mirror!)).filter((r) => r.msg === 'mirror copied a message');
    expect(copiedLines.length).toBeGreaterThan(0);
    await stopServing(mirror);
    expect((await mirror!.exited).code).toBe(0);

    const verified = await runCli('mirror', 'verify', '--to', standbyDir, '--config', primaryConfig);
    expect(verified.stdout).toContain('verified: identical');
    expect(verified.code).toBe(0);

    const restored = await runCli('mirror', 'restore', '--from', `sqlite:${standbyDir}`, '--config', restoredConfig);
    expect(restored.stdout).toContain('verified: identical');
    expect(restored.code).toBe(0);
    const rebuilt = await openSqliteStore(restoredDir);
    try {
      const same = await compareStores(primary.replica(), rebuilt.replica());
      expect(same.differences).toEqual([]);
      expect(same.counts.b.mailboxes).toBe((await primary.listMailboxes()).length);
      let playable = 0;
      for (const m of await rebuilt.listMailboxes()) {
        for (const message of await rebuilt.listMessages(m.number)) {
          const wav = await readWavFile(message.audioPath);
          expect(Math.abs((wav.samples.length / wav.sampleRate) * 1000 - message.durationMs)).toBeLessThanOrEqual(1);
          playable++;
        }
      }
      expect(playable).toBeGreaterThan(300);
    } finally {
      await rebuilt.close();
    }
    // Restoring over a primary that holds messages is refused.
    const refused = await runCli('mirror', 'restore', '--from', standbyDir, '--config', primaryConfig);
    expect(refused.stderr).toMatch(/is not empty/);
    expect(refused.code).toBe(1);
  }, 120_000);

  it('mirror verify reports a standby message whose audio was damaged, with exit 1', async () => {
    const standby = await openSqliteStore(standbyDir);
    const victim = (await standby.replica().messages())[0]!;
    const path = (await standby.getMessage(victim.id))!.audioPath;
    await standby.close();
    const bytes = readFileSync(path);
    bytes[bytes.length - 2] ^= 0x55;
    writeFileSync(path, bytes);
    const verified = await runCli('mirror', 'verify', '--to', standbyDir, '--config', primaryConfig);
    expect(verified.stdout).toContain(`message ${victim.id}: audio differs`);
    expect(verified.code).toBe(1);
  }, 30_000);
});
