/**
 * The recording disk thread: opens recordings' files and writes their audio off the thread that paces RTP.
 *
 * Through node's async fs, each periodic write of each recording is one request to libuv's thread pool: an
 * allocation, a hand-off to a pool thread and a completion callback on the main loop, about 1,000 a second at
 * 500 recordings (WavWriter writes every 250-500 ms), plus a file creation per call start. CPU profiles of the
 * capacity bench put that dispatch at 7-9 % of the main thread's samples, and the pool threads doing the
 * writes on the same cores preempt it. Here the operations asked for go to one dedicated thread as one
 * message every BATCH_MS, which runs them in order with sync calls and answers with one message: two messages
 * per batch however many recordings wrote.
 *
 * A recording's end (truncate, header update, fsync, close) comes here too. It used to stay on async fs, once
 * per call, and that was enough to stall the loop: handing a request to libuv's thread pool takes the pool's
 * lock, and while the pool's threads are busy with fsyncs on a loaded machine that hand-off alone measured
 * up to 22 ms on the main thread, and the capacity bench's CPU profiles showed a worker's main thread inside
 * fs.fsync for 120 ms in one stretch as calls ended. The main thread now makes no fs request for a
 * recording at all. The fsync itself is the one operation this thread does not run in line: it goes to the
 * thread pool from here (its answer comes in a message of its own), so that one recording's fsync never
 * holds up the other recordings' writes.
 *
 * The voicemail deposit's own files come here as well (apps/voicemail/deposit.ts, through DepositFiles below):
 * the folder a recording goes in, the recording's sidecar written durably before the recording counts
 * (store/recording-sidecar.ts: written, fsynced, renamed; its answer comes once it is on disk, like an fsync's,
 * without holding up the recordings' writes), and the removal of a take's files. Those were async fs calls on
 * the main thread: three to six hand-offs to libuv's thread pool per message.
 *
 * File descriptors belong to the process, so the main thread may use one this thread opened; but this thread
 * closes what it opened (a worker thread tracks its descriptors until it closes them, and closes them when it
 * exits). The thread is unref'd while nothing is pending (it never keeps a process alive by itself) and ref'd
 * while something is; if it dies, every pending operation fails with the error and the next one starts a new
 * thread.
 */
import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { startThreadModule } from '../thread-module.js';

/** One operation as it crosses to the thread. */
export type DiskOp =
  | { id: number; kind: 'open'; path: string }
  | { id: number; kind: 'write'; fd: number; data: Uint8Array; length: number; position: number }
  | { id: number; kind: 'truncate'; fd: number; length: number }
  | { id: number; kind: 'fsync'; fd: number }
  | { id: number; kind: 'close'; fd: number }
  | { id: number; kind: 'mkdir'; path: string }
  | { id: number; kind: 'remove'; path: string }
  | { id: number; kind: 'writeDurably'; path: string; data: string };

/** Its answer: an fd for an open, an error as plain data. */
export interface DiskResult {
  id: number;
  fd?: number;
  error?: { message: string; code?: string; errno?: number; syscall?: string; path?: string };
}

type Done = (err: Error | null, fd?: number) => void;

/**
 * How long operations gather before they go to the thread, ms: a write lands at most this much later, well
 * inside what a crash may lose anyway (WAV_CRASH_LOSS_MS), and at 500 recordings a message carries about 10.
 */
const BATCH_MS = 10;

/** The file operations WavWriter needs while a recording runs (node fs's callback signatures). */
export interface RecordingFileIo {
  /** Creates or truncates `path` for writing ('w'). */
  open(path: string, cb: (err: Error | null, fd: number) => void): void;
  /** Writes `length` bytes of `buffer` from `offset` at `position`. As with fs.write, the bytes must not change until `cb`. */
  write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number, cb: (err: Error | null) => void): void;
  /** Cuts the file to `length` bytes (ftruncate), after the writes asked for before it. */
  truncate(fd: number, length: number, cb: (err: Error | null) => void): void;
  /** Flushes what was written before it to stable storage (fsync). */
  sync(fd: number, cb: (err: Error | null) => void): void;
  /** Closes a descriptor open() gave. */
  close(fd: number, cb: (err: Error | null) => void): void;
}

/** The voicemail deposit's file operations besides the recording itself, as promises. */
export interface DepositFiles {
  /** Creates `path` and its parents (mkdir -p). */
  mkdir(path: string): Promise<void>;
  /** Removes the file `path`; one already gone is not an error (rm -f). */
  remove(path: string): Promise<void>;
  /** Writes `data` as the whole of `path` durably: via path.part, fsynced, renamed (store/audio-files.ts writeFileDurably). */
  writeDurably(path: string, data: string): Promise<void>;
}

/** 'warning': a warning node emitted in the thread (its message). */
export class DiskThread extends EventEmitter<{ warning: [string] }> implements RecordingFileIo, DepositFiles {
  private worker: Worker | undefined;
  private batch: DiskOp[] = [];
  private scheduled = false;
  private readonly pending = new Map<number, Done>();
  private nextId = 1;
  private online = false;
  /**
   * Descriptors the running thread opened and has not closed. A thread that dies closes its own, and their
   * numbers may then be reused by anything in the process: writes and closes for them are refused here, never
   * sent to the next thread.
   */
  private readonly fds = new Set<number>();

  open(path: string, cb: (err: Error | null, fd: number) => void): void {
    this.queue({ id: this.nextId++, kind: 'open', path }, (err, fd) => {
      if (!err && fd !== undefined) this.fds.add(fd);
      cb(err, fd ?? -1);
    });
  }

  write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number, cb: (err: Error | null) => void): void {
    if (!this.fds.has(fd)) return queueMicrotask(() => cb(closedError(fd)));
    // The batch's postMessage copies each view's whole ArrayBuffer (in this turn, before cb): a view of part
    // of a larger buffer (a pooled Buffer) is copied out first so that only what is written crosses.
    const whole = offset === 0 && length === buffer.byteLength && buffer.byteOffset === 0 && buffer.buffer.byteLength === length;
    const data = whole ? buffer : Uint8Array.prototype.slice.call(buffer, offset, offset + length);
    this.queue({ id: this.nextId++, kind: 'write', fd, data, length, position }, (err) => cb(err));
  }

  truncate(fd: number, length: number, cb: (err: Error | null) => void): void {
    if (!this.fds.has(fd)) return queueMicrotask(() => cb(closedError(fd, 'ftruncate')));
    this.queue({ id: this.nextId++, kind: 'truncate', fd, length }, (err) => cb(err));
  }

  sync(fd: number, cb: (err: Error | null) => void): void {
    if (!this.fds.has(fd)) return queueMicrotask(() => cb(closedError(fd, 'fsync')));
    this.queue({ id: this.nextId++, kind: 'fsync', fd }, (err) => cb(err));
  }

  close(fd: number, cb: (err: Error | null) => void): void {
    // Not open here: closed by the thread that died with it.
    if (!this.fds.delete(fd)) return queueMicrotask(() => cb(null));
    this.queue({ id: this.nextId++, kind: 'close', fd }, (err) => cb(err));
  }

  mkdir(path: string): Promise<void> {
    return this.ask({ id: this.nextId++, kind: 'mkdir', path });
  }

  remove(path: string): Promise<void> {
    return this.ask({ id: this.nextId++, kind: 'remove', path });
  }

  writeDurably(path: string, data: string): Promise<void> {
    return this.ask({ id: this.nextId++, kind: 'writeDurably', path, data });
  }

  private ask(op: DiskOp): Promise<void> {
    return new Promise((resolve, reject) => this.queue(op, (err) => (err ? reject(err) : resolve())));
  }

  /**
   * Starts the thread now rather than at the first recording (a thread takes tens of ms to start, more from
   * source): resolves when it runs.
   */
  ready(): Promise<void> {
    const worker = (this.worker ??= this.start());
    if (this.online) return Promise.resolve();
    // Held while it starts: a process whose only other work is this wait must not exit meanwhile.
    worker.ref();
    return new Promise<void>((resolve, reject) => {
      worker.once('online', resolve);
      worker.once('error', reject);
    }).finally(() => {
      if (this.pending.size === 0) worker.unref();
    });
  }

  /** Operations not yet answered (tests). */
  get inFlight(): number {
    return this.pending.size;
  }

  private queue(op: DiskOp, done: Done): void {
    this.pending.set(op.id, done);
    this.batch.push(op);
    if (this.scheduled) return;
    this.scheduled = true;
    // Everything asked for in the next BATCH_MS goes in one message (per loop turn was 1-2 operations a
    // message: a turn per packet), one timer for the process, held so that a process waiting on a write stays.
    setTimeout(this.send, BATCH_MS);
  }

  private readonly send = (): void => {
    this.scheduled = false;
    const ops = this.batch;
    this.batch = [];
    if (ops.length === 0) return;
    const worker = (this.worker ??= this.start());
    worker.ref();
    worker.postMessage(ops);
  };

  private start(): Worker {
    const worker = startThreadModule(import.meta.url, './disk-thread-worker', undefined);
    this.online = false;
    worker.once('online', () => (this.online = this.worker === worker));
    worker.on('message', (results: DiskResult[] | { warning: string }) => {
      if (!Array.isArray(results)) {
        this.emit('warning', results.warning);
        return;
      }
      for (const r of results) {
        const done = this.pending.get(r.id);
        this.pending.delete(r.id);
        done?.(r.error ? Object.assign(new Error(r.error.message), r.error) : null, r.fd);
      }
      if (this.pending.size === 0) worker.unref();
    });
    const failed = (err: Error): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.fds.clear();
      this.batch = []; // their callbacks get the error below
      const waiting = [...this.pending.values()];
      this.pending.clear();
      for (const done of waiting) done(err);
    };
    worker.on('error', failed);
    worker.on('exit', (code) => failed(new Error(`the recording disk thread exited (code ${code})`)));
    worker.unref();
    return worker;
  }
}

let shared: DiskThread | undefined;

/** The process's disk thread (started at its first operation). */
export function recordingDisk(): DiskThread {
  return (shared ??= new DiskThread());
}

function closedError(fd: number, syscall = 'write'): Error {
  return Object.assign(new Error(`EBADF: descriptor ${fd} is not open in the recording disk thread`), { code: 'EBADF', syscall });
}
