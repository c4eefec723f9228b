/**
 * Call set-up through the 302 front door (issue 13): SIPp places calls at a fixed rate against
 * `vmpilot serve --workers N` (built, from dist/): INVITE to the front door, 302, ACK, INVITE to the worker,
 * 200, ACK, 0.5 s of call, BYE (sipp-scenarios/uac-redirected-call.xml). Prints completed and failed calls,
 * the INVITE→302 time (the front door's own work) and the second INVITE→200 time (the worker's) at p50/p99/max,
 * from SIPp's response-time trace (whole milliseconds: 0 means under 1 ms), and the INVITE→302 time seen by
 * a separate raw UDP client sending a sample of 20 INVITEs/s during the run (microsecond timestamps, and not
 * delayed by SIPp's own loop when SIPp is the busiest process on the machine).
 *
 *   npx tsx bench/front-door-setup.ts [--rate 300] [--duration 20] [--workers 2] [--warmup 5] [--pause 500]
 *
 * Target (issue 13, 2-core machine, SIPp on the same machine): 300 calls/s for 20 s with 0 failed calls and
 * the 302 at p99 ≤ 5 ms. Not part of the test run. Needs sipp.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeBenchConfig } from './bench-config.js';
import { probeRedirects } from './redirect-probe.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]?.replace(/^--/, '') ?? '', process.argv[i + 1] ?? '');
const rate = Number(args.get('rate') ?? '300');
const duration = Number(args.get('duration') ?? '20');
const workers = args.get('workers') ?? '2';
const warmup = Number(args.get('warmup') ?? '5');
const pauseMs = Number(args.get('pause') ?? '500');
const port = 15160;

function startCluster(dir: string): ChildProcess {
  const config = writeBenchConfig(dir, { listen: [`udp:127.0.0.1:${port}`], rtpPorts: '20000-39999' });
  spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
  return spawn('node', [join(root, 'dist/src/admin/cli.js'), 'serve', '--config', config, '--workers', workers], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Polls the front door with OPTIONS until it answers 200 (every worker has had time to report ready). */
async function waitReady(timeoutMs = 60_000): Promise<void> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  let ok = false;
  socket.on('message', (m) => (ok ||= m.toString().startsWith('SIP/2.0 200')));
  const end = Date.now() + timeoutMs;
  for (let n = 0; !ok && Date.now() < end; n++) {
    const lp = socket.address().port;
    const msg = `OPTIONS sip:127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${lp};branch=z9hG4bKready${n};rport\r\nFrom: <sip:bench@127.0.0.1>;tag=b${n}\r\nTo: <sip:127.0.0.1>\r\nCall-ID: ready-${n}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;
    socket.send(msg, port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 500));
  }
  socket.close();
  if (!ok) throw new Error('the front door did not answer OPTIONS with 200 in time');
  // Every worker reports within 200 ms of its start; give the last ones a moment after the first 200.
  await new Promise((r) => setTimeout(r, 2000));
}

function percentiles(values: number[]): string {
  if (values.length === 0) return 'no samples';
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
  const ms = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(2));
  return `p50 ${ms(at(50))} ms, p99 ${ms(at(99))} ms, max ${ms(sorted[sorted.length - 1]!)} ms (${sorted.length} samples)`;
}

async function run(dir: string, callsPerSecond: number, seconds: number): Promise<string> {
  const runDir = mkdtempSync(join(dir, `rate-${callsPerSecond}-`));
  // The raw sample starts a second in (SIPp ramping up) and ends before SIPp's last calls.
  const sample = new Promise<number[]>((resolve) =>
    setTimeout(() => resolve(probeRedirects({ port, perSecond: 20, seconds: Math.max(1, seconds - 2) }).then((all) => all.filter((s) => s.status === 302).map((s) => s.ms))), 1000),
  );
  const result = await spawnAsync(
    'sipp',
    [
      `127.0.0.1:${port}`,
      '-sf', join(root, 'sipp-scenarios/uac-redirected-call.xml'),
      '-t', 'u1', '-i', '127.0.0.1', '-s', '8000',
      '-r', String(callsPerSecond), '-m', String(callsPerSecond * seconds), '-l', String(callsPerSecond * 4),
      '-d', String(pauseMs),
      '-timeout', `${seconds + 30}s`, '-nostdin',
      '-trace_rtt', '-rtt_freq', '1',
    ],
    runDir,
    (seconds + 60) * 1000,
  );
  const screen = result;
  const count = (label: string): number => {
    const nums = screen.split('\n').filter((l) => l.includes(label)).pop()?.match(/\d+/g);
    return nums ? Number(nums[nums.length - 1]) : 0;
  };
  // The RTT trace: "Date_ms;response_time_ms;rtd_no" per sample; rtd 1 is INVITE→302, rtd 2 INVITE→200.
  const byRtd = new Map<string, number[]>();
  const rttFile = readdirSync(runDir).find((f) => f.endsWith('_rtt.csv'));
  if (rttFile) {
    for (const line of readFileSync(join(runDir, rttFile), 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(';');
      const ms = Number(cols[1]);
      if (cols.length < 3 || !Number.isFinite(ms)) continue;
      const list = byRtd.get(cols[2]!) ?? [];
      list.push(ms);
      byRtd.set(cols[2]!, list);
    }
  }
  const [redirect, answer] = [...byRtd.keys()].sort();
  return [
    `${count('Successful call')} ok, ${count('Failed call')} failed of ${callsPerSecond * seconds}`,
    `  INVITE->302 (front door): ${percentiles(byRtd.get(redirect ?? '') ?? [])}`,
    `  INVITE->200 (worker):     ${percentiles(byRtd.get(answer ?? '') ?? [])}`,
    `  INVITE->302 seen by a raw UDP client (20/s alongside): ${percentiles(await sample)}`,
  ].join('\n');
}

/** Runs a command to its end (without blocking this process's loop: the raw sample runs meanwhile); its stdout. */
function spawnAsync(command: string, args: string[], cwd: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vmpilot-bench-front-door-'));
  const cluster = startCluster(dir);
  try {
    await waitReady();
    console.log(`call set-up through the front door: ${workers} workers, UDP, ${pauseMs} ms calls, SIPp on the same machine`);
    if (warmup > 0) console.log(`warm-up ${warmup} s at ${Math.ceil(rate / 3)}/s (not counted): ${(await run(dir, Math.ceil(rate / 3), warmup)).split('\n')[0]}`);
    console.log(`${rate} calls/s for ${duration} s: ${await run(dir, rate, duration)}`);
  } finally {
    cluster.kill('SIGINT');
  }
}

void main();
