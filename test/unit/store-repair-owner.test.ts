/*
 * Start-up repair and recordings in progress of OTHER processes (src/store/owner.ts, repair.ts pass (a)): each
 * process records into tmp/pid-<pid>-<start>/; repair leaves the folder of a process that still runs alone and
 * takes the folder of one that is gone.
 *
 * The other process is a real child process (a stand-in for a worker: it only has to run, or not); its
 * recording in progress is a WAV with its sidecar in the folder named after it, as the voicemail app leaves.
 *
 * Covers: a running worker's recording is left alone (files, folder, report); once the worker is killed, the
 * next repair delivers it and removes the folder; a folder whose pid now belongs to another process (start time
 * differs) is taken; loose files in tmp/ (older versions) are still taken.
 * Does not cover: what repair does with a taken recording (store-repair.test.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ownTag, ownerRuns, tagOf } from '../../src/store/owner.js';
import { writeRecordingSidecar } from '../../src/store/recording-sidecar.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { recordingIn } from '../helpers/store-fixture.js';

let dir: string;
let store: SqliteStore;
let worker: ChildProcess | undefined;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vmpilot-owner-'));
  store = await openSqliteStore(dir);
  await store.createMailbox({ number: '27000', name: 'Alice', pin: '2580' });
});

afterEach(async () => {
  worker?.kill('SIGKILL');
  worker = undefined;
  await store.close();
});

/** A running process standing in for another worker; resolves once it runs. */
async function startWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  return child;
}

/** A recording in progress (2 s, with its sidecar) in `folder`, as the voicemail app writes it. */
async function recordingInProgress(folder: string): Promise<string> {
  mkdirSync(folder, { recursive: true });
  const wav = recordingIn(folder, 2000, 'call.wav');
  await writeRecordingSidecar(wav, { mailbox: '27000', from: '4455', fromName: 'Bob', reason: 'busy', urgent: false, receivedAt: Date.now() });
  return wav;
}

describe('repair and another process recording', () => {
  it("leaves a running worker's recording alone, and delivers it once the worker is gone", async () => {
    worker = await startWorker();
    const tag = (await tagOf(worker.pid!))!;
    const folder = join(dir, 'tmp', tag);
    const wav = await recordingInProgress(folder);

    const whileRunning = await store.repair();
    expect(whileRunning).toMatchObject({ reattached: [], tempFilesRemoved: 0 });
    expect(readdirSync(folder).sort()).toEqual(['call.json', 'call.wav']);
    expect(existsSync(wav)).toBe(true);

    const exited = new Promise((resolve) => worker!.once('exit', resolve));
    worker.kill('SIGKILL');
    await exited;
    expect(await ownerRuns(tag)).toBe(false);

    const afterDeath = await store.repair();
    expect(afterDeath.reattached).toHaveLength(1);
    expect(await store.counts('27000')).toMatchObject({ new: 1 });
    expect(existsSync(folder)).toBe(false);
  });

  it('takes the folder of a pid that another process has since (its start time differs)', async () => {
    worker = await startWorker();
    const tag = (await tagOf(worker.pid!))!;
    const stale = tag.replace(/-(\d+)$/, (_, ticks: string) => `-${Number(ticks) + 1}`);
    await recordingInProgress(join(dir, 'tmp', stale));
    expect((await store.repair()).reattached).toHaveLength(1);
  });

  it('still takes loose recordings in tmp/ (left by versions that recorded there)', async () => {
    await recordingInProgress(join(dir, 'tmp'));
    expect((await store.repair()).reattached).toHaveLength(1);
  });

  it("records into this process's own folder", async () => {
    expect(store.tmpDir).toBe(join(dir, 'tmp', await ownTag()));
    expect(await ownerRuns(await ownTag())).toBe(true);
  });
});
