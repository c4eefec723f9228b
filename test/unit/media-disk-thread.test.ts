/**
 * The recordings' disk thread (media/disk-thread.ts) with real files: what a recording asks of the disk while
 * it runs (creating its file, the periodic writes) is done by that thread, not by libuv requests from the
 * thread that paces RTP.
 *
 * Covers: a Recorder's recording reaches the disk whole and correct while node's fs is never called on the
 * main thread, its end included (truncate of a cut recording, header, fsync: a hand-off to libuv's thread pool
 * blocked the main thread for up to 22 ms on a loaded machine), and its file is closed by the thread that
 * opened it; an fsync on one file does not wait for, nor hold up, the operations queued after it; the thread
 * runs nicer than the one that started it (Linux: nice is per thread); writes asked
 * for in one turn of the loop land in order at their positions; a descriptor it did not open is refused (a
 * thread that dies closes its own, and their numbers may be reused); an open that fails reaches the caller as the fs error (code, syscall).
 * Does not cover: the thread dying (every pending operation then fails; not reachable from outside without
 * killing the process), timing under load (bench/media-capacity.ts).
 */
import fs from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { recordingDisk } from '../../src/media/disk-thread.js';
import { HELPER_NICENESS } from '../../src/thread-priority.js';
import { Recorder } from '../../src/media/recorder.js';
import { readWavFile } from '../../src/media/wav.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmpilot-disk-thread-'));
  await recordingDisk().ready();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

const written = (fd: number, bytes: Uint8Array, position: number): Promise<void> =>
  new Promise((resolve, reject) => recordingDisk().write(fd, bytes, 0, bytes.length, position, (err) => (err ? reject(err) : resolve())));

describe('a recording', () => {
  /** Every node fs function a recording could reach on the main thread (callback and promise forms). */
  const spyOnFs = () =>
    (['open', 'write', 'close', 'fsync', 'fdatasync', 'ftruncate', 'truncate', 'writeFile', 'appendFile'] as const).map((name) => vi.spyOn(fs, name));

  it('MUST reach the disk, end included, without any fs request from the main thread', async () => {
    const spies = spyOnFs();
    const rec = new Recorder();
    const path = join(dir, 'recording.wav');
    const done = rec.start(path, { maxMs: 60_000, endOnDigits: '' });
    // 3 s of a ramp in 20 ms frames: periodic writes at 250 ms, then 500 ms (WavWriter's clock is real time).
    const frame = new Int16Array(160);
    let sample = 0;
    for (let f = 0; f < 150; f++) {
      for (let i = 0; i < 160; i++) frame[i] = (sample++ % 2000) - 1000;
      rec.pushSamples(frame, 160);
      if (f % 10 === 9) await new Promise((r) => setTimeout(r, 200));
    }
    rec.hangup();
    const outcome = await done;
    expect(outcome.durationMs).toBe(3000);
    const audio = await readWavFile(path);
    expect(audio.samples.length).toBe(24_000);
    expect(audio.samples[12_345]).toBe((12_345 % 2000) - 1000);
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
  });

  it('MUST cut a recording ended by a key in the thread too (its truncate and header)', async () => {
    const spies = spyOnFs();
    const rec = new Recorder();
    const path = join(dir, 'cut.wav');
    const done = rec.start(path, { maxMs: 60_000, endOnDigits: '#', digitTrimMs: 0, digitGuardMs: 0 });
    const frame = new Int16Array(160).fill(1000);
    // 2 s, with a pause so that the audio past the cut is already on disk when the key comes.
    for (let f = 0; f < 100; f++) {
      rec.pushSamples(frame, 160);
      if (f % 25 === 24) await new Promise((r) => setTimeout(r, 300));
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(rec.digit('#', 8000)).toBe(true); // cut at 1 s
    const outcome = await done;
    expect(outcome.durationMs).toBe(1000);
    const audio = await readWavFile(path);
    expect(audio.samples.length).toBe(8000);
    expect((await readFile(path)).length).toBe(44 + 16_000);
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
  });

  it('MUST close its file in the thread that opened it (one recording after another reuses the descriptor)', async () => {
    // A worker thread tracks the descriptors it opens until it closes them (and closes them when it exits):
    // one closed from the main thread stays tracked, and node warns when its number is opened again.
    const warnings: string[] = [];
    const onWarning = (message: string): void => void warnings.push(message);
    recordingDisk().on('warning', onWarning);
    try {
      for (let i = 0; i < 3; i++) {
        const rec = new Recorder();
        const done = rec.start(join(dir, `again-${i}.wav`), { maxMs: 60_000, endOnDigits: '' });
        rec.pushSamples(new Int16Array(160), 160);
        rec.hangup();
        expect((await done).durationMs).toBe(20);
      }
      await new Promise((r) => setTimeout(r, 50)); // warnings are emitted on a later tick
    } finally {
      recordingDisk().off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });
});

describe('DiskThread', () => {
  it('MUST land writes asked for in one turn in order, at their positions', async () => {
    const fd = await new Promise<number>((resolve, reject) => recordingDisk().open(join(dir, 'ordered.bin'), (err, fd) => (err ? reject(err) : resolve(fd))));
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 8; i++) writes.push(written(fd, new Uint8Array(4).fill(i), i * 4));
    // Two writes to one place: the later one wins, as it would with sequential fs calls.
    writes.push(written(fd, new Uint8Array([9, 9]), 30));
    await Promise.all(writes);
    await new Promise<void>((resolve, reject) => recordingDisk().close(fd, (err) => (err ? reject(err) : resolve())));
    const bytes = await readFile(join(dir, 'ordered.bin'));
    expect([...bytes]).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 9, 9]);
    expect(recordingDisk().inFlight).toBe(0);
  });

  it('MUST fsync a file it opened, and answer the writes queued with the fsync', async () => {
    const open = (name: string): Promise<number> =>
      new Promise((resolve, reject) => recordingDisk().open(join(dir, name), (err, fd) => (err ? reject(err) : resolve(fd))));
    const a = await open('synced.bin');
    const b = await open('other.bin');
    await written(a, new Uint8Array(64 * 1024).fill(1), 0);
    const synced = new Promise<void>((resolve, reject) => recordingDisk().sync(a, (err) => (err ? reject(err) : resolve())));
    await Promise.all([synced, written(b, new Uint8Array([7, 7]), 0)]);
    for (const fd of [a, b]) await new Promise<void>((resolve, reject) => recordingDisk().close(fd, (err) => (err ? reject(err) : resolve())));
    expect([...(await readFile(join(dir, 'other.bin')))]).toEqual([7, 7]);
    expect(recordingDisk().inFlight).toBe(0);
  });

  it('MUST run nicer than the thread that paces RTP (HELPER_NICENESS more)', () => {
    // /proc/<pid>/task/<tid>/stat: the nice value is the 19th field, the 17th after the ")" that ends the name.
    const nice = (stat: string): number => Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    const mine = nice(fs.readFileSync('/proc/thread-self/stat', 'utf8'));
    const threads = fs.readdirSync('/proc/self/task').map((tid) => nice(fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')));
    expect(threads).toContain(Math.min(19, mine + HELPER_NICENESS));
  });

  it('MUST refuse to write to a descriptor it did not open (one its dead thread closed may be anyone\'s now)', async () => {
    const path = join(dir, 'not-ours.bin');
    const fd = fs.openSync(path, 'w');
    try {
      const err = await written(fd, new Uint8Array([1, 2, 3]), 0).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'EBADF' });
    } finally {
      fs.closeSync(fd);
    }
    expect((await readFile(path)).length).toBe(0);
  });

  it('MUST report a failed open with the fs error', async () => {
    const err = await new Promise<Error | null>((resolve) => recordingDisk().open(join(dir, 'no-such-folder', 'x.wav'), (e) => resolve(e)));
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code: 'ENOENT', syscall: 'open' });
  });
});
