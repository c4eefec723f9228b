/**
 * resolvePlayItems (src/call/play-items.ts): a file played from an offset (the voicemail player's '*' and '#'
 * within a message).
 *
 * Covers: { file, offsetMs } gives the file's frames from that 20 ms frame on (the same bytes as the whole
 * file's tail), an offset inside a frame rounds down, an offset past the end gives nothing, no offset or 0
 * gives the whole file.
 * Does not cover: prompts and tones (test/unit/prompts-catalog.test.ts, media-player.test.ts), unreadable
 * files.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePlayItems } from '../../src/call/play-items.js';
import { PromptCatalog } from '../../src/prompts/catalog.js';

const TONES = join(import.meta.dirname, '..', 'fixtures', 'audio', 'tones-3s.wav');
const catalog = new PromptCatalog('en-US', new Map());

async function frames(offsetMs?: number): Promise<Uint8Array> {
  const [item] = await resolvePlayItems([offsetMs === undefined ? { file: TONES } : { file: TONES, offsetMs }], catalog, 'PCMU');
  if (!item || !('frames' in item)) throw new Error('expected frames');
  return item.frames;
}

describe('a file played from an offset', () => {
  it('starts at the 20 ms frame of the offset, with the same bytes as the whole file from there', async () => {
    const whole = await frames();
    expect(whole.length).toBe(3000 * 8);
    const from1s = await frames(1000);
    expect(from1s.length).toBe(2000 * 8);
    expect(Buffer.from(from1s).equals(Buffer.from(whole.subarray(1000 * 8)))).toBe(true);
  });

  it('rounds an offset inside a frame down to the frame', async () => {
    expect((await frames(1019.9)).length).toBe((await frames(1000)).length);
  });

  it('gives nothing for an offset past the end, and the whole file for 0', async () => {
    expect((await frames(3500)).length).toBe(0);
    expect((await frames(0)).length).toBe(3000 * 8);
  });
});
