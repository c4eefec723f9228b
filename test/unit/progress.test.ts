/*
 * The CLI's progress display (src/admin/progress.ts) on a stand-in stream.
 *
 * Covers: a terminal gets one bar redrawn in place (carriage returns, no line per step) ending with its
 * newline; anything else gets a plain line per tenth, the last at 100 %; an empty task reports 100 %.
 * Does not cover: the commands that use it (test/integration/store-mirror.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { progress } from '../../src/admin/progress.js';

function stream(isTTY: boolean): { written: string[]; stream: NodeJS.WriteStream } {
  const written: string[] = [];
  return { written, stream: { isTTY, write: (s: string) => written.push(s) > 0 } as unknown as NodeJS.WriteStream };
}

describe('progress', () => {
  it('redraws one bar in place on a terminal', () => {
    const out = stream(true);
    const bar = progress('copying messages', out.stream);
    for (let i = 0; i <= 500; i++) bar.update(i, 500);
    bar.end();
    const text = out.written.join('');
    expect(text.split('\n')).toHaveLength(2);
    expect(text).toMatch(/\rcopying messages \[#{30}\] 100% 500\/500\n$/);
    // Redrawn at most every 100 ms: a fast task draws a few frames, not 501.
    expect(out.written.length).toBeLessThan(20);
  });

  it('writes a plain line per tenth when the output is not a terminal', () => {
    const out = stream(false);
    const bar = progress('verifying audio', out.stream);
    for (let i = 0; i <= 500; i++) bar.update(i, 500);
    bar.end();
    expect(out.written).toHaveLength(11);
    expect(out.written[0]).toBe('verifying audio: 0/500 (0%)\n');
    expect(out.written[5]).toBe('verifying audio: 250/500 (50%)\n');
    expect(out.written[10]).toBe('verifying audio: 500/500 (100%)\n');
  });

  it('reports an empty task as done', () => {
    const out = stream(false);
    progress('copying messages', out.stream).update(0, 0);
    expect(out.written).toEqual(['copying messages: 0/0 (100%)\n']);
  });
});
