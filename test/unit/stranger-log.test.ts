/**
 * StrangerLog: one warning line per source per window, with the previous window's count, and a cap on lines per
 * window over all sources (the rest summarised in the next line).
 *
 * Does not cover: which requests are noted and what they are answered (integration/strangers.test.ts).
 */
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { StrangerLog } from '../../src/sip/stranger-log.js';

function logged(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

describe('StrangerLog', () => {
  it('logs a source once per window and reports its count in the next window\'s line', () => {
    const { log, lines } = logged();
    let now = 0;
    const strangers = new StrangerLog(log, { windowMs: 60_000, now: () => now });
    for (let i = 0; i < 100; i++) strangers.note('192.0.2.1', '403', {});
    expect(lines).toHaveLength(1);
    now = 60_000;
    strangers.note('192.0.2.1', '403', {});
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ source: '192.0.2.1', requestsInPreviousWindow: 100 });
  });

  it('logs at most maxLinesPerWindow lines over all sources, and counts the others in the next line', () => {
    const { log, lines } = logged();
    let now = 0;
    const strangers = new StrangerLog(log, { windowMs: 1000, maxLinesPerWindow: 3, now: () => now });
    for (let i = 0; i < 50; i++) strangers.note(`192.0.2.${i}`, 'none', {});
    expect(lines).toHaveLength(3);
    now = 1000;
    strangers.note('198.51.100.1', 'none', {});
    expect(lines[3]).toMatchObject({ source: '198.51.100.1', otherSources: 47, otherRequests: 47 });
  });

  it('remembers at most maxSources sources', () => {
    const { log, lines } = logged();
    const strangers = new StrangerLog(log, { maxSources: 2, maxLinesPerWindow: 100, now: () => 0 });
    strangers.note('a', 'none', {});
    strangers.note('b', 'none', {});
    strangers.note('c', 'none', {}); // forgets a
    strangers.note('a', 'none', {}); // so a is logged again
    expect(lines.map((l) => l.source)).toEqual(['a', 'b', 'c', 'a']);
  });
});
