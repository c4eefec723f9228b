/**
 * Deposits committed to PostgreSQL (issue 10: "≥ 8,000 messages a minute for 5 minutes on this machine with
 * nothing lost; deposit commit p99 in ms"). Calls the PostgreSQL store directly, as the voicemail app does at
 * the end of a recording: many deposits at once, each a realistic 30 s message (a 480 KB WAV, 8 kHz 16-bit),
 * arriving at a steady rate (open loop: a slow store builds a backlog, it does not slow the arrivals).
 *
 * Each deposit: the recording is written to the store's tmp folder (the recorder's work, not timed), then
 * store.deposit() is timed: its audio and sidecar placed locally, the audio (2 chunks) and row committed in one
 * transaction, the sidecar removed. The cached copy is then deleted (this host's cache would otherwise grow by
 * 4 GB a minute; it is only a cache). At the end it checks that nothing was lost: every deposit that resolved is
 * a row with its audio, nothing is kept waiting, and a sample's audio reads back byte for byte.
 *
 * Prints: deposits attempted / committed / failed, the rate reached (per minute, overall and per minute of the
 * run), commit latency p50/p90/p99/max, the most deposits in flight, the main loop's delay, and the check.
 *
 * Run: npx tsx bench/pg-deposits.ts [--url postgres://...] [--seconds 300] [--rate 8000] [--concurrency 128]
 *   Without --url it starts a throwaway PostgreSQL (test/helpers/postgres-server.ts: fsync on) and removes it
 *   after. The integrator's run: --seconds 300; a quick look: --seconds 60.
 */
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import pino from 'pino';
import { buildWavHeader } from '../src/media/wav.js';
import { hashPin } from '../src/store/pin.js';
import { readAudio } from '../src/store/pg/audio.js';
import { clientConfig } from '../src/store/pg/connection.js';
import { openPostgresStore } from '../src/store/postgres.js';
import { startPostgres, type PostgresServer } from '../test/helpers/postgres-server.js';
import { storeLabel } from './bench-store.js';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    seconds: { type: 'string', default: '300' },
    rate: { type: 'string', default: '8000' },
    concurrency: { type: 'string', default: '128' },
    mailboxes: { type: 'string', default: '1000' },
    pool: { type: 'string', default: '32' },
  },
});
const SECONDS = Number(args.seconds);
const RATE_PER_MIN = Number(args.rate);
const CONCURRENCY = Number(args.concurrency);
const MAILBOXES = Number(args.mailboxes);
const MESSAGE_MS = 30_000;

/** A 30 s WAV whose first samples carry the deposit's number, so every message's audio is its own. */
function recording(n: number): Buffer {
  const dataBytes = (MESSAGE_MS / 1000) * 8000 * 2;
  const wav = Buffer.alloc(44 + dataBytes);
  buildWavHeader({ encoding: 'pcm16', dataBytes }).copy(wav, 0);
  for (let i = 0; i < dataBytes / 2; i += 997) wav.writeInt16LE(((i * 37) % 20000) - 10000, 44 + i * 2);
  wav.writeUInt32LE(n, 44);
  return wav;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

let server: PostgresServer | undefined;
let url = args.url;
if (url === undefined) {
  // Settings for a store that takes ~65 MB/s of audio: WAL buffered in 64 MB (not 4), checkpoints spread out.
  server = await startPostgres({ settings: { shared_buffers: '512MB', wal_buffers: '64MB', checkpoint_timeout: '15min', max_wal_size: '8GB' } });
  url = await server.createDatabase('deposits');
}
const dir = mkdtempSync(join(tmpdir(), 'vmpilot-pg-bench-'));
const logger = pino({ level: 'warn' });
const store = await openPostgresStore(url, dir, { logger, poolSize: Number(args.pool) });

// Mailboxes straight into the table: one scrypt hash for all (provisioning 1,000 would hash 1,000 times).
// The store's own client settings (its number parsing), for the set-up and the check.
const admin = new pg.Client(clientConfig(url));
await admin.connect();
const pinHash = await hashPin('2580');
await admin.query(
  `INSERT INTO mailboxes (number, name, pin_hash, created_at)
   SELECT (30000 + n)::text, 'Bench ' || n, $1, 0 FROM generate_series(0, $2::int - 1) n ON CONFLICT DO NOTHING`,
  [pinHash, MAILBOXES],
);

const base = recording(0);
const latencies: number[] = [];
const committedIds = new Map<string, number>();
const perMinute: number[] = [];
let attempted = 0;
let failed = 0;
let inFlight = 0;
let mostInFlight = 0;
let backlog = 0;
const firstErrors: string[] = [];

async function depositOne(n: number): Promise<void> {
  const wav = Buffer.from(base);
  wav.writeUInt32LE(n, 44);
  const file = join(store.tmpDir, `bench-${n}.wav`);
  await writeFile(file, wav);
  const t0 = performance.now();
  try {
    const m = await store.deposit({
      mailbox: String(30000 + randomInt(MAILBOXES)),
      from: '4455',
      fromName: 'Bench',
      durationMs: MESSAGE_MS,
      urgent: false,
      reason: 'no-answer',
      audioFile: file,
    });
    latencies.push(performance.now() - t0);
    committedIds.set(m.id, n);
    const minute = Math.floor((Date.now() - started) / 60_000);
    perMinute[minute] = (perMinute[minute] ?? 0) + 1;
    await rm(m.audioPath, { force: true });
  } catch (err) {
    failed++;
    if (firstErrors.length < 5) firstErrors.push(String(err));
    await rm(file, { force: true });
  }
}

const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const cpuBefore = process.cpuUsage();
const started = Date.now();
const intervalMs = 60_000 / RATE_PER_MIN;
const running = new Set<Promise<void>>();
process.stdout.write(
  `pg-deposits (${await storeLabel('postgresql', url)}): ${RATE_PER_MIN}/min for ${SECONDS} s, 30 s messages (${base.length} bytes), up to ${CONCURRENCY} at once, ${MAILBOXES} mailboxes; ` +
    `${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)}\n`,
);

// Arrivals on a 5 ms tick: every deposit due by now starts, unless CONCURRENCY are in flight (then it waits: backlog).
await new Promise<void>((resolve) => {
  let due = 0;
  const tick = setInterval(() => {
    const elapsed = Date.now() - started;
    if (elapsed >= SECONDS * 1000) {
      clearInterval(tick);
      resolve();
      return;
    }
    due = Math.floor(elapsed / intervalMs) + 1;
    while (attempted < due && inFlight < CONCURRENCY) {
      const n = ++attempted;
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      const p = depositOne(n).finally(() => {
        inFlight--;
        running.delete(p);
      });
      running.add(p);
    }
    backlog = Math.max(backlog, due - attempted);
  }, 5);
});
await Promise.all(running);
const elapsedMs = Date.now() - started;
const cpu = process.cpuUsage(cpuBefore);
loop.disable();

// Nothing lost: every resolved deposit is a row with its audio; nothing kept waiting; a sample reads back.
const rows = (await admin.query<{ n: string }>('SELECT COUNT(*) AS n FROM messages')).rows[0]!.n;
const audio = (await admin.query<{ n: string; bytes: string }>('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS bytes FROM audio')).rows[0]!;
const sampleIds = [...committedIds.keys()].sort(() => Math.random() - 0.5).slice(0, 20);
let sampleOk = 0;
for (const id of sampleIds) {
  const data = await readAudio(admin, id).catch(() => undefined);
  const expected = Buffer.from(base);
  expected.writeUInt32LE(committedIds.get(id)!, 44);
  if (data?.equals(expected)) sampleOk++;
}
const sorted = [...latencies].sort((a, b) => a - b);
const committed = latencies.length;
const lost = committed - Number(rows);
const print = (line: string): void => void process.stdout.write(`${line}\n`);
print(`attempted ${attempted}, committed ${committed}, failed ${failed}, kept for later ${store.keptDeposits}, rows ${rows}, audio rows ${audio.n} (${(Number(audio.bytes) / 1e9).toFixed(2)} GB)`);
print(`rate ${((committed * 60_000) / elapsedMs).toFixed(0)}/min over ${(elapsedMs / 1000).toFixed(1)} s; per minute: ${perMinute.map((n) => n ?? 0).join(', ')}`);
print(`deposit commit ms: p50 ${percentile(sorted, 50).toFixed(1)}, p90 ${percentile(sorted, 90).toFixed(1)}, p99 ${percentile(sorted, 99).toFixed(1)}, max ${(sorted.at(-1) ?? NaN).toFixed(1)}`);
print(`most in flight ${mostInFlight} (cap ${CONCURRENCY}); largest backlog of arrivals ${backlog}; main loop delay p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms`);
print(`this process's CPU: ${((cpu.user + cpu.system) / 1000 / Math.max(1, committed)).toFixed(2)} ms per deposit (user ${(cpu.user / 1e6).toFixed(1)} s, system ${(cpu.system / 1e6).toFixed(1)} s; the writing of each recording included)`);
print(`load average at the end ${loadavg()[0]!.toFixed(1)} (other work on the machine slows every figure above)`);
print(`check: ${lost === 0 && store.keptDeposits === 0 && sampleOk === sampleIds.length ? 'nothing lost' : 'LOST OR DAMAGED'} (rows - committed = ${Number(rows) - committed}; sample ${sampleOk}/${sampleIds.length} byte-identical)`);
if (firstErrors.length > 0) print(`first errors: ${firstErrors.join(' | ')}`);

await admin.end();
await store.close();
rmSync(dir, { recursive: true, force: true });
await server?.destroy();
