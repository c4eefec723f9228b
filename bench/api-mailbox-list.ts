/**
 * The admin API's mailbox list at 10,000 mailboxes (issue 11: "10,000 mailboxes must stay fast"): a real
 * server (SQLite store in its thread, fastify), real HTTP from this process. Requests one at a time, then 8 at
 * once: the first page, a search by name, a search by number; prints p50/p99/max ms of each.
 *
 * Run: npx tsx bench/api-mailbox-list.ts        MAILBOXES=10000 REQUESTS=200 by default (~20 s)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parseConfig } from '../src/config/load.js';
import { hashToken, newToken } from '../src/http/tokens.js';
import { startServer } from '../src/server.js';
import { fillMailboxes } from './api-load.js';

const MAILBOXES = Number(process.env.MAILBOXES ?? 10_000);
const REQUESTS = Number(process.env.REQUESTS ?? 200);

function percentiles(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return `p50 ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms, max ${s[s.length - 1]!.toFixed(1)} ms`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vmpilot-bench-api-'));
  try {
    await fillMailboxes(dir, MAILBOXES);
    const token = newToken();
    const config = parseConfig(
      `sip: { listen: ["udp:127.0.0.1:0"] }\nstorage: { dir: ${JSON.stringify(dir)} }\nhttp: { listen: "127.0.0.1:0", tokens: [{ name: bench, hash: "${hashToken(token)}" }] }\n`,
      dir,
    );
    const server = await startServer(config, pino({ level: 'warn' }));
    const url = server.http!.url;
    const get = async (path: string): Promise<number> => {
      const start = performance.now();
      const res = await fetch(url + path, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
      return performance.now() - start;
    };
    const cases: [string, (i: number) => string][] = [
      ['first page (100)', () => '/api/mailboxes?limit=100'],
      ['search by name', (i) => `/api/mailboxes?search=person%20${(i * 37) % MAILBOXES}%20`],
      ['search by number', (i) => `/api/mailboxes?search=${100000 + ((i * 53) % MAILBOXES)}`],
    ];
    console.log(`api-mailbox-list bench: ${MAILBOXES} mailboxes, ${REQUESTS} requests per case`);
    for (const [label, path] of cases) {
      for (let i = 0; i < 5; i++) await get(path(i)); // warm-up
      const serial: number[] = [];
      for (let i = 0; i < REQUESTS; i++) serial.push(await get(path(i)));
      const parallel: number[] = [];
      for (let i = 0; i < REQUESTS; i += 8) parallel.push(...(await Promise.all(Array.from({ length: 8 }, (_, k) => get(path(i + k))))));
      console.log(`  ${label}: one at a time ${percentiles(serial)}; 8 at once ${percentiles(parallel)}`);
    }
    await server.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
