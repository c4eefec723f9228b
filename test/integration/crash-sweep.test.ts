/**
 * Short messages survive a crash (issue 9 item 10): nine callers talk through their beeps while the real
 * `vmpilot serve` is killed with SIGKILL once, 1.0, 1.5, ... 5.0 s after their beeps; after a restart (whose
 * repair delivers what was in tmp/) every caller who had said at least voicemail.minMessageMs (1 s) has a message,
 * no longer than what was said and short of it by no more than what a killed writer lacks (WAV_CRASH_LOSS_MS,
 * with room for a loaded machine's disk).
 *
 * Does not cover: the full sweep of 20 deposits and its figures (bench/crash-sweep.ts), the repair's rule case by
 * case (test/unit/store-repair.test.ts), a crash during the review menu.
 */
import { describe, expect, it } from 'vitest';
import { WAV_CRASH_LOSS_MS } from '../../src/media/wav.js';
import { crashSweepRound } from '../helpers/crash-sweep.js';

const AGES_MS = [1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500, 5000];

describe('SIGKILL at every 0.5 s from 1 s to 5 s after the beep', () => {
  it('every message of at least 1 s MUST be kept after the restart', async () => {
    const deposits = await crashSweepRound(AGES_MS);
    process.stdout.write(
      `crash sweep (age at kill -> message kept):\n${deposits.map((d) => `  ${d.from}: ${d.ageMs} ms -> ${d.messageMs ?? 'lost'} ms`).join('\n')}\n`,
    );
    expect(deposits).toHaveLength(AGES_MS.length);
    for (const d of deposits.filter((x) => x.ageMs >= 1000)) {
      expect(d.messageMs, `caller ${d.from}, killed ${d.ageMs} ms after the beep`).toBeDefined();
      // Polling sees a WAV up to ~10 ms after it appears: a message may be that much longer than the age.
      expect(d.messageMs!).toBeLessThanOrEqual(d.ageMs + 100);
      expect(d.messageMs!).toBeGreaterThanOrEqual(d.ageMs - WAV_CRASH_LOSS_MS - 500);
    }
  }, 90_000);
});
