/**
 * What an app may ask a call to play, and how it becomes the player's frames: prompt ids from the language's
 * catalogue (encoded once at start-up), WAV files (a recorded message or greeting, read and encoded when
 * played), silences and tones.
 *
 * A file must be 8 kHz (what vmpilot records); any WAV encoding wavefile-style players write (PCM 8/16-bit,
 * u-law, A-law, mono or stereo) is accepted. A missing or unreadable file rejects the play with the error:
 * the app decides what the caller hears instead.
 */
import { encodeG711, encodeTable, silenceCode, type G711Law } from '../media/g711.js';
import { readWavFile } from '../media/wav.js';
import type { PlayItem } from '../media/player.js';
import { FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE } from '../media/audio-format.js';
import type { PromptCatalog } from '../prompts/catalog.js';

export type CallPlayItem =
  /** A prompt id from prompts/<lang>/prompts.yaml. */
  | string
  | { prompt: string }
  /** A WAV file at 8 kHz, from `offsetMs` on (rounded down to a 20 ms frame; default 0; past the end: nothing). */
  | { file: string; offsetMs?: number }
  | { silenceMs: number }
  /** The 1 kHz beep or ringback; ms defaults to the tone's own length (beep 400 ms). */
  | { tone: 'beep' | 'ringback'; ms?: number };

export class PlayFileError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'PlayFileError';
  }
}

/** Turns the app's items into the player's. Rejects with TypeError (unknown prompt) or PlayFileError. */
export async function resolvePlayItems(items: readonly CallPlayItem[], catalog: PromptCatalog, law: G711Law): Promise<PlayItem[]> {
  const out: PlayItem[] = [];
  for (const item of items) {
    if (typeof item === 'string') out.push({ frames: catalog.get(item, law) });
    else if ('prompt' in item) out.push({ frames: catalog.get(item.prompt, law) });
    else if ('file' in item) out.push({ frames: fromOffset(await encodeFile(item.file, law), item.offsetMs) });
    else if ('silenceMs' in item) out.push({ silenceMs: item.silenceMs });
    else out.push({ tone: item.tone, ms: item.ms ?? (item.tone === 'beep' ? 400 : 6000) });
  }
  return out;
}

/** The frames from `offsetMs` on, whole 20 ms frames (a view, no copy). */
function fromOffset(frames: Uint8Array, offsetMs: number | undefined): Uint8Array {
  if (offsetMs === undefined || !(offsetMs > 0)) return frames;
  const skip = Math.floor(offsetMs / FRAME_MS) * FRAME_SAMPLES;
  return frames.subarray(Math.min(skip, frames.length));
}

/** Reads a WAV and encodes it to whole 20 ms G.711 frames (the last padded with silence). */
export async function encodeFile(path: string, law: G711Law): Promise<Uint8Array> {
  let audio;
  try {
    audio = await readWavFile(path);
  } catch (err) {
    throw new PlayFileError(path, err instanceof Error ? err.message : String(err));
  }
  if (audio.sampleRate !== SAMPLE_RATE) {
    throw new PlayFileError(path, `sample rate ${audio.sampleRate} Hz; vmpilot plays ${SAMPLE_RATE} Hz files (convert with: sox in.wav -r 8000 -c 1 out.wav)`);
  }
  const n = audio.samples.length;
  const frames = new Uint8Array(Math.ceil(n / FRAME_SAMPLES) * FRAME_SAMPLES).fill(silenceCode(law));
  encodeG711(encodeTable(law), audio.samples, 0, n, frames, 0);
  return frames;
}
