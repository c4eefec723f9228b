/**
 * The shared media clock alone on the real event loop (no sockets): N subscribers doing a little work each,
 * for SECONDS. Prints the inter-tick interval (p50/p99/max/min) seen by one subscriber, the clock's largest
 * lateness, catch-ups and resynchronisations, and drift (when the last tick ran against when it was due).
 * This is the timing that test/unit/media-pacer.test.ts used to assert ("p99 near 20 ms"): on a loaded
 * machine such a figure is a measurement, not a pass/fail result (issue 9 item 17).
 *
 * Run: npx tsx bench/clock.bench.ts        SUBSCRIBERS=200 SECONDS=2 by default (prints figures; not a test)
 */
import { MediaClock } from '../src/media/pacer.js';

const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 200);
const SECONDS = Number(process.env.SECONDS ?? 2);

async function main(): Promise<void> {
  const clock = new MediaClock();
  const stamps: bigint[] = [];
  let lastFrame = -1;
  let work = 0;
  for (let i = 0; i < SUBSCRIBERS; i++) {
    // Each subscriber does a little work, as a sender writing a packet would.
    clock.subscribe({
      tick: (now, frame) => {
        work += frame & 1;
        if (i === 0) {
          stamps.push(now);
          lastFrame = frame;
        }
      },
    });
  }
  const start = process.hrtime.bigint();
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  clock.close();
  const intervals = stamps.slice(1).map((t, i) => Number(t - stamps[i]!) / 1e6).sort((a, b) => a - b);
  const q = (p: number): number => intervals[Math.min(intervals.length - 1, Math.floor(p * intervals.length))]!;
  const elapsedMs = Number(stamps[stamps.length - 1]! - start) / 1e6;
  const s = clock.stats;
  console.log(
    `real clock, ${SUBSCRIBERS} subscribers, ${stamps.length} ticks (work ${work}): interval p50 ${q(0.5).toFixed(2)} ms, ` +
      `p99 ${q(0.99).toFixed(2)} ms, max ${intervals[intervals.length - 1]!.toFixed(2)} ms, min ${intervals[0]!.toFixed(2)} ms; ` +
      `max lateness ${s.maxLatenessMs.toFixed(2)} ms, caught up ${s.caughtUp}, late ${s.late} (${s.resyncedFrames} frames resynced); ` +
      `drift: frame ${lastFrame} ran at ${elapsedMs.toFixed(1)} ms, due at ${((lastFrame + 1 + s.resyncedFrames) * 20).toFixed(0)} ms`,
  );
}

void main();
