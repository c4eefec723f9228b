/**
 * `npm run prompts [-- LANG ...] [--force]`: renders prompts/<lang>/prompts.yaml into <id>.wav files.
 *
 * Voice: the best offline voice installed from Debian packages, in this order:
 *   1. festival + festvox-us-slt-hts (HTS statistical voice, clearly the most natural of the three)
 *   2. flite (diphone/clustergen, robotic but intelligible)
 *   3. espeak-ng (formant synthesis, intelligible, least natural)
 * `apt-get install festival festvox-us-slt-hts` gets the first. Non-English languages fall to espeak-ng,
 * which has a voice for most of them.
 *
 * Each rendering is converted by sox to what the catalog wants: 8 kHz mono 16-bit PCM WAV, trimmed of
 * leading and trailing silence, pauses inside longer than 0.25 s shortened to 0.25 s, a 5 ms fade at each end (a trim cuts mid-waveform; the fade avoids a click
 * between concatenated prompts), normalized to -3 dBFS peak.
 *
 * Only ids whose text or voice changed, or whose WAV is missing, are rendered again: render-manifest.json
 * (committed next to the WAVs) records the text and voice each WAV was made from. WAVs of ids no longer in
 * prompts.yaml are deleted. Prints one line per rendered id and a summary.
 *
 * This is a developer tool run by hand: it uses synchronous child processes and console output on purpose.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', 'prompts');
const MANIFEST = 'render-manifest.json';
/**
 * Longest pause kept inside a prompt. festival leaves about half a second between sentences; 0.25 s still
 * separates menu choices clearly and keeps the menus short (message_menu: 14.6 s -> 12.2 s).
 */
const MAX_PAUSE_S = 0.25;
const SLT_HTS_DIR = '/usr/share/festival/voices/us/cmu_us_slt_arctic_hts';

interface Voice {
  /** Recorded in the manifest: a change of voice re-renders everything. */
  name: string;
  /** Writes `text` as a WAV at `out` (any rate). */
  render(text: string, out: string, work: string): void;
}

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr ?? result.error}`);
  }
}

function chooseVoice(lang: string): Voice {
  const english = lang.startsWith('en');
  if (english && onPath('text2wave') && existsSync(SLT_HTS_DIR)) {
    return {
      name: 'festival cmu_us_slt_arctic_hts',
      render(text, out, work) {
        const input = join(work, 'in.txt');
        writeFileSync(input, text + '\n');
        run('text2wave', ['-eval', '(voice_cmu_us_slt_arctic_hts)', input, '-o', out]);
      },
    };
  }
  if (english && onPath('flite')) {
    return { name: 'flite slt', render: (text, out) => run('flite', ['-voice', 'slt', '-t', text, '-o', out]) };
  }
  if (onPath('espeak-ng')) {
    const voice = english ? 'en-us' : lang.toLowerCase();
    return { name: `espeak-ng ${voice}`, render: (text, out) => run('espeak-ng', ['-v', voice, '-w', out, text]) };
  }
  throw new Error('no offline voice found: apt-get install festival festvox-us-slt-hts (or flite, or espeak-ng)');
}

/**
 * 8 kHz mono PCM16, silence trimmed at both ends, pauses inside cut to MAX_PAUSE_S, 5 ms fades, -3 dBFS
 * peak. sox's fade cannot fade out a stream of unknown length (after `silence`), so each end is trimmed and
 * faded in, reversed, and again.
 */
function convert(raw: string, out: string): void {
  // prettier-ignore
  run('sox', [raw, '-b', '16', '-e', 'signed-integer', out, 'channels', '1', 'rate', '8000',
    'silence', '-l', '1', '0.02', '0.5%', '-1', String(MAX_PAUSE_S), '0.5%', 'fade', 'h', '0.005', 'reverse',
    'silence', '1', '0.02', '0.5%', 'fade', 'h', '0.005', 'reverse', 'norm', '-3']);
}

type Manifest = Record<string, { text: string; voice: string }>;

function readPrompts(file: string): Map<string, string> {
  const doc: unknown = parse(readFileSync(file, 'utf8'));
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${file}: not a mapping of id to text`);
  const prompts = new Map<string, string>();
  for (const [id, text] of Object.entries(doc)) {
    if (typeof text !== 'string' || text.trim() === '') throw new Error(`${file}: ${id} has no text`);
    prompts.set(id, text.trim());
  }
  return prompts;
}

function renderLanguage(lang: string, force: boolean): void {
  const dir = join(ROOT, lang);
  const prompts = readPrompts(join(dir, 'prompts.yaml'));
  const voice = chooseVoice(lang);
  const manifestPath = join(dir, MANIFEST);
  const old: Manifest = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, 'utf8')) : {};
  const manifest: Manifest = {};
  const work = mkdtempSync(join(tmpdir(), 'vmpilot-prompts-'));
  console.log(`${lang}: ${prompts.size} prompts, voice ${voice.name}`);
  let rendered = 0;
  try {
    for (const [id, text] of prompts) {
      const wav = join(dir, `${id}.wav`);
      const before = old[id];
      manifest[id] = { text, voice: voice.name };
      if (!force && before?.text === text && before.voice === voice.name && existsSync(wav)) continue;
      const raw = join(work, 'raw.wav');
      voice.render(text, raw, work);
      convert(raw, wav);
      rendered++;
      console.log(`  rendered ${id} (${(statSync(wav).size / 1024).toFixed(1)} KB): ${text}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  }
  let removed = 0;
  let bytes = 0;
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.wav')) continue;
    if (!prompts.has(file.slice(0, -4))) {
      unlinkSync(join(dir, file));
      removed++;
      console.log(`  removed ${file} (no longer in prompts.yaml)`);
    } else {
      bytes += statSync(join(dir, file)).size;
    }
  }
  const seconds = (bytes - 44 * prompts.size) / 16000;
  console.log(
    `${lang}: rendered ${rendered}, unchanged ${prompts.size - rendered}, removed ${removed}; ` +
      `${(bytes / 1024 / 1024).toFixed(2)} MB, ${seconds.toFixed(1)} s of audio`,
  );
}

const args = process.argv.slice(2);
const force = args.includes('--force');
const langs = args.filter((a) => !a.startsWith('--'));
const all = readdirSync(ROOT).filter((d) => existsSync(join(ROOT, d, 'prompts.yaml')));
for (const lang of langs.length > 0 ? langs : all) renderLanguage(lang, force);
