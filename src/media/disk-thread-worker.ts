/**
 * The recording disk thread's body (disk-thread.ts starts it): takes batches of file operations from the main
 * thread, runs them in order with synchronous fs calls (this thread paces nothing, so blocking here is what
 * it is for), and answers each batch with one message. Errors travel as plain data (code, syscall, path).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { DiskOp, DiskResult } from './disk-thread.js';

function run(op: DiskOp): DiskResult {
  try {
    if (op.kind === 'open') return { id: op.id, fd: openSync(op.path, 'w') };
    if (op.kind === 'close') {
      closeSync(op.fd);
      return { id: op.id };
    }
    for (let done = 0; done < op.length; ) done += writeSync(op.fd, op.data, done, op.length - done, op.position + done);
    return { id: op.id };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { id: op.id, error: { message: e.message, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path } };
  }
}

parentPort!.on('message', (ops: DiskOp[]) => parentPort!.postMessage(ops.map(run)));
// Node's warnings here (a descriptor tracked twice, ...) are told to the main thread as well as printed.
process.on('warning', (w) => parentPort!.postMessage({ warning: w.message }));
