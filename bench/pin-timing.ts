/**
 * How long a wrong PIN takes to be answered, for a mailbox that exists and one that does not (issue 9 item 4:
 * they were 54 ms against 11 ms, so an attacker could list the mailboxes). Measures the store's checkPin, the
 * step the log-in waits on between the PIN and "not correct", interleaving present and absent tries, each
 * from a fresh source under a mailbox threshold never reached (so the back-off never delays: only the check
 * itself is timed). Prints p50/p99/mean for both and their difference.
 *
 * Run: npx tsx bench/pin-timing.ts [tries per kind, default 200]   (prints figures; never part of the tests)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openSqliteStore } from '../src/store/sqlite.js';
import { DEFAULT_PIN_BACKOFF } from '../src/store/pin-backoff.js';

const tries = Number(process.argv[2] ?? 200);
const policy = { ...DEFAULT_PIN_BACKOFF, mailboxAfter: Number.MAX_SAFE_INTEGER };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summary(name: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return `${name.padEnd(8)} p50 ${percentile(sorted, 50).toFixed(2)} ms  p99 ${percentile(sorted, 99).toFixed(2)} ms  mean ${mean.toFixed(2)} ms  (n=${samples.length})`;
}

const dir = mkdtempSync(join(tmpdir(), 'pin-timing-'));
const store = await openSqliteStore(join(dir, 'data'));
try {
  await store.createMailbox({ number: '27000', name: 'Alice Example', pin: '2580' });
  const times = { present: [] as number[], absent: [] as number[] };
  // Warm-up: the dummy hash is made on first use, statements are prepared.
  await store.checkPin({ number: '27000', pin: '0000', source: 'warm-up-1', policy });
  await store.checkPin({ number: '27999', pin: '0000', source: 'warm-up-2', policy });
  for (let i = 0; i < tries; i++) {
    for (const kind of i % 2 === 0 ? (['present', 'absent'] as const) : (['absent', 'present'] as const)) {
      const number = kind === 'present' ? '27000' : '27999';
      const start = performance.now();
      const r = await store.checkPin({ number, pin: '0000', source: `${kind}-${i}`, policy });
      times[kind].push(performance.now() - start);
      if (r.verdict !== 'wrong') throw new Error(`unexpected verdict ${r.verdict}`);
    }
  }
  console.log(`wrong PIN answered by the store's checkPin, ${tries} tries each, interleaved`);
  console.log(summary('present', times.present));
  console.log(summary('absent', times.absent));
  const p50 = (s: number[]): number => percentile([...s].sort((a, b) => a - b), 50);
  console.log(`p50 difference (present - absent): ${(p50(times.present) - p50(times.absent)).toFixed(2)} ms`);
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
