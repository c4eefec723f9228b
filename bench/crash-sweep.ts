/**
 * The crash sweep of issue 9 item 10, in full: rounds of nine callers talking through their beeps while the real
 * `vmpilot serve` is killed with SIGKILL 1.0, 1.5, ... 5.0 s after their beeps (test/helpers/crash-sweep.ts),
 * then restarted. Prints every deposit (age at the kill, message kept and its length) and a summary: messages of
 * at least 1 s kept, and how far the kept audio trailed what was said (age - message length: the disk's lag).
 *
 *   npx tsx bench/crash-sweep.ts [--rounds 3]        (3 rounds: 27 deposits, about 80 s)
 *
 * Not part of the test run (test/integration/crash-sweep.test.ts runs one round). Needs sipp.
 */
import { crashSweepRound, type SweepDeposit } from '../test/helpers/crash-sweep.js';

const roundsArg = process.argv.indexOf('--rounds');
const rounds = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 3;
if (!Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write('usage: crash-sweep [--rounds N]\n');
  process.exit(2);
}
const AGES_MS = [1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500, 5000];

const all: SweepDeposit[] = [];
for (let r = 1; r <= rounds; r++) {
  const deposits = await crashSweepRound(AGES_MS);
  for (const d of deposits) {
    process.stdout.write(`round ${r}  caller ${d.from}  killed ${String(d.ageMs).padStart(5)} ms after the beep  ->  ${d.messageMs === undefined ? 'LOST' : `kept, ${d.messageMs} ms`}\n`);
  }
  all.push(...deposits);
}
const due = all.filter((d) => d.ageMs >= 1000);
const kept = due.filter((d) => d.messageMs !== undefined);
const lags = kept.map((d) => d.ageMs - d.messageMs!).sort((a, b) => a - b);
const pick = (q: number): number => lags[Math.min(lags.length - 1, Math.floor(q * lags.length))] ?? NaN;
process.stdout.write(
  `\n${all.length} deposits; ${kept.length} of ${due.length} messages of >= 1 s kept` +
    `; audio lost to the crash (age - message): p50 ${pick(0.5)} ms, max ${lags[lags.length - 1] ?? NaN} ms\n`,
);
process.exit(kept.length === due.length ? 0 : 1);
