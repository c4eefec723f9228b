/**
 * An administrator's load on the HTTP API, for bench/media-capacity.ts --api-load RPS (issue 11: "proof that a
 * busy API does not disturb calls"). Runs in its own process (this file as a script), so its own work never
 * shares a loop with the RTP probes that measure the server's pacing:
 *
 *   node --import tsx bench/api-load.ts '{"url":…,"token":…,"rps":…,"mailbox":…,"message":…}'
 *
 * It sends requests open-loop at RPS (a fixed schedule, not one after another's answer: a slow server must
 * not slow the load down) until SIGTERM, then writes its figures as one JSON line on stdout. The mix is an
 * admin page's: mailbox searches over 10,000 mailboxes, live calls, a Prometheus scrape, a message's audio
 * fetched with a Range (an <audio> element seeking), and the message marked heard and unheard (the lamp path).
 *
 * prepareApiLoad fills the server's store before it starts: 10,000 mailboxes, one message with audio, and
 * an API token in the config's http section (the `vmpilot http token` format: the config keeps the hash).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { hashToken, newToken } from '../src/http/tokens.js';
import { hashPin } from '../src/store/pin.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { recordingIn } from '../test/helpers/store-fixture.js';
import { freeTcpPort } from '../test/helpers/cli-process.js';

export const API_LOAD_MAILBOXES = 10_000;
/** More requests than this waiting for answers: the next ones are counted as skipped, not queued forever. */
const MAX_IN_FLIGHT = 64;

/** What the load generator is given. */
export interface ApiLoadTarget {
  url: string;
  token: string;
  rps: number;
  /** The mailbox and message whose audio is fetched and marked heard/unheard. */
  mailbox: string;
  message: string;
}

/** Per kind of request: how many answered as expected, errors, and latency in ms. */
export interface ApiLoadResult {
  seconds: number;
  sent: number;
  skipped: number;
  kinds: Record<string, { ok: number; errors: number; p50: number; p99: number; max: number; firstError?: string }>;
}

/**
 * Fills `storageDir` with 10,000 mailboxes ("Person i Example", numbers from 100000, one alias each) by direct
 * SQL (10,000 PIN hashes would dominate the set-up; one is shared), and `mailboxes` for mailbox 27000 plus a
 * message with 2 s of audio in it. Returns the numbers and id the load generator uses.
 */
export async function fillMailboxes(storageDir: string, count: number): Promise<{ mailbox: string; message: string }> {
  const store = await openSqliteStore(storageDir);
  try {
    const pinHash = await hashPin('2580');
    const db = (store as unknown as { db: import('better-sqlite3').Database }).db;
    const mailbox = db.prepare('INSERT INTO mailboxes (number, name, email, pin_hash, created_at) VALUES (?, ?, ?, ?, ?)');
    const alias = db.prepare('INSERT INTO aliases (alias, mailbox) VALUES (?, ?)');
    db.transaction(() => {
      for (let i = 0; i < count; i++) {
        const number = String(100000 + i);
        mailbox.run(number, `Person ${i} Example`, `person${i}@example.com`, pinHash, Date.now());
        alias.run(`+46870${number}`, number);
      }
    })();
    const number = '100000';
    const audioFile = recordingIn(store.tmpDir, 2000);
    const message = await store.deposit({ mailbox: number, from: '4455', fromName: 'Bob', durationMs: 2000, urgent: false, reason: 'no-answer', audioFile });
    return { mailbox: number, message: message.id };
  } finally {
    await store.close();
  }
}

/**
 * Prepares a benchmarked server for the load: its store filled (fillMailboxes), a token, a port. `httpYaml` is
 * the config's http section (bench-config.ts writeBenchConfig's `http`); `target(rps)` what startApiLoad takes.
 */
export async function prepareApiLoad(storageDir: string): Promise<{ httpYaml: string; target: (rps: number) => ApiLoadTarget }> {
  const ids = await fillMailboxes(storageDir, API_LOAD_MAILBOXES);
  const token = newToken();
  // Free now; the server binds it a moment later (nothing else on the bench races for it).
  const port = await freeTcpPort();
  return {
    httpYaml: `{ listen: "127.0.0.1:${port}", tokens: [{ name: bench, hash: "${hashToken(token)}" }] }`,
    target: (rps) => ({ url: `http://127.0.0.1:${port}`, token, rps, ...ids }),
  };
}

/** Starts the load generator process (`pin`: e.g. ['taskset', '-c', '1']); stop() ends it and gives its figures. */
export function startApiLoad(target: ApiLoadTarget, pin: string[] = []): { stop(): Promise<ApiLoadResult> } {
  const command = [...pin, process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url), JSON.stringify(target)];
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  const result = new Promise<ApiLoadResult>((resolve, reject) => {
    let last: string | undefined;
    createInterface({ input: child.stdout }).on('line', (line) => (last = line));
    child.once('exit', (code) => (last ? resolve(JSON.parse(last) as ApiLoadResult) : reject(new Error(`api-load exited ${code} without figures`))));
  });
  return {
    stop: () => {
      child.kill('SIGTERM');
      return result;
    },
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** The API's figures, a few lines, for the bench's report. */
export function formatApiLoad(r: ApiLoadResult): string {
  const lines = [`  API load: ${r.sent} requests in ${r.seconds.toFixed(1)} s (${(r.sent / r.seconds).toFixed(0)}/s), ${r.skipped} skipped (over ${MAX_IN_FLIGHT} waiting)`];
  for (const [kind, k] of Object.entries(r.kinds)) {
    lines.push(`    ${kind.padEnd(22)} ${String(k.ok).padStart(6)} ok ${String(k.errors).padStart(4)} errors  p50 ${k.p50.toFixed(1)} ms  p99 ${k.p99.toFixed(1)} ms  max ${k.max.toFixed(1)} ms${k.firstError ? `  (${k.firstError})` : ''}`);
  }
  return lines.join('\n');
}

/** The figures compared between a run without and one with the API under load. */
export interface PacingFigures {
  p50: number;
  p99: number;
  max: number;
  loopP99: number;
  pass: boolean;
}

/** Side by side: the outbound pacing without and with the API load, and whether the load made it worse. */
export function formatComparison(n: number, rps: number, quiet: PacingFigures, loaded: PacingFigures): string {
  const row = (label: string, a: number, b: number): string => `    ${label.padEnd(26)} ${a.toFixed(1).padStart(8)} ms ${b.toFixed(1).padStart(8)} ms  ${b - a >= 0 ? '+' : ''}${(b - a).toFixed(1)} ms`;
  // "No worse": the loaded run's p99 within 2 ms and its max within 10 ms of the quiet run's (a 20 ms
  // packet time: less than a tenth of one is noise between two runs of the same load).
  const worse = loaded.p99 > quiet.p99 + 2 || loaded.max > quiet.max + 10;
  const verdict = `${worse ? 'WORSE with the API load' : 'no worse with the API load'} (criterion: p99 within 2 ms and max within 10 ms of the quiet run); pass criteria: without ${quiet.pass ? 'PASS' : 'FAIL'}, with ${loaded.pass ? 'PASS' : 'FAIL'}`;
  return [
    `N=${n}: outbound pacing without / with the API at ${rps} requests/s`,
    `    ${''.padEnd(26)} ${'without'.padStart(11)} ${'with'.padStart(11)}`,
    row('interval p50', quiet.p50, loaded.p50),
    row('interval p99', quiet.p99, loaded.p99),
    row('interval max', quiet.max, loaded.max),
    row('event-loop delay p99', quiet.loopP99, loaded.loopP99),
    `    ${verdict}`,
  ].join('\n');
}

/** The mix: weights out of 10, as an admin page and a Prometheus server would make them. */
function requestMix(t: ApiLoadTarget): { kind: string; weight: number; make: (i: number) => { path: string; init?: RequestInit; expect: number } }[] {
  const audio = `/api/mailboxes/${t.mailbox}/messages/${encodeURIComponent(t.message)}/audio`;
  return [
    { kind: 'mailbox search', weight: 3, make: (i) => ({ path: `/api/mailboxes?search=person%20${(i * 37) % API_LOAD_MAILBOXES}%20&limit=50`, expect: 200 }) },
    { kind: 'live calls', weight: 2, make: () => ({ path: '/api/live-calls', expect: 200 }) },
    { kind: 'metrics', weight: 1, make: () => ({ path: '/metrics', expect: 200 }) },
    // 2 s of 16-bit 8 kHz is 32 kB: a 4 kB range somewhere in it, as a seek does.
    { kind: 'audio range', weight: 2, make: (i) => ({ path: audio, init: { headers: { range: `bytes=${(i * 4096) % 28_000}-${((i * 4096) % 28_000) + 4095}` } }, expect: 206 }) },
    {
      kind: 'message heard/unheard',
      weight: 2,
      make: (i) => ({ path: `/api/mailboxes/${t.mailbox}/messages/${encodeURIComponent(t.message)}`, init: { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ heard: i % 2 === 0 }) }, expect: 200 }),
    },
  ];
}

/** The generator itself (this file run as a script). */
async function generate(t: ApiLoadTarget): Promise<void> {
  const mix = requestMix(t);
  const slots = mix.flatMap((m) => Array.from({ length: m.weight }, () => m));
  const latencies = new Map(mix.map((m) => [m.kind, [] as number[]]));
  const errors = new Map(mix.map((m) => [m.kind, { count: 0, first: undefined as string | undefined }]));
  let sent = 0;
  let skipped = 0;
  let inFlight = 0;
  const started = performance.now();

  const one = async (i: number): Promise<void> => {
    const m = slots[i % slots.length]!;
    const { path, init, expect } = m.make(i);
    const begin = performance.now();
    let problem: string | undefined;
    try {
      const res = await fetch(t.url + path, { ...init, headers: { ...(init?.headers as Record<string, string>), authorization: `Bearer ${t.token}` } });
      await res.arrayBuffer();
      if (res.status !== expect) problem = `${res.status} on ${path}`;
    } catch (err) {
      problem = `${(err as Error).message} on ${path}`;
    }
    if (problem === undefined) latencies.get(m.kind)!.push(performance.now() - begin);
    else {
      const e = errors.get(m.kind)!;
      e.count++;
      e.first ??= problem;
    }
  };

  // Every 5 ms, send what the schedule owes: rps * elapsed, minus what was sent.
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * t.rps);
    while (sent + skipped < due) {
      if (inFlight >= MAX_IN_FLIGHT) {
        skipped++;
        continue;
      }
      inFlight++;
      void one(sent++).finally(() => inFlight--);
    }
  }, 5);

  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  clearInterval(timer);
  const seconds = (performance.now() - started) / 1000;
  for (let waited = 0; inFlight > 0 && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
  const kinds: ApiLoadResult['kinds'] = {};
  for (const m of mix) {
    const sorted = latencies.get(m.kind)!.sort((a, b) => a - b);
    const e = errors.get(m.kind)!;
    kinds[m.kind] = { ok: sorted.length, errors: e.count, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? NaN, ...(e.first && { firstError: e.first }) };
  }
  process.stdout.write(JSON.stringify({ seconds, sent, skipped, kinds } satisfies ApiLoadResult) + '\n');
  process.exit(0);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await generate(JSON.parse(process.argv[2]!) as ApiLoadTarget);
