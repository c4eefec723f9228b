/**
 * The prompt catalogue: prompt ids -> audio ready to send, encoded once at start-up.
 *
 * loadCatalog reads prompts/<lang>/prompts.yaml (id -> words said) and each <id>.wav (8 kHz; any encoding
 * media/wav.ts reads, mono or averaged to mono), and encodes every prompt to G.711 for both laws. Each
 * prompt is one contiguous run of bytes, padded with the law's silence code to a whole number of 20 ms
 * frames (160 bytes), so the player sends payload = frames.subarray(i * 160, (i + 1) * 160) with no copy,
 * no encoding and no allocation per packet. All prompts of a law share one ArrayBuffer (one allocation,
 * 2 x ~1.5 MB for en-US).
 *
 * Errors (all at load time, naming the file and the id): a missing or malformed prompts.yaml, an id that is
 * not snake_case, an id without text, an id without its WAV, a WAV that is not 8 kHz.
 *
 * Not here: playing (media/player), which words to say (say.ts), rendering the WAVs (scripts/render-prompts.ts).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { encodeG711, encodeTable, silenceCode, type G711Law } from '../media/g711.js';
import { readWavFile } from '../media/wav.js';
import { FRAME_SAMPLES, SAMPLE_RATE } from '../media/audio-format.js';

/** Bytes of one 20 ms G.711 frame at 8 kHz. */
export const FRAME_BYTES = FRAME_SAMPLES;
/** Prompt ids: lower-case snake_case (letters, digits, single underscores). */
const ID_PATTERN = /^[a-z0-9]+(?:_[a-z0-9]+)*$/;

/** A prompts folder that cannot be loaded; the message names the file and the id. */
export class PromptCatalogError extends Error {
  override name = 'PromptCatalogError';
}

interface Entry {
  text: string;
  /** Samples in the WAV (before padding). */
  samples: number;
  PCMU: Uint8Array;
  PCMA: Uint8Array;
}

/** Prompts of one language, encoded for both G.711 laws. */
export class PromptCatalog {
  constructor(
    /** The language tag (the prompts/<lang> folder). */
    readonly lang: string,
    private readonly entries: ReadonlyMap<string, Entry>,
  ) {}

  /** Whether the catalogue has `id`. */
  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Every id, in prompts.yaml order. */
  ids(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * The prompt's G.711 frames for `law`: length a multiple of FRAME_BYTES. The array is shared; do not write
   * to it. Throws TypeError for an unknown id (check with has() where the id comes from outside).
   */
  get(id: string, law: G711Law): Uint8Array {
    return this.entry(id)[law];
  }

  /** The words the prompt says (from prompts.yaml). */
  text(id: string): string {
    return this.entry(id).text;
  }

  /** Length of the recording in ms (before padding to whole frames). */
  durationMs(id: string): number {
    return (this.entry(id).samples * 1000) / SAMPLE_RATE;
  }

  private entry(id: string): Entry {
    const e = this.entries.get(id);
    if (!e) throw new TypeError(`no prompt ${JSON.stringify(id)} in the ${this.lang} catalogue`);
    return e;
  }
}

/** Reads prompts/<lang>/prompts.yaml and every WAV it names from `dir/<lang>`. Rejects with PromptCatalogError. */
export async function loadCatalog(dir: string, lang: string): Promise<PromptCatalog> {
  const folder = join(dir, lang);
  const texts = await readTexts(join(folder, 'prompts.yaml'));
  const audio = await Promise.all(
    [...texts.keys()].map(async (id) => {
      const path = join(folder, `${id}.wav`);
      let wav;
      try {
        wav = await readWavFile(path);
      } catch (err) {
        const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : `cannot be read: ${(err as Error).message}`;
        throw new PromptCatalogError(`prompt ${id}: ${path} ${why} (run npm run prompts)`);
      }
      if (wav.sampleRate !== SAMPLE_RATE) {
        throw new PromptCatalogError(`prompt ${id}: ${path} is ${wav.sampleRate} Hz; prompts must be ${SAMPLE_RATE} Hz`);
      }
      return [id, wav.samples] as const;
    }),
  );
  const padded = (n: number): number => Math.ceil(n / FRAME_BYTES) * FRAME_BYTES;
  const total = audio.reduce((sum, [, samples]) => sum + padded(samples.length), 0);
  const pools = { PCMU: new Uint8Array(total), PCMA: new Uint8Array(total) };
  pools.PCMU.fill(silenceCode('PCMU'));
  pools.PCMA.fill(silenceCode('PCMA'));
  const entries = new Map<string, Entry>();
  let at = 0;
  for (const [id, samples] of audio) {
    const length = padded(samples.length);
    const entry: Entry = {
      text: texts.get(id)!,
      samples: samples.length,
      PCMU: pools.PCMU.subarray(at, at + length),
      PCMA: pools.PCMA.subarray(at, at + length),
    };
    encodeG711(encodeTable('PCMU'), samples, 0, samples.length, entry.PCMU, 0);
    encodeG711(encodeTable('PCMA'), samples, 0, samples.length, entry.PCMA, 0);
    entries.set(id, entry);
    at += length;
  }
  return new PromptCatalog(lang, entries);
}

async function readTexts(path: string): Promise<Map<string, string>> {
  let doc: unknown;
  try {
    doc = parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new PromptCatalogError(`${path}: ${(err as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new PromptCatalogError(`${path}: expected a mapping of prompt id to text`);
  }
  const texts = new Map<string, string>();
  for (const [id, text] of Object.entries(doc)) {
    if (!ID_PATTERN.test(id)) throw new PromptCatalogError(`${path}: prompt id ${JSON.stringify(id)} is not snake_case`);
    if (typeof text !== 'string' || text.trim() === '') throw new PromptCatalogError(`${path}: prompt ${id} has no text`);
    texts.set(id, text.trim());
  }
  return texts;
}
