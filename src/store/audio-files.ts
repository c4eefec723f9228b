/**
 * Durable file operations for the store's audio and sidecars (all async: the store runs in the server's
 * process, where synchronous disk I/O would stall every call's media).
 *
 * What "durable" means here: a file's data is fsynced, and the folder holding its name is fsynced after
 * the rename that gave it that name; only then may a database row point at it (types.ts, the durability
 * rule). A file appears under its final name whole or not at all: copies and new files are written to
 * `<name>.part` and renamed.
 *
 * Also: finding the real length of a recording whose writer was killed (WavWriter writes the header's sizes at
 * close, so until then they say 0, or what the last flush() counted) and fixing its header.
 *
 * Not here: which files go where (layout.ts), metadata formats (sidecars), anything in the database.
 */
import { constants } from 'node:fs';
import { copyFile, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseWavHeader } from '../media/wav.js';

/** fsync a file's data and metadata. */
export async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync a folder, so that names created, renamed or removed in it survive a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Puts `source` at `dest` and fsyncs the result (not the folder: the caller fsyncs it once for all its
 * changes). keep: copy (via dest.part, renamed), leaving the source; otherwise rename, falling back to a
 * copy when the source is on another file system (EXDEV). Replaces an existing `dest`.
 */
export async function placeFile(source: string, dest: string, keep: boolean): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  if (!keep) {
    try {
      await rename(source, dest);
      await fsyncFile(dest);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    }
  }
  const part = `${dest}.part`;
  await copyFile(source, part);
  await fsyncFile(part);
  await rename(part, dest);
  if (!keep) await unlink(source);
}

/** Writes a file whole under its final name (via name.part) and fsyncs it; the caller fsyncs the folder. */
export async function writeFileDurably(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const part = `${path}.part`;
  const handle = await open(part, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(part, path);
}

/** Removes a file; one already gone is not an error. */
export async function unlinkIfExists(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Reads and parses a JSON file; undefined when it is missing or not JSON. */
export async function readJsonFile(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** What a recording really holds, after fixWavLength. */
export interface WavLength {
  /** Bytes of whole sample frames after the header. */
  dataBytes: number;
  durationMs: number;
}

/** Enough of the file to hold its RIFF header and fmt chunk (ours is 44 bytes; others add LIST chunks). */
const HEADER_PROBE_BYTES = 4096;

/**
 * Makes a WAV's header agree with the audio the file holds: the data size becomes everything after the data
 * chunk's header (trimmed to whole frames, the file truncated to match), the RIFF size follows, and the file
 * is fsynced. For a recording left behind by a killed process. Rejects with WavFormatError when the file is
 * not a WAV we read (callers treat it as unusable).
 */
export async function fixWavLength(path: string): Promise<WavLength> {
  const handle = await open(path, 'r+');
  try {
    const size = (await handle.stat()).size;
    const head = Buffer.alloc(Math.min(size, HEADER_PROBE_BYTES));
    await handle.read(head, 0, head.length, 0);
    const info = parseWavHeader(head);
    const frameBytes = (info.channels * info.bitsPerSample) / 8;
    const dataBytes = Math.floor(Math.max(0, size - info.dataOffset) / frameBytes) * frameBytes;
    const field = Buffer.alloc(4);
    field.writeUInt32LE(dataBytes, 0);
    await handle.write(field, 0, 4, info.dataOffset - 4);
    field.writeUInt32LE(info.dataOffset - 8 + dataBytes, 0);
    await handle.write(field, 0, 4, 4);
    if (info.dataOffset + dataBytes < size) await handle.truncate(info.dataOffset + dataBytes);
    await handle.sync();
    const bytesPerSecond = info.sampleRate * frameBytes;
    return { dataBytes, durationMs: Math.round((dataBytes * 1000) / bytesPerSecond) };
  } finally {
    await handle.close();
  }
}
