/**
 * The server side of bench/media-capacity.ts: a vmpilot process whose voicemail number runs the benchmark's
 * app through the Call API (hooks.apps), so the measured work is exactly a caller's: hear a ~5 s prompt,
 * then be recorded until hang-up. Calls from the user "probe" instead hear a long prompt over and over with
 * barge-in, for the digit-latency and packet-timing probes.
 *
 *   node dist/bench/capacity-server.js CONFIG RESULTS_DIR [--workers N]
 *
 * Writes one JSON line per finished recording to RESULTS_DIR/recordings.jsonl and, every second, a JSON line
 * of process figures (CPU, RSS, heap, event-loop delay, calls, clock lateness) to stdout.
 *
 * With --workers N it is a cluster: this process is the 302 front door on sip.listen (cluster/front-door.ts)
 * and forks itself N times (--worker-index I) as workers, each running the benchmark app. Its per-second
 * line then sums the workers' calls, CPU (in cores: 1.5 = one and a half), RSS and heap, and takes the worst
 * event-loop delay and clock lateness among them (the front door's own CPU is not in it).
 */
import { fork } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { constants as perfConstants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import pino from 'pino';
import { loadConfig } from '../src/config/load.js';
import { startServer, type RunningServer } from '../src/server.js';
import { startFrontDoor } from '../src/cluster/front-door.js';
import { startWorker } from '../src/cluster/worker-process.js';
import type { CapacitySample } from './bench-config.js';
import type { Call } from '../src/call/call.js';

const [configFile, resultsDir, ...options] = process.argv.slice(2);
if (!configFile || !resultsDir) {
  process.stderr.write('usage: capacity-server CONFIG RESULTS_DIR [--workers N]\n');
  process.exit(2);
}
const option = (name: string): number | undefined => {
  const i = options.indexOf(`--${name}`);
  return i >= 0 ? Number(options[i + 1]) : undefined;
};
const workers = option('workers');
const workerIndex = option('worker-index');
const recordings = join(resultsDir, 'recordings');
mkdirSync(recordings, { recursive: true });
/**
 * One line per finished recording, appended without blocking (appendFileSync was a sync open/write/close on
 * the media thread at every hang-up). O_APPEND: every worker appends to the same file, a line per write.
 */
const results = createWriteStream(join(resultsDir, 'recordings.jsonl'), { flags: 'a' });

let seq = 0;
async function benchApp(call: Call): Promise<void> {
  if (call.parties.caller.number === 'probe') {
    // Barge-in probe: a long prompt, interrupted by the probe's digits, started again after each.
    // A second of silence after each interruption lets the probe see where the prompt stopped.
    for (;;) {
      await call.play(['echo_test_intro', 'attendant_menu'], { bargeIn: true });
      call.flushDigits();
      await call.play([{ silenceMs: 1000 }], { bargeIn: false });
    }
  }
  await call.play(['echo_test_intro'], { bargeIn: false });
  const path = join(recordings, `${workerIndex ?? 0}-${++seq}.wav`);
  const outcome = await call.record({ path, maxMs: 120_000, silenceMs: 0, beep: false, endOnDigits: '', onHangup: 'keep' });
  results.write(JSON.stringify({ callId: call.callId, ...outcome, media: call.mediaStats() }) + '\n');
}

const config = await loadConfig(configFile);
const logger = pino({ level: config.log.level }, pino.destination(2));

type Sample = CapacitySample;

if (workers !== undefined && workerIndex === undefined) {
  // The front door: the workers' lines are summed into one per second.
  const latest = new Map<number, Sample>();
  const frontDoor = await startFrontDoor({ ...config, cluster: { workers, remote: [] } }, logger, {
    workers,
    fork: (index) => {
      const child = fork(process.argv[1]!, [configFile, resultsDir, '--workers', String(workers), '--worker-index', String(index)], {
        stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      });
      createInterface({ input: child.stdout! }).on('line', (line) => {
        try {
          latest.set(index, JSON.parse(line) as Sample);
        } catch {
          process.stderr.write(`worker ${index}: ${line}\n`);
        }
      });
      return child;
    },
  });
  setInterval(() => {
    const all = [...latest.values()];
    if (all.length < workers) return; // not every worker is up yet
    const sum = (f: (s: Sample) => number): number => all.reduce((a, s) => a + f(s), 0);
    const max = (f: (s: Sample) => number): number => Math.max(...all.map(f));
    const line: Sample = {
      t: Date.now(),
      calls: sum((s) => s.calls),
      cpu: sum((s) => s.cpu),
      rssMb: sum((s) => s.rssMb),
      heapMb: sum((s) => s.heapMb),
      loopP99Ms: max((s) => s.loopP99Ms),
      loopMaxMs: max((s) => s.loopMaxMs),
      gcMaxMs: max((s) => s.gcMaxMs),
      gcMs: max((s) => s.gcMs),
      gcMajor: sum((s) => s.gcMajor),
      clockLate: sum((s) => s.clockLate),
      clockMaxLatenessMs: max((s) => s.clockMaxLatenessMs),
    };
    process.stdout.write(JSON.stringify(line) + '\n');
  }, 1000).unref();
  const stop = (): void => {
    void frontDoor.drain(0).then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const server: RunningServer =
    workerIndex !== undefined
      ? (await startWorker(config, logger, workerIndex, workers ?? 1, { apps: { voicemail: benchApp } })).server
      : await startServer(config, logger, { apps: { voicemail: benchApp } });
  reportFigures(server);
  const stop = (): void => {
    void server.close().then(() => results.end(() => process.exit(0)));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** Every second, this process's figures as one JSON line on stdout. */
function reportFigures(server: RunningServer): void {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  let gcMaxMs = 0;
  let gcMs = 0;
  let gcMajor = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcMs += entry.duration;
      if (entry.duration > gcMaxMs) gcMaxMs = entry.duration;
      if (((entry as { detail?: { kind?: number } }).detail)?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) gcMajor++;
    }
  }).observe({ entryTypes: ['gc'] });
  let lastCpu = process.cpuUsage();
  let lastAt = process.hrtime.bigint();
  setInterval(() => {
    const now = process.hrtime.bigint();
    const cpu = process.cpuUsage(lastCpu);
    const wallUs = Number(now - lastAt) / 1000;
    lastCpu = process.cpuUsage();
    lastAt = now;
    const mem = process.memoryUsage();
    const stats = server.stats();
    process.stdout.write(
      JSON.stringify({
        t: Date.now(),
        calls: stats.calls,
        cpu: (cpu.user + cpu.system) / wallUs,
        rssMb: mem.rss / 2 ** 20,
        heapMb: mem.heapUsed / 2 ** 20,
        loopP99Ms: loop.percentile(99) / 1e6,
        loopMaxMs: loop.max / 1e6,
        gcMaxMs,
        gcMs,
        gcMajor,
        clockLate: stats.clock.late,
        clockMaxLatenessMs: stats.clock.maxLatenessMs,
      }) + '\n',
    );
    loop.reset();
    gcMaxMs = 0;
    gcMs = 0;
    gcMajor = 0;
  }, 1000).unref();
}
