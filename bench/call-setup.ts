/**
 * Call-setup benchmark: SIPp places INVITE/200/ACK/BYE calls at fixed rates against a vmpilot server pinned
 * to one core (taskset), SIPp on the other. For each rate it prints completed and failed calls and the
 * INVITE→200 time at p50/p99 (SIPp's response-time trace), and finally the highest rate with zero failures.
 *
 *   npx tsx bench/call-setup.ts [--rates 200,400,500,600] [--duration 60] [--warmup 20] [--transport udp|tcp]
 *
 * A warm-up run (default 20 s at the first rate, not counted) comes first: a cold Node process spends its
 * first seconds compiling hot functions, and those calls measure V8's JIT, not steady-state call setup.
 *
 * Not part of the test run. Needs sipp and taskset (util-linux).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeBenchConfig } from './bench-config.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]?.replace(/^--/, '') ?? '', process.argv[i + 1] ?? '');
const rates = (args.get('rates') ?? '200,400,500,600').split(',').map(Number);
const duration = Number(args.get('duration') ?? '60');
const transport = args.get('transport') ?? 'udp';
const warmup = Number(args.get('warmup') ?? '20');
const port = 15060;

function startServer(dir: string): ChildProcess {
  const config = writeBenchConfig(dir, { listen: [`udp:127.0.0.1:${port}`, `tcp:127.0.0.1:${port}`], rtpPorts: '20000-39999' });
  spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
  return spawn('taskset', ['-c', '0', 'node', join(root, 'dist/src/admin/cli.js'), 'serve', '--config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function runRate(dir: string, rate: number, seconds = duration): { ok: number; failed: number; p50: number; p99: number; max: number } {
  const runDir = mkdtempSync(join(dir, `rate-${rate}-`));
  const calls = rate * seconds;
  const result = spawnSync(
    'taskset',
    [
      '-c', '1',
      'sipp', `127.0.0.1:${port}`,
      '-sf', join(root, 'sipp-scenarios/uac-basic-call.xml'),
      '-t', transport === 'tcp' ? 't1' : 'u1',
      '-i', '127.0.0.1', '-s', '8000',
      '-r', String(rate), '-m', String(calls), '-l', String(rate * 2),
      '-timeout', `${seconds + 30}s`, '-nostdin',
      '-trace_rtt', '-rtt_freq', '1',
      '-max_socket', '100000',
    ],
    { cwd: runDir, encoding: 'utf8', timeout: (seconds + 60) * 1000 },
  );
  const screen = result.stdout ?? '';
  const count = (label: string): number => {
    const line = screen.split('\n').filter((l) => l.includes(label)).pop();
    const nums = line?.match(/\d+/g);
    return nums ? Number(nums[nums.length - 1]) : 0;
  };
  const rttFile = readdirSync(runDir).find((f) => f.endsWith('_rtt.csv'));
  const times: number[] = [];
  if (rttFile) {
    for (const line of readFileSync(join(runDir, rttFile), 'utf8').split('\n').slice(1)) {
      const cols = line.split(';');
      const ms = Number(cols[cols.length - 2]);
      if (Number.isFinite(ms) && cols.length > 2) times.push(ms);
    }
  }
  times.sort((a, b) => a - b);
  return { ok: count('Successful call'), failed: count('Failed call'), p50: percentile(times, 50), p99: percentile(times, 99), max: times[times.length - 1] ?? NaN };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vmpilot-bench-'));
  const server = startServer(dir);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  let best = 0;
  try {
    console.log(`call setup over ${transport}, ${duration} s per rate, server on core 0, SIPp on core 1`);
    console.log('(SIPp reports response times in whole milliseconds: p50 0 means under 1 ms)');
    if (warmup > 0) {
      const w = runRate(dir, rates[0] ?? 200, warmup);
      console.log(`warm-up ${warmup} s at ${rates[0]}/s (not counted): ${w.ok} ok, ${w.failed} failed, p99 ${w.p99} ms, max ${w.max} ms`);
    }
    for (const rate of rates) {
      const r = runRate(dir, rate);
      console.log(`rate ${rate}/s: ${r.ok} ok, ${r.failed} failed, INVITE->200 p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms`);
      if (r.failed === 0 && r.ok === rate * duration) best = Math.max(best, rate);
      else break;
    }
    console.log(`highest rate with zero failures: ${best} calls/s`);
  } finally {
    server.kill('SIGINT');
  }
}

void main();
