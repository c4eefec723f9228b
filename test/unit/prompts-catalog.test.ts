/**
 * The prompt catalogue over the committed prompts/en-US folder, and its load-time errors on made-up folders.
 *
 * Covers: every id the en-US say-engine can return is in prompts.yaml and has a WAV; the voicemail and
 * attendant prompts named in issue 3 exist; every committed WAV is 8 kHz mono 16-bit PCM, non-empty, and
 * peaks near -3 dBFS; the committed WAVs total under 5 MB (about 4 MB with the voicemail menus; 8 kHz 16-bit keeps them playable by any tool); each prompt's frames are a whole number of
 * 160-byte frames for both laws, padded with the law's silence code; u-law and A-law frames decode back to
 * the WAV's samples within G.711 quantization (per sample, and > 30 dB SNR over the prompt); a missing WAV,
 * a WAV at the wrong rate, a non-snake_case id, an empty text and a missing prompts.yaml each reject with
 * PromptCatalogError naming the culprit; get() of an unknown id throws TypeError.
 * Does not cover: how the prompts sound (listened to by hand), the render script, other languages.
 */
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALAW_SILENCE, ALAW_TO_LINEAR, ULAW_SILENCE, ULAW_TO_LINEAR } from '../../src/media/g711.js';
import { buildWavHeader, parseWavHeader, readWavFile } from '../../src/media/wav.js';
import { FRAME_BYTES, PromptCatalog, PromptCatalogError, loadCatalog } from '../../src/prompts/catalog.js';
import { createSay } from '../../src/prompts/say.js';

const PROMPTS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'prompts');
const EN = join(PROMPTS, 'en-US');

describe('the committed en-US catalogue', () => {
  let catalog: PromptCatalog;
  beforeAll(async () => {
    catalog = await loadCatalog(PROMPTS, 'en-US');
  });

  it('has every prompt id the en-US say-engine can return', () => {
    const missing = createSay('en-US').promptIds.filter((id) => !catalog.has(id));
    expect(missing).toEqual([]);
  });

  it('has the voicemail and attendant prompts the apps need', () => {
    const needed = [
      'welcome', 'enter_mailbox', 'enter_pin', 'invalid', 'goodbye', 'you_have', 'new', 'saved', 'message',
      'messages', 'urgent', 'main_menu', 'message_menu', 'record_after_tone', 'message_sent', 'mailbox_full',
      'please_hold_transfer', 'at', 'today', 'yesterday', 'am', 'pm', 'oclock', 'oh', 'minutes', 'seconds',
    ];
    expect(needed.filter((id) => !catalog.has(id))).toEqual([]);
  });

  it('keeps every committed WAV 8 kHz mono PCM16, non-empty, peaking near -3 dBFS', async () => {
    const bad: string[] = [];
    for (const id of catalog.ids()) {
      const info = parseWavHeader(readFileSync(join(EN, `${id}.wav`)));
      const { samples } = await readWavFile(join(EN, `${id}.wav`));
      let peak = 0;
      for (const s of samples) peak = Math.max(peak, Math.abs(s));
      const peakDb = 20 * Math.log10(peak / 32768);
      const ok = info.encoding === 'pcm16' && info.sampleRate === 8000 && info.channels === 1 && samples.length >= 800;
      if (!ok || peakDb < -4 || peakDb > -2) bad.push(`${id}: ${info.encoding} ${info.sampleRate} Hz, ${samples.length} samples, peak ${peakDb.toFixed(1)} dBFS`);
    }
    expect(bad).toEqual([]);
  });

  it('keeps the committed WAVs under 5 MB in total', () => {
    const bytes = readdirSync(EN)
      .filter((f) => f.endsWith('.wav'))
      .reduce((sum, f) => sum + statSync(join(EN, f)).size, 0);
    expect(bytes).toBeLessThan(5_000_000);
  });

  it('gives each prompt as whole 160-byte frames for PCMU and PCMA, padded with the silence code', () => {
    for (const id of catalog.ids()) {
      const samples = Math.round((catalog.durationMs(id) * 8000) / 1000);
      for (const [law, silence] of [['PCMU', ULAW_SILENCE], ['PCMA', ALAW_SILENCE]] as const) {
        const frames = catalog.get(id, law);
        expect(frames.length % FRAME_BYTES, `${id} ${law}`).toBe(0);
        expect(frames.length - samples, `${id} ${law}`).toBeGreaterThanOrEqual(0);
        expect(frames.length - samples, `${id} ${law}`).toBeLessThan(FRAME_BYTES);
        expect(frames.subarray(samples).every((b) => b === silence), `${id} ${law} padding`).toBe(true);
      }
    }
  });

  for (const [law, table] of [['PCMU', ULAW_TO_LINEAR], ['PCMA', ALAW_TO_LINEAR]] as const) {
    it(`decodes ${law} frames back to the WAV samples within G.711 quantization`, async () => {
      const { samples } = await readWavFile(join(EN, 'main_menu.wav'));
      const frames = catalog.get('main_menu', law);
      let signal = 0;
      let noise = 0;
      let worst = 0;
      for (let i = 0; i < samples.length; i++) {
        const s = samples[i]!;
        const err = Math.abs(table[frames[i]!]! - s);
        // Half a quantization step: under 1/16 of the level in every segment, plus the small-signal step.
        worst = Math.max(worst, err - (Math.abs(s) / 16 + 16));
        signal += s * s;
        noise += err * err;
      }
      expect(worst).toBeLessThanOrEqual(0);
      expect(10 * Math.log10(signal / noise)).toBeGreaterThan(30);
    });
  }

  it('throws TypeError for an id it does not have', () => {
    expect(() => catalog.get('no_such_prompt', 'PCMU')).toThrow(TypeError);
  });
});

describe('loadCatalog errors', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  function folder(yaml: string | undefined, wavs: Record<string, number>): string {
    const root = mkdtempSync(join(tmpdir(), 'vmpilot-catalog-'));
    dirs.push(root);
    mkdirSync(join(root, 'xx'));
    if (yaml !== undefined) writeFileSync(join(root, 'xx', 'prompts.yaml'), yaml);
    for (const [id, rate] of Object.entries(wavs)) {
      const data = Buffer.alloc(400);
      writeFileSync(join(root, 'xx', `${id}.wav`), Buffer.concat([buildWavHeader({ encoding: 'pcm16', sampleRate: rate, dataBytes: 400 }), data]));
    }
    return root;
  }

  it('loads a good folder', async () => {
    const catalog = await loadCatalog(folder('hello: Hello.\n', { hello: 8000 }), 'xx');
    expect(catalog.ids()).toEqual(['hello']);
    expect(catalog.get('hello', 'PCMU').length).toBe(FRAME_BYTES * 2);
  });

  it('rejects an id without its WAV, naming the id', async () => {
    const err = await loadCatalog(folder('hello: Hello.\ngoodbye: Goodbye.\n', { hello: 8000 }), 'xx').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PromptCatalogError);
    expect((err as Error).message).toMatch(/prompt goodbye: .*goodbye\.wav is missing/);
  });

  it('rejects a WAV that is not 8 kHz, naming the id', async () => {
    const err = await loadCatalog(folder('hello: Hello.\n', { hello: 16000 }), 'xx').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PromptCatalogError);
    expect((err as Error).message).toMatch(/prompt hello: .* is 16000 Hz/);
  });

  it('rejects an id that is not snake_case and a prompt with no text', async () => {
    await expect(loadCatalog(folder('Hello-There: Hi.\n', {}), 'xx')).rejects.toThrow(/"Hello-There" is not snake_case/);
    await expect(loadCatalog(folder('hello: ""\n', { hello: 8000 }), 'xx')).rejects.toThrow(/prompt hello has no text/);
  });

  it('rejects a folder without prompts.yaml', async () => {
    await expect(loadCatalog(folder(undefined, {}), 'xx')).rejects.toBeInstanceOf(PromptCatalogError);
  });
});
