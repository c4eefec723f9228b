/**
 * Audio in PostgreSQL (schema.ts: audio + audio_chunks) and its local cache. A recording is stored whole (the
 * WAV file's bytes) in 256 KiB chunks with the SHA-256 of the whole; the interface's audioPath stays a local
 * file, so players and tools read a plain WAV: materialise() writes the cached copy from the database when it
 * is missing (to a temporary name, checked against the checksum, then renamed: a reader never sees half a
 * file).
 *
 * Not here: which audio belongs to what (postgres.ts), where cached files live (layout.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { access, copyFile, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Queryable } from './connection.js';
import { AUDIO_CHUNK_BYTES, DB_NOW_MS } from './schema.js';

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Inserts a recording's audio row and chunks (inside the caller's transaction). Returns false, writing
 * nothing, when audio with this id is already stored (a commit retried after a lost connection). Buffers go
 * to the server as binary parameters, not hex text.
 */
export async function insertAudio(db: Queryable, id: string, data: Buffer): Promise<boolean> {
  const chunks = Math.ceil(data.length / AUDIO_CHUNK_BYTES);
  const inserted = await db.query(
    `INSERT INTO audio (id, bytes, chunks, sha256, created_at) VALUES ($1, $2, $3, $4, ${DB_NOW_MS}) ON CONFLICT (id) DO NOTHING`,
    [id, data.length, chunks, sha256Hex(data)],
  );
  if (inserted.rowCount === 0) return false;
  for (let seq = 0; seq < chunks; seq++) {
    const piece = data.subarray(seq * AUDIO_CHUNK_BYTES, (seq + 1) * AUDIO_CHUNK_BYTES);
    await db.query('INSERT INTO audio_chunks (audio_id, seq, bytes) VALUES ($1, $2, $3)', [id, seq, piece]);
  }
  return true;
}

/** Thrown when stored audio does not match its checksum or length (never written to the cache). */
export class AudioChecksumError extends Error {
  constructor(readonly audioId: string) {
    super(`stored audio ${audioId} does not match its checksum`);
    this.name = 'AudioChecksumError';
  }
}

/** A recording's bytes, checked against its length and checksum; undefined when there is no such audio. */
export async function readAudio(db: Queryable, id: string): Promise<Buffer | undefined> {
  const head = await db.query<{ bytes: number; chunks: number; sha256: string }>('SELECT bytes, chunks, sha256 FROM audio WHERE id = $1', [id]);
  const meta = head.rows[0];
  if (!meta) return undefined;
  // In text form (hex, decoded by pg): pg's protocol parser reads every result field as UTF-8 text, so a binary
  // bytea result would arrive mangled.
  const result = await db.query<{ bytes: Buffer }>('SELECT bytes FROM audio_chunks WHERE audio_id = $1 ORDER BY seq', [id]);
  const data = Buffer.concat(result.rows.map((r) => r.bytes));
  if (result.rows.length !== meta.chunks || data.length !== meta.bytes || sha256Hex(data) !== meta.sha256) throw new AudioChecksumError(id);
  return data;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Cached copies being written, by path: concurrent listings of one mailbox fetch each recording once. Module
 * wide, not per store instance: one process may open the store twice (the CLI beside a server in tests).
 */
const inFlight = new Map<string, Promise<boolean>>();

/**
 * Makes `path` hold audio `id`, from the database when the file is not there yet. Resolves false when the
 * database has no such audio (the caller's row was deleted meanwhile). The cache needs no fsync: a file lost to
 * a power cut is fetched again.
 */
export function materialise(db: Queryable, id: string, path: string): Promise<boolean> {
  const running = inFlight.get(path);
  if (running) return running;
  const task = (async (): Promise<boolean> => {
    if (await exists(path)) return true;
    const data = await readAudio(db, id);
    if (!data) return false;
    await mkdir(dirname(path), { recursive: true });
    const part = `${path}.${randomBytes(4).toString('hex')}.part`;
    await writeFile(part, data);
    await rename(part, path);
    return true;
  })();
  inFlight.set(path, task);
  void task.finally(() => inFlight.delete(path)).catch(() => undefined);
  return task;
}

/** A local recording's bytes (the file to commit). */
export function readRecording(path: string): Promise<Buffer> {
  return readFile(path);
}

/**
 * Makes a committed recording the cached copy at `dest`: moved (or copied, `keep`: the caller uses it again),
 * a copy written under a temporary name first. Not fsynced: the database holds the message.
 */
export async function cacheFile(source: string, dest: string, keep: boolean): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  if (!keep) {
    try {
      await rename(source, dest);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    }
  }
  const part = `${dest}.${randomBytes(4).toString('hex')}.part`;
  await copyFile(source, part);
  await rename(part, dest);
  if (!keep) await unlink(source);
}
