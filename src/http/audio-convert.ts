/**
 * An uploaded recording in any format sox reads (WAV of any rate and width, FLAC, Ogg Vorbis, AIFF, AU, …;
 * sox finds the format from the file's own header, not from a name or content type we could be lied to
 * about) turned into what prompts and greetings are: 8 kHz, mono, 16-bit PCM WAV. sox runs as a child process
 * (never on the event loop), on files in the store's own tmp folder, so the result is moved into place by a
 * rename.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseWavHeader } from '../media/wav.js';

/** sox gets this long to convert one upload. */
const SOX_TIMEOUT_MS = 60_000;

/** The upload is not audio sox can read, or holds no sound at all. */
export class NotAudioError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'NotAudioError';
  }
}

/** Converts `upload` into a new 8 kHz mono 16-bit WAV file in `tmpDir`; returns its path (the caller owns it). */
export async function convertToTelephoneWav(upload: Buffer, tmpDir: string): Promise<{ path: string; durationMs: number }> {
  const name = `upload-${process.pid}-${randomBytes(6).toString('hex')}`;
  const input = join(tmpDir, name);
  const output = join(tmpDir, `${name}.wav`);
  await writeFile(input, upload);
  try {
    await new Promise<void>((resolve, reject) => {
      execFile('sox', ['-V1', input, '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', output], { timeout: SOX_TIMEOUT_MS }, (err, _stdout, stderr) => {
        if (!err) resolve();
        else if ((err as NodeJS.ErrnoException).code === 'ENOENT') reject(new Error('sox is not installed (apt-get install sox)'));
        else reject(new NotAudioError(`not audio sox can read: ${stderr.trim().split('\n')[0]?.replace(input, 'the upload') ?? 'unknown format'}`));
      });
    });
    const info = parseWavHeader(await readFile(output));
    if (info.dataBytes === 0) throw new NotAudioError('the recording holds no audio');
    return { path: output, durationMs: Math.round((info.dataBytes / 2 / 8000) * 1000) };
  } catch (err) {
    await rm(output, { force: true });
    throw err;
  } finally {
    await rm(input, { force: true });
  }
}
