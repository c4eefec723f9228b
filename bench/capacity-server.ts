/**
 * The server side of bench/media-capacity.ts: a vmpilot process whose voicemail number runs the benchmark's
 * app through the Call API (hooks.apps), so the measured work is exactly a caller's: hear a ~5 s prompt,
 * then be recorded until hang-up. Calls from the user "probe" instead hear a long prompt over and over with
 * barge-in, for the digit-latency and packet-timing probes.
 *
 *   node dist/bench/capacity-server.js CONFIG RESULTS_DIR [--workers N] [--main-prof DIR] [--app voicemail]
 *
 * --app voicemail: the voicemail pilot runs the real voicemail service (greeting, beep, the recording and its
 * sidecar in store.tmpDir, store.deposit, MWI, call records: media-capacity.ts --app voicemail provisions the
 * mailboxes and reads the messages back), and the benchmark app below serves only the probe calls, on the
 * attendant pilot (8001) instead; recordings.jsonl stays empty.
 *
 * Writes one JSON line per finished recording to RESULTS_DIR/recordings.jsonl and, every second, a JSON line
 * of process figures (CPU, RSS, heap, event-loop delay, calls, clock lateness) to stdout.
 *
 * With --workers N it is a cluster: this process is the 302 front door on sip.listen (cluster/front-door.ts)
 * and forks itself N times (--worker-index I) as workers, each running the benchmark app. Its per-second
 * line then sums the workers' calls, CPU (in cores: 1.5 = one and a half), RSS and heap, and takes the worst
 * event-loop delay and clock lateness among them (the front door's own CPU is not in it).
 *
 * Each line also names the second's longest stall of the main thread (the longest gap between two runs of a
 * 10 ms timer) and where that time went, from Linux's /proc/<pid>/task/<pid>/schedstat: on a CPU (the loop was
 * busy: a profile shows with what), runnable but waiting for a CPU (the machine was full: SIPp, the other
 * worker, threads), or neither (asleep in a blocking call). --main-prof DIR: a V8 CPU profile of the main
 * thread only (the inspector's, 1 ms sampling), written to DIR when the process exits.
 */
import { realtimeNodeFlags } from '../src/admin/serve-role.js';
import { fork } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
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
const textOption = (name: string): string | undefined => (options.includes(`--${name}`) ? options[options.indexOf(`--${name}`) + 1] : undefined);
const mainProfDir = textOption('main-prof');
/** 'voicemail': the real voicemail on its pilot, the probes' app on the attendant pilot (see the header). */
const app = textOption('app') ?? 'bench';
if (app !== 'bench' && app !== 'voicemail') {
  process.stderr.write(`--app must be bench or voicemail, not ${app}\n`);
  process.exit(2);
}
if (mainProfDir && (workers === undefined || workerIndex !== undefined)) profileMainThread(mainProfDir);
const recordings = join(resultsDir, 'recordings');
mkdirSync(recordings, { recursive: true });
/**
 * One line per finished recording, kept in memory and appended to RESULTS_DIR/recordings.jsonl when the process
 * exits: a write per hang-up (appendFileSync was a sync open/write/close on the media thread; a WriteStream is
 * still a hand-off to libuv's thread pool per line, which the server itself no longer makes for a recording,
 * see media/disk-thread.ts) would measure the harness. O_APPEND: every worker appends its lines to the same file.
 */
const resultLines: string[] = [];
process.on('exit', () => {
  if (resultLines.length > 0) appendFileSync(join(resultsDir, 'recordings.jsonl'), resultLines.join(''));
});

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
  resultLines.push(JSON.stringify({ callId: call.callId, ...outcome, media: call.mediaStats() }) + '\n');
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
      const profile = mainProfDir ? ['--main-prof', mainProfDir] : [];
      const child = fork(process.argv[1]!, [configFile, resultsDir, '--workers', String(workers), '--worker-index', String(index), '--app', app, ...profile], {
        execArgv: [...process.execArgv, ...realtimeNodeFlags(config)],
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
      // The worst worker's stall, with its own breakdown.
      ...pickStall(all),
    };
    process.stdout.write(JSON.stringify(line) + '\n');
  }, 1000).unref();
  const stop = (): void => {
    void frontDoor.drain(0).then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const apps = app === 'voicemail' ? { attendant: benchApp } : { voicemail: benchApp };
  const server: RunningServer =
    workerIndex !== undefined ? (await startWorker(config, logger, workerIndex, workers ?? 1, { apps })).server : await startServer(config, logger, { apps });
  reportFigures(server);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
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
  const stalls = watchStalls();
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
        ...stalls.take(),
      }) + '\n',
    );
    loop.reset();
    gcMaxMs = 0;
    gcMs = 0;
    gcMajor = 0;
  }, 1000).unref();
}

type Stall = Pick<Sample, 'stallMs' | 'stallRunMs' | 'stallWaitMs'>;

function pickStall(all: Sample[]): Stall {
  const worst = all.reduce((a, s) => ((s.stallMs ?? 0) > (a.stallMs ?? 0) ? s : a), all[0]!);
  return { stallMs: worst.stallMs, stallRunMs: worst.stallRunMs, stallWaitMs: worst.stallWaitMs };
}

/**
 * The longest gap between two runs of a 10 ms timer since the last take(), with the main thread's time on a
 * CPU and waiting for one during it (schedstat: "time on cpu, time waiting on a runqueue, timeslices", ns).
 * A read of a small /proc file per run: a benchmark's instrument, not the server's.
 */
function watchStalls(): { take(): Stall } {
  const file = `/proc/${process.pid}/task/${process.pid}/schedstat`;
  const read = (): [number, number] => {
    try {
      const [run, wait] = readFileSync(file, 'utf8').split(' ').map(Number);
      return [run ?? 0, wait ?? 0];
    } catch {
      return [0, 0];
    }
  };
  let last = performance.now();
  let [lastRun, lastWait] = read();
  let worst: Stall = { stallMs: 0, stallRunMs: 0, stallWaitMs: 0 };
  setInterval(() => {
    const now = performance.now();
    const [run, wait] = read();
    if (now - last > (worst.stallMs ?? 0)) worst = { stallMs: now - last, stallRunMs: (run - lastRun) / 1e6, stallWaitMs: (wait - lastWait) / 1e6 };
    last = now;
    lastRun = run;
    lastWait = wait;
  }, 10).unref();
  return {
    take: () => {
      const taken = worst;
      worst = { stallMs: 0, stallRunMs: 0, stallWaitMs: 0 };
      return taken;
    },
  };
}

/** A CPU profile of this thread from now until the process exits (the inspector answers synchronously). */
function profileMainThread(dir: string): void {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  process.on('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `main-${workerIndex ?? 'single'}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
