/**
 * WAV files: header build/parse, a reader for prompts and tests, and the incremental writer recordings use.
 *
 * On-disk format for messages: 16-bit PCM, 8 kHz, mono (WAVE_FORMAT_PCM). Every player opens it: browsers
 * (an admin UI's <audio>), Outlook and phone mail clients (voicemail-to-email), Windows Media Player, VLC,
 * and every audio library. G.711 u-law WAV (format 7) would be half the size (8 KB/s instead of 16 KB/s, a
 * 3-minute message 1.4 MB instead of 2.9 MB), but Chrome and Firefox do not play it and several mail clients
 * show it as an unplayable attachment. Messages are few and short, disks are large: we pay the 2x for
 * "plays everywhere". Decoding G.711 to PCM on receipt also keeps one format on disk whatever the call's
 * codec (PCMU or PCMA). The reader still accepts u-law and A-law WAVs (format 6/7), e.g. imported prompts.
 *
 * The writer is built for a process that may be killed at any moment: it buffers WAV_FLUSH_MS (500 ms; 250 ms
 * for the first 2 s) of audio and writes it with async fs (never sync I/O on the media path), one request per write; the header's
 * sizes say 0 ("the whole file") until close(), so a killed process leaves a file that repair reads whole
 * (and gives a header), missing at most the last WAV_CRASH_LOSS_MS. close() writes the rest (or cuts the file to a given length) and fsyncs.
 *
 * Not here: resampling (prompts must be 8 kHz), stereo output, RF64 (> 4 GB).
 */
import fs from 'node:fs';
import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { ALAW_TO_LINEAR, ULAW_TO_LINEAR } from './g711.js';
import type { RecordingFileIo } from './disk-thread.js';

/** Sample encodings we write and read. */
export type WavEncoding = 'pcm16' | 'ulaw' | 'alaw' | 'pcm8';

/** A WAV file that is malformed or in a format we do not read. */
export class WavFormatError extends Error {
  override name = 'WavFormatError';
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_ALAW = 6;
const WAVE_FORMAT_MULAW = 7;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** Length of the header buildWavHeader writes for PCM (RIFF, fmt 16, data). */
export const PCM_HEADER_LENGTH = 44;
/** Offsets of the two size fields in a header from buildWavHeader({encoding: 'pcm16'}). */
const RIFF_SIZE_OFFSET = 4;
const PCM_DATA_SIZE_OFFSET = 40;

export interface WavHeaderOptions {
  encoding: WavEncoding;
  /** Default 8000. */
  sampleRate?: number;
  /** Default 1. */
  channels?: number;
  /** Bytes of sample data that follow the header. */
  dataBytes: number;
}

/**
 * A canonical header: PCM as RIFF + 16-byte fmt + data (44 bytes); G.711 with an 18-byte fmt (cbSize 0)
 * and the fact chunk that non-PCM formats carry (58 bytes), as Microsoft's WAVEFORMATEX rules ask.
 */
export function buildWavHeader(options: WavHeaderOptions): Buffer {
  const rate = options.sampleRate ?? 8000;
  const channels = options.channels ?? 1;
  const pcm = options.encoding === 'pcm16' || options.encoding === 'pcm8';
  const bits = options.encoding === 'pcm16' ? 16 : 8;
  const tag = pcm ? WAVE_FORMAT_PCM : options.encoding === 'ulaw' ? WAVE_FORMAT_MULAW : WAVE_FORMAT_ALAW;
  const fmtLength = pcm ? 16 : 18;
  const factLength = pcm ? 0 : 12;
  const headerLength = 12 + 8 + fmtLength + factLength + 8;
  const pad = options.dataBytes & 1;
  const header = Buffer.alloc(headerLength);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(headerLength - 8 + options.dataBytes + pad, 4);
  header.write('WAVE', 8, 'latin1');
  header.write('fmt ', 12, 'latin1');
  header.writeUInt32LE(fmtLength, 16);
  header.writeUInt16LE(tag, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE((rate * channels * bits) / 8, 28);
  header.writeUInt16LE((channels * bits) / 8, 32);
  header.writeUInt16LE(bits, 34);
  let at = 36;
  if (!pcm) {
    header.writeUInt16LE(0, at); // cbSize
    at += 2;
    header.write('fact', at, 'latin1');
    header.writeUInt32LE(4, at + 4);
    header.writeUInt32LE(options.dataBytes / channels, at + 8);
    at += 12;
  }
  header.write('data', at, 'latin1');
  header.writeUInt32LE(options.dataBytes, at + 4);
  return header;
}

/** What a WAV header says. */
export interface WavInfo {
  encoding: WavEncoding;
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** Where the sample data starts in the file. */
  dataOffset: number;
  /** Bytes of sample data actually present (the header's size, or what the file holds if less or unset). */
  dataBytes: number;
}

/** Reads the chunks of a WAV file. Throws WavFormatError for anything it cannot play. */
export function parseWavHeader(buf: Uint8Array): WavInfo {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 12 || b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE') {
    throw new WavFormatError('not a RIFF/WAVE file');
  }
  let format: Omit<WavInfo, 'dataOffset' | 'dataBytes'> | undefined;
  let at = 12;
  while (at + 8 <= b.length) {
    const id = b.toString('latin1', at, at + 4);
    const size = b.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + size > b.length) throw new WavFormatError('truncated fmt chunk');
      format = readFormat(b, body, size);
    } else if (id === 'data') {
      if (!format) throw new WavFormatError('data chunk before fmt chunk');
      const present = b.length - body;
      // A writer killed before its first header update leaves 0; a truncated copy says more than it has.
      const dataBytes = size === 0 || size > present ? present : size;
      return { ...format, dataOffset: body, dataBytes };
    }
    at = body + size + (size & 1); // RIFF chunks are padded to an even length
  }
  throw new WavFormatError(format ? 'no data chunk' : 'no fmt chunk');
}

function readFormat(b: Buffer, at: number, size: number): Omit<WavInfo, 'dataOffset' | 'dataBytes'> {
  let tag = b.readUInt16LE(at);
  const channels = b.readUInt16LE(at + 2);
  const sampleRate = b.readUInt32LE(at + 4);
  const bitsPerSample = b.readUInt16LE(at + 14);
  if (tag === WAVE_FORMAT_EXTENSIBLE) {
    // WAVEFORMATEXTENSIBLE: cbSize 22, then the sub-format GUID whose first two bytes are the format tag.
    if (size < 40) throw new WavFormatError('truncated WAVE_FORMAT_EXTENSIBLE fmt chunk');
    tag = b.readUInt16LE(at + 24);
  }
  if (channels < 1) throw new WavFormatError('no channels');
  if (sampleRate < 1) throw new WavFormatError('no sample rate');
  let encoding: WavEncoding;
  if (tag === WAVE_FORMAT_PCM && bitsPerSample === 16) encoding = 'pcm16';
  else if (tag === WAVE_FORMAT_PCM && bitsPerSample === 8) encoding = 'pcm8';
  else if (tag === WAVE_FORMAT_MULAW && bitsPerSample === 8) encoding = 'ulaw';
  else if (tag === WAVE_FORMAT_ALAW && bitsPerSample === 8) encoding = 'alaw';
  else throw new WavFormatError(`unsupported WAV format ${tag} with ${bitsPerSample} bits per sample`);
  return { encoding, sampleRate, channels, bitsPerSample };
}

/** Decoded audio: mono PCM16 (several channels are averaged). */
export interface WavAudio {
  encoding: WavEncoding;
  sampleRate: number;
  /** Channels in the file (the samples are mono whatever this is). */
  channels: number;
  samples: Int16Array;
}

/** Decodes a whole WAV file held in memory. Throws WavFormatError. */
export function parseWav(buf: Uint8Array): WavAudio {
  const info = parseWavHeader(buf);
  const bytesPerSample = info.encoding === 'pcm16' ? 2 : 1;
  const frames = Math.floor(info.dataBytes / (bytesPerSample * info.channels));
  const samples = new Int16Array(frames);
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let frame = 0; frame < frames; frame++) {
    let sum = 0;
    for (let ch = 0; ch < info.channels; ch++) {
      const at = info.dataOffset + (frame * info.channels + ch) * bytesPerSample;
      switch (info.encoding) {
        case 'pcm16':
          sum += b.readInt16LE(at);
          break;
        case 'pcm8':
          sum += (b[at]! - 128) << 8; // 8-bit WAV is unsigned
          break;
        case 'ulaw':
          sum += ULAW_TO_LINEAR[b[at]!]!;
          break;
        case 'alaw':
          sum += ALAW_TO_LINEAR[b[at]!]!;
          break;
      }
    }
    samples[frame] = Math.round(sum / info.channels);
  }
  return { encoding: info.encoding, sampleRate: info.sampleRate, channels: info.channels, samples };
}

/** Reads and decodes a WAV file. Rejects with WavFormatError for a bad file, or the fs error. */
export async function readWavFile(path: string): Promise<WavAudio> {
  return parseWav(await readFile(path));
}

export interface WavWriterOptions {
  /** Default 8000. */
  sampleRate?: number;
  /**
   * Audio buffered before a write, and the longest time between writes while audio arrives: what a killed
   * process can lose, with the write in flight. Default WAV_FLUSH_MS (500 ms).
   */
  flushMs?: number;
  /**
   * The interval for the first WAV_EARLY_MS of audio, where a short message's whole worth is at stake. Default
   * WAV_EARLY_FLUSH_MS (250 ms); never longer than flushMs.
   */
  earlyFlushMs?: number;
  /** Clock for the time-based flush. Default Date.now. */
  now?: () => number;
  /** Called once with the first I/O error (opening included), when it happens. */
  onError?: (err: Error) => void;
  /**
   * Opens the file, does the periodic writes, and at close() the truncate, header update, fsync and close.
   * Default: node's async fs; recordings use the disk thread (disk-thread.ts).
   */
  io?: RecordingFileIo;
}

/** node's async fs: one libuv thread-pool request per operation. */
const NODE_FS_IO: RecordingFileIo = {
  open: (path, cb) => fs.open(path, 'w', cb),
  write: (fd, buffer, offset, length, position, cb) => fs.write(fd, buffer, offset, length, position, cb),
  truncate: (fd, length, cb) => fs.ftruncate(fd, length, cb),
  sync: (fd, cb) => fs.fsync(fd, cb),
  close: (fd, cb) => fs.close(fd, cb),
};

/**
 * How often a recording reaches the disk, ms, once it is longer than WAV_EARLY_MS. Each write is one fs request
 * handed to libuv's thread pool, and at 1,000 recordings those hand-offs were the largest cost on the thread
 * that paces RTP: 250 ms (4 a second per recording) gave interval p99 40.6 ms / max 90 ms in the capacity
 * bench at 1,000 calls, 500 ms gave p99 30.2 / max 58 ms and 0.10 % instead of 0.12 % of a core per call.
 * A crash loses at most twice this (WAV_CRASH_LOSS_MS) of a long message.
 */
export const WAV_FLUSH_MS = 500;

/**
 * The first WAV_EARLY_MS of a recording are written every WAV_EARLY_FLUSH_MS: a crash costs a short message
 * at most 0.5 s of what was said (issue 9 item 10: 1 s of buffering lost whole 1-1.8 s messages).
 */
export const WAV_EARLY_FLUSH_MS = 250;
export const WAV_EARLY_MS = 2000;

/**
 * The most audio a WavWriter's file lacks when its process is killed: the buffer being filled and the one
 * being written.
 */
export const WAV_CRASH_LOSS_MS = 2 * WAV_FLUSH_MS;

/**
 * The most a killed WavWriter's file that holds `onDiskMs` lacks: a file shorter than what the early writes
 * always reach before the writer slows down (WAV_EARLY_MS less the buffer filling and the one in flight) was
 * killed while writing every WAV_EARLY_FLUSH_MS. Repair judges a cut-short recording's length by it
 * (store/repair.ts). Assumes a disk that keeps up (no queue of writes behind the one in flight).
 */
export function crashLossMs(onDiskMs: number): number {
  return onDiskMs < WAV_EARLY_MS - 2 * WAV_EARLY_FLUSH_MS ? 2 * WAV_EARLY_FLUSH_MS : WAV_CRASH_LOSS_MS;
}

const LITTLE_ENDIAN = endianness() === 'LE';
const NO_FD = -1;

/** One buffer waiting to be written, and where. */
interface PendingWrite {
  buffer: Buffer;
  bytes: number;
  position: number;
  /** Rewrite the header's sizes after this data (flush()); periodic writes leave them for close() or repair. */
  header: boolean;
}

/**
 * Writes a mono PCM16 WAV as audio arrives. write() never throws and never blocks: it copies into a
 * buffer and starts an async write when about flushMs of audio is buffered or flushMs have passed since
 * the last one. The header's sizes stay 0 ("as long as the file") until flush() or close(), so a killed
 * process leaves a file that parseWavHeader and repair read whole, lacking at most WAV_CRASH_LOSS_MS. A failed write is kept in `error` (and reported to
 * onError); later writes are dropped and close() rejects with it.
 *
 * File operations use a callback API on the raw descriptor (options.io: node's fs, or the recordings' disk
 * thread), one at a time in order (open, then each buffer's data, the header's sizes for flush(), then
 * truncate/header/fsync/close): no promise per write on the media path.
 */
export class WavWriter {
  /** The first I/O error, if any. */
  error: Error | undefined;
  /** Samples accepted by write() (after close(length), the file's final length). */
  samplesWritten = 0;
  /** Samples on disk (written; not necessarily fsynced). */
  samplesOnDisk = 0;
  /** Samples the header's sizes count: updated by flush() and close(), not by the periodic writes. */
  private headerSamples = 0;

  private readonly capacity: number;
  private current: Buffer;
  private current16: Int16Array;
  private fill = 0;
  private spare: Buffer | undefined;
  private fd = NO_FD;
  /** Writes not yet done, oldest first; the first is in flight while `busy`. */
  private readonly queue: PendingWrite[] = [];
  private busy = true; // until the file is open
  /** Resolved when the queue is empty (flush() and close() wait on it). */
  private idleWaiters: (() => void)[] = [];
  private lastFlushAt: number;
  private closing: Promise<void> | undefined;
  /** The header as on disk; its two size fields are rewritten (with the bytes between them, one write) per flush. */
  private readonly header: Buffer;
  private inFlight: PendingWrite | undefined;
  private readonly flushMs: number;
  private readonly earlyFlushMs: number;
  /** Samples written at the early interval (WAV_EARLY_MS of audio). */
  private readonly earlySamples: number;
  private readonly now: () => number;
  private readonly onError: ((err: Error) => void) | undefined;
  private readonly io: RecordingFileIo;

  /**
   * Creates (or truncates) the file and writes a header for an empty recording, in the background: write()
   * may be called at once (audio is buffered until the file is open). An error opening it is reported like
   * any I/O error.
   */
  constructor(
    readonly path: string,
    options: WavWriterOptions = {},
  ) {
    const sampleRate = options.sampleRate ?? 8000;
    this.flushMs = options.flushMs ?? WAV_FLUSH_MS;
    this.earlyFlushMs = Math.min(this.flushMs, options.earlyFlushMs ?? WAV_EARLY_FLUSH_MS);
    this.earlySamples = (sampleRate * WAV_EARLY_MS) / 1000;
    this.now = options.now ?? Date.now;
    this.onError = options.onError;
    this.io = options.io ?? NODE_FS_IO;
    this.header = buildWavHeader({ encoding: 'pcm16', sampleRate, dataBytes: 0 });
    this.capacity = Math.max(1, Math.round((sampleRate * this.flushMs) / 1000));
    this.current = newBuffer(this.capacity);
    this.current16 = view16(this.current);
    this.lastFlushAt = this.now();
    this.io.open(path, (err, fd) => {
      if (err) {
        this.failed(err);
        this.busy = false;
        this.pump(); // drops what was buffered and wakes flush()/close()
        return;
      }
      this.fd = fd;
      this.io.write(fd, this.header, 0, PCM_HEADER_LENGTH, 0, (werr) => {
        if (werr) this.failed(werr);
        this.busy = false;
        this.pump();
      });
    });
  }

  /** A writer whose file is open (rejects with the error opening it). */
  static async open(path: string, options: WavWriterOptions = {}): Promise<WavWriter> {
    const writer = new WavWriter(path, options);
    await writer.flush();
    if (writer.error) {
      await writer.close().catch(() => undefined);
      throw writer.error;
    }
    return writer;
  }

  /** Appends samples. Copies them: the caller may reuse its array at once. */
  write(samples: Int16Array, offset: number = 0, count: number = samples.length - offset): void {
    if (this.error || this.closing) return;
    while (count > 0) {
      const room = this.capacity - this.fill;
      const n = count < room ? count : room;
      if (LITTLE_ENDIAN) {
        const dst = this.current16;
        for (let i = 0; i < n; i++) dst[this.fill + i] = samples[offset + i]!;
      } else {
        for (let i = 0; i < n; i++) this.current.writeInt16LE(samples[offset + i]!, (this.fill + i) * 2);
      }
      this.fill += n;
      this.samplesWritten += n;
      offset += n;
      count -= n;
      if (this.fill === this.capacity) this.startFlush(false);
    }
    const interval = this.samplesWritten < this.earlySamples ? this.earlyFlushMs : this.flushMs;
    if (this.fill > 0 && this.now() - this.lastFlushAt >= interval) this.startFlush(false);
  }

  /** Writes what is buffered and updates the header; resolves when it is on disk (not fsynced). */
  flush(): Promise<void> {
    if (this.fill > 0 && !this.error) this.startFlush(true);
    return this.idle();
  }

  /**
   * Writes the rest, updates the header, fsyncs and closes. Idempotent. Rejects with the first I/O error.
   * `length` (samples, at most samplesWritten) ends the file there: buffered audio past it is dropped and
   * audio already written past it is cut off (ftruncate) before the header is updated. This is how a
   * recording loses a terminating key's tone or trailing silence without holding audio back from the disk.
   */
  close(length: number = this.samplesWritten): Promise<void> {
    this.closing ??= this.finish(Math.max(0, Math.min(Math.floor(length), this.samplesWritten)));
    return this.closing;
  }

  private async finish(length: number): Promise<void> {
    const buffered = this.samplesWritten - this.fill;
    if (length >= buffered) {
      this.fill = length - buffered;
    } else {
      this.fill = 0;
    }
    this.samplesWritten = length;
    if (this.fill > 0 && !this.error) this.startFlush(false);
    await this.idle();
    const fd = this.fd;
    if (fd === NO_FD) {
      if (this.error) throw this.error;
      return;
    }
    try {
      if (!this.error && this.samplesOnDisk !== length) {
        // Written past the cut (or a flush was cut): the file ends at `length`.
        await this.ask((cb) => this.io.truncate(fd, PCM_HEADER_LENGTH + length * 2, cb));
        this.samplesOnDisk = length;
      }
      if (!this.error && this.headerSamples !== length) {
        this.setHeaderSizes(length * 2);
        await this.ask((cb) => this.io.write(fd, this.header, RIFF_SIZE_OFFSET, PCM_HEADER_LENGTH - RIFF_SIZE_OFFSET, RIFF_SIZE_OFFSET, cb));
        this.headerSamples = length;
      }
      if (!this.error) await this.ask((cb) => this.io.sync(fd, cb));
    } catch (err) {
      this.failed(err as Error);
    }
    this.fd = NO_FD;
    // Closed by whoever opened it: a worker thread tracks the descriptors it opens until it closes them.
    await new Promise<void>((resolve) => this.io.close(fd, () => resolve()));
    if (this.error) throw this.error;
  }

  /** One of the io's operations as a promise (the end of a recording: a few per call, not per packet). */
  private ask(op: (cb: (err: Error | null) => void) => void): Promise<void> {
    return new Promise((resolve, reject) => op((err) => (err ? reject(err) : resolve())));
  }

  private idle(): Promise<void> {
    if (!this.busy && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private startFlush(header: boolean): void {
    const samples = this.fill;
    this.queue.push({ buffer: this.current, bytes: samples * 2, position: PCM_HEADER_LENGTH + (this.samplesWritten - samples) * 2, header });
    // Swap in the spare buffer; allocate another only if the disk is slower than the audio.
    this.current = this.spare ?? newBuffer(this.capacity);
    this.current16 = view16(this.current);
    this.spare = undefined;
    this.fill = 0;
    this.lastFlushAt = this.now();
    this.pump();
  }

  /** Starts the next queued write unless one is in flight; wakes idle() waiters when nothing is left. */
  private pump(): void {
    if (this.busy) return;
    const next = this.queue.shift();
    if (next === undefined) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
      return;
    }
    if (this.error || this.fd === NO_FD) {
      this.spare ??= next.buffer;
      this.pump();
      return;
    }
    this.busy = true;
    this.inFlight = next;
    this.io.write(this.fd, next.buffer, 0, next.bytes, next.position, this.dataWritten);
  }

  /**
   * Data first, then (for flush()) the sizes: the header never counts bytes that are not yet written. Periodic
   * writes leave the sizes at what they were: parseWavHeader reads a data size of 0 as "what the file holds",
   * and repair rewrites the header of a file a killed process left, so one fs request per write is enough
   * (at 1,000 recordings the header rewrite was half the fs requests and most of the main thread's write cost).
   */
  private readonly dataWritten = (err: Error | null): void => {
    const done = this.inFlight!;
    if (err || !done.header) return this.writeDone(err);
    const dataBytes = done.position - PCM_HEADER_LENGTH + done.bytes;
    this.setHeaderSizes(dataBytes);
    // One write from the RIFF size to the end of the data size (the fmt bytes between are unchanged).
    this.io.write(this.fd, this.header, RIFF_SIZE_OFFSET, PCM_HEADER_LENGTH - RIFF_SIZE_OFFSET, RIFF_SIZE_OFFSET, this.writeDone);
  };

  private readonly writeDone = (err: Error | null): void => {
    const done = this.inFlight!;
    this.inFlight = undefined;
    if (err) this.failed(err);
    else {
      this.samplesOnDisk = (done.position - PCM_HEADER_LENGTH + done.bytes) / 2;
      if (done.header) this.headerSamples = this.samplesOnDisk;
    }
    this.spare ??= done.buffer;
    this.busy = false;
    this.pump();
  };

  private setHeaderSizes(dataBytes: number): void {
    this.header.writeUInt32LE(PCM_HEADER_LENGTH - 8 + dataBytes, RIFF_SIZE_OFFSET);
    this.header.writeUInt32LE(dataBytes, PCM_DATA_SIZE_OFFSET);
  }

  private failed(err: Error): void {
    if (this.error) return;
    this.error = err;
    this.onError?.(err);
  }
}


function newBuffer(samples: number): Buffer {
  // A dedicated ArrayBuffer keeps the Int16Array view aligned (pooled Buffers may start at odd offsets).
  return Buffer.from(new ArrayBuffer(samples * 2));
}

function view16(buffer: Buffer): Int16Array {
  return new Int16Array(buffer.buffer, buffer.byteOffset, buffer.length / 2);
}
