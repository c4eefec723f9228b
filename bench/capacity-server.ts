/**
 * The server side of bench/media-capacity.ts: a vmpilot process whose voicemail number runs the benchmark's
 * app through the Call API (hooks.apps), so the measured work is exactly a caller's: hear a ~5 s prompt,
 * then be recorded until hang-up. Calls from the user "probe" instead hear a long prompt over and over with
 * barge-in, for the digit-latency and packet-timing probes.
 *
 *   node dist/bench/capacity-server.js CONFIG RESULTS_DIR
 *
 * Writes one JSON line per finished recording to RESULTS_DIR/recordings.jsonl and, every second, a JSON line
 * of process figures (CPU, RSS, heap, event-loop delay, calls, clock lateness) to stdout.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pino from 'pino';
import { loadConfig } from '../src/config/load.js';
import { startServer } from '../src/server.js';
import type { Call } from '../src/call/call.js';

const [configFile, resultsDir] = process.argv.slice(2);
if (!configFile || !resultsDir) {
  process.stderr.write('usage: capacity-server CONFIG RESULTS_DIR\n');
  process.exit(2);
}
const recordings = join(resultsDir, 'recordings');
mkdirSync(recordings, { recursive: true });
const results = join(resultsDir, 'recordings.jsonl');

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
  const path = join(recordings, `${++seq}.wav`);
  const outcome = await call.record({ path, maxMs: 120_000, silenceMs: 0, beep: false, endOnDigits: '', onHangup: 'keep' });
  appendFileSync(results, JSON.stringify({ callId: call.callId, ...outcome, media: call.mediaStats() }) + '\n');
}

const config = await loadConfig(configFile);
const logger = pino({ level: config.log.level });
const server = await startServer(config, logger, { apps: { voicemail: benchApp } });

const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();
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
      clockLate: stats.clock.late,
      clockMaxLatenessMs: stats.clock.maxLatenessMs,
    }) + '\n',
  );
  loop.reset();
}, 1000).unref();

const stop = (): void => {
  void server.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
