/**
 * The recording disk thread's body (disk-thread.ts starts it): takes batches of file operations from the main
 * thread, runs them in order with synchronous fs calls (this thread paces nothing, so blocking here is what
 * it is for), and answers each batch with one message. An fsync is the exception: it goes to libuv's thread
 * pool and is answered by a message of its own when it is done, so that it does not hold up the writes queued
 * behind it (the caller asks for nothing more on that file until it is answered). Errors travel as plain
 * data (code, syscall, path). It runs nicer than the thread that paces RTP (thread-priority.ts): its work may
 * lag by seconds (WavWriter holds the audio meanwhile), a packet may not.
 */
import { closeSync, fsync, ftruncateSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { DiskOp, DiskResult } from './disk-thread.js';
import { yieldToPacingThread } from '../thread-priority.js';
import { writeFileDurably } from '../store/audio-files.js';

yieldToPacingThread();

function failure(id: number, err: unknown): DiskResult {
  const e = err as NodeJS.ErrnoException;
  return { id, error: { message: e.message, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path } };
}

/** Runs one operation; undefined for an fsync or a durable write, which answer by themselves later. */
function run(op: DiskOp): DiskResult | undefined {
  try {
    switch (op.kind) {
      case 'open':
        return { id: op.id, fd: openSync(op.path, 'w') };
      case 'close':
        closeSync(op.fd);
        return { id: op.id };
      case 'truncate':
        ftruncateSync(op.fd, op.length);
        return { id: op.id };
      case 'fsync':
        fsync(op.fd, (err) => parentPort!.postMessage([err ? failure(op.id, err) : { id: op.id }]));
        return undefined;
      case 'write':
        for (let done = 0; done < op.length; ) done += writeSync(op.fd, op.data, done, op.length - done, op.position + done);
        return { id: op.id };
      case 'mkdir':
        mkdirSync(op.path, { recursive: true });
        return { id: op.id };
      case 'remove':
        rmSync(op.path, { force: true });
        return { id: op.id };
      case 'writeDurably':
        // Its fsync on the thread pool, like an fsync's: the writes queued behind it do not wait for it.
        writeFileDurably(op.path, op.data).then(
          () => parentPort!.postMessage([{ id: op.id }]),
          (err: unknown) => parentPort!.postMessage([failure(op.id, err)]),
        );
        return undefined;
    }
  } catch (err) {
    return failure(op.id, err);
  }
}

parentPort!.on('message', (ops: DiskOp[]) => {
  const results: DiskResult[] = [];
  for (const op of ops) {
    const result = run(op);
    if (result !== undefined) results.push(result);
  }
  if (results.length > 0) parentPort!.postMessage(results);
});
// Node's warnings here (a descriptor tracked twice, ...) are told to the main thread as well as printed.
process.on('warning', (w) => parentPort!.postMessage({ warning: w.message }));
