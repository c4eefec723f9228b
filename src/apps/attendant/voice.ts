/**
 * A voice: the prompts of one language as play items, and its say-engine. The server's prompt catalogue is one
 * language (prompts.language), encoded at start-up; an attendant offering more languages plays the others'
 * prompts as files from prompts/<lang>/<id>.wav (read when played), which needs nothing new from the Call.
 *
 * has() lets the app prefer a prompt that a language may not have yet and fall back to one it has
 * (prompts.ts), so a missing recording never breaks a call.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { CallPlayItem } from '../../call/call.js';
import type { PromptCatalog } from '../../prompts/catalog.js';
import { createSay, sayLanguages, type Say } from '../../prompts/say.js';

export interface Voice {
  /** The language tag. */
  readonly lang: string;
  readonly say: Say;
  has(id: string): boolean;
  /** The prompt `id` of this language, to play. */
  item(id: string): CallPlayItem;
}

export interface Voices {
  /** The catalogue's language (prompts.language). */
  readonly default: Voice;
  /** A language's voice; undefined when it was not loaded. */
  get(lang: string): Voice | undefined;
}

/** The voice of the server's catalogue: prompt ids played from memory. */
export function catalogVoice(catalog: Pick<PromptCatalog, 'lang' | 'has'>): Voice {
  return { lang: catalog.lang, say: createSay(catalog.lang), has: (id) => catalog.has(id), item: (id) => id };
}

/**
 * Another language's voice from prompts/<lang>/: its prompts.yaml names the ids, each played from its WAV.
 * FIXME: only en-US has a say-engine grammar; other languages say numbers with en-US word order (their own
 * recordings of the same ids).
 */
export async function folderVoice(promptsDir: string, lang: string, fallbackSay: Say): Promise<Voice> {
  const doc: unknown = parse(await readFile(join(promptsDir, lang, 'prompts.yaml'), 'utf8'));
  const ids = new Set(typeof doc === 'object' && doc !== null ? Object.keys(doc) : []);
  return {
    lang,
    say: sayLanguages().includes(lang) ? createSay(lang) : fallbackSay,
    has: (id) => ids.has(id),
    item: (id) => ({ file: join(promptsDir, lang, `${id}.wav`) }),
  };
}

/** The catalogue's voice plus one voice per further language. */
export async function loadVoices(catalog: Pick<PromptCatalog, 'lang' | 'has'>, promptsDir: string, languages: readonly string[]): Promise<Voices> {
  const main = catalogVoice(catalog);
  const byLang = new Map<string, Voice>([[main.lang, main]]);
  for (const lang of new Set(languages)) {
    if (!byLang.has(lang)) byLang.set(lang, await folderVoice(promptsDir, lang, main.say));
  }
  return { default: main, get: (lang) => byLang.get(lang) };
}
