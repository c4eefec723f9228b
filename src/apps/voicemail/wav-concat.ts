/**
 * Joins WAV files into one 8 kHz mono PCM16 WAV with a short silence between them: a forwarded message is
 * the forwarder's introduction, a pause, then the original message, in one file, so the recipient hears it
 * as one message (and a mail attachment carries both). Any encoding media/wav.ts reads is accepted; every
 * input must be 8 kHz (what vmpilot records). Messages are at most minutes long: read whole, written whole.
 */
import { writeFile } from 'node:fs/promises';
import { SAMPLE_RATE } from '../../media/audio-format.js';
import { buildWavHeader, readWavFile } from '../../media/wav.js';

/** Writes `inputs` one after the other, `gapMs` of silence between, to `out`. Returns the length, ms. */
export async function concatWav(inputs: readonly string[], out: string, gapMs = 500): Promise<number> {
  const parts: Int16Array[] = [];
  for (const path of inputs) {
    const audio = await readWavFile(path);
    if (audio.sampleRate !== SAMPLE_RATE) throw new TypeError(`${path}: ${audio.sampleRate} Hz; only ${SAMPLE_RATE} Hz files can be joined`);
    if (parts.length > 0 && gapMs > 0) parts.push(new Int16Array(Math.round((gapMs * SAMPLE_RATE) / 1000)));
    parts.push(audio.samples);
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const data = Buffer.alloc(total * 2);
  let at = 0;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) data.writeInt16LE(part[i]!, (at + i) * 2);
    at += part.length;
  }
  await writeFile(out, Buffer.concat([buildWavHeader({ encoding: 'pcm16', sampleRate: SAMPLE_RATE, dataBytes: data.length }), data]));
  return Math.round((total * 1000) / SAMPLE_RATE);
}
