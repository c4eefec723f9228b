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
 * differs) is taken; loose files in tmp/ (older versions) are still taken. recoverRecordings (a worker's
 * restart): a stopped worker's recording delivered once when two processes recover at once, running workers'
 * and loose files untouched; a folder claimed by a recoverer that then died is taken with that recoverer's.
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

/** tmp/<tag>/ of a process that ran and has exited. */
async function stoppedWorkerFolder(): Promise<string> {
  const child = await startWorker();
  const tag = (await tagOf(child.pid!))!;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  const folder = join(dir, 'tmp', tag);
  mkdirSync(folder, { recursive: true });
  return folder;
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

  it('recoverRecordings takes a stopped worker\'s recording, once, beside a running worker and loose files', async () => {
    worker = await startWorker();
    const running = join(dir, 'tmp', (await tagOf(worker.pid!))!);
    await recordingInProgress(running);
    const loose = await recordingInProgress(join(dir, 'tmp'));
    const stopped = await stoppedWorkerFolder();
    await recordingInProgress(stopped);

    // Two processes recovering at once (two workers restarting): the claim lets exactly one deliver it.
    const second = await openSqliteStore(dir);
    try {
      const [a, b] = await Promise.all([store.recoverRecordings(), second.recoverRecordings()]);
      expect(a.reattached.length + b.reattached.length).toBe(1);
    } finally {
      await second.close();
    }
    expect(await store.counts('27000')).toMatchObject({ new: 1 });
    expect(existsSync(stopped)).toBe(false);
    expect(readdirSync(running).sort()).toEqual(['call.json', 'call.wav']);
    expect(existsSync(loose)).toBe(true); // older versions' files wait for the full repair at start-up
  });

  it("a claimed folder left by a recoverer that died is taken with the recoverer's own folder", async () => {
    const recoverer = await stoppedWorkerFolder();
    const stopped = await stoppedWorkerFolder();
    // The recoverer had moved the stopped worker's folder into its own, then died.
    await recordingInProgress(join(recoverer, stopped.split('/').pop()!));
    expect((await store.recoverRecordings()).reattached).toHaveLength(1);
    expect(existsSync(recoverer)).toBe(false);
  });

  it("records into this process's own folder", async () => {
    expect(store.tmpDir).toBe(join(dir, 'tmp', await ownTag()));
    expect(await ownerRuns(await ownTag())).toBe(true);
  });
});
