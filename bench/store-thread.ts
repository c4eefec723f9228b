/**
 * What store work costs the loop that paces RTP (issue 13, "store work leaves the media loop"): a burst of
 * deposits (each: audio moved into place, fsyncs, the row committed) with the SQLite store on the main thread
 * (as before) and in its store thread (src/store/thread/, as the server runs it now), and the attendant's
 * directory read with 5,000 mailboxes on the main thread, in the thread, and from the directory cache.
 *
 * Prints, per variant, the main thread's event-loop delay (perf_hooks monitorEventLoopDelay, 1 ms resolution:
 * p50/p99/max, i.e. how late a 20 ms RTP tick would have been) and the deposits' throughput. The figures are
 * relative: compare variants run on the same machine at the same time.
 *
 * Run: npx tsx bench/store-thread.ts        DEPOSITS=300 CONCURRENCY=30 MAILBOXES=5000 by default (~30 s)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pino from 'pino';
import { MailboxDirectory } from '../src/apps/attendant/directory.js';
import { hashPin } from '../src/store/pin.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { openThreadedStore } from '../src/store/thread/threaded-store.js';
import type { MessageStore } from '../src/store/types.js';
import { newMessage } from '../test/helpers/store-fixture.js';

const DEPOSITS = Number(process.env.DEPOSITS ?? 300);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 30);
const MAILBOXES = Number(process.env.MAILBOXES ?? 5000);
const logger = pino({ level: 'warn' });

type Opener = (dir: string) => Promise<MessageStore>;
const IN_THREAD: Opener = (dir) => openSqliteStore(dir);
const STORE_THREAD: Opener = (dir) => openThreadedStore(dir, { logger });

/** Runs `work` while watching the main loop; prints its delay figures. */
async function measured(label: string, work: () => Promise<string>): Promise<void> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t0 = performance.now();
  const extra = await work();
  const ms = performance.now() - t0;
  h.disable();
  const f = (ns: number): string => (ns / 1e6).toFixed(1).padStart(7);
  console.log(`${label.padEnd(44)} loop delay p50 ${f(h.percentile(50))} ms  p99 ${f(h.percentile(99))} ms  max ${f(h.max)} ms  ${extra} (${ms.toFixed(0)} ms)`);
}

async function depositBurst(label: string, open: Opener): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vmpilot-bench-store-'));
  const store = await open(dir);
  try {
    const boxes = 10;
    for (let i = 0; i < boxes; i++) await store.createMailbox({ number: String(27000 + i), name: `Box ${i}`, pin: '2580' });
    const messages = Array.from({ length: DEPOSITS }, (_, i) => newMessage(store.tmpDir, { mailbox: String(27000 + (i % boxes)), durationMs: 1000 }));
    await measured(`${DEPOSITS} deposits, ${CONCURRENCY} at once, ${label}`, async () => {
      const t0 = performance.now();
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < messages.length) await store.deposit(messages[next++]!);
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, lane));
      return `${((DEPOSITS * 1000) / (performance.now() - t0)).toFixed(0)} deposits/s`;
    });
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function directoryReads(dir: string): Promise<void> {
  const reads = 10;
  for (const [label, open] of [['main thread', IN_THREAD], ['store thread', STORE_THREAD]] as const) {
    const store = await open(dir);
    try {
      await measured(`${reads} directory reads (${MAILBOXES} mailboxes), ${label}`, async () => {
        const t0 = performance.now();
        for (let i = 0; i < reads; i++) {
          await store.listMailboxes();
          // A menu visit is one read among other work: let the loop (and the delay monitor) run between reads.
          await new Promise((resolve) => setImmediate(resolve));
        }
        return `${((performance.now() - t0) / reads).toFixed(1)} ms per read`;
      });
      const directory = new MailboxDirectory(store);
      await directory.mailboxes();
      await measured(`${reads} directory reads, cached (${label})`, async () => {
        const t0 = performance.now();
        for (let i = 0; i < reads; i++) await directory.mailboxes();
        return `${((performance.now() - t0) / reads).toFixed(3)} ms per read`;
      });
      directory.close();
    } finally {
      await store.close();
    }
  }
}

async function main(): Promise<void> {
  console.log(`store-thread bench: ${DEPOSITS} deposits (${CONCURRENCY} at once), directory of ${MAILBOXES}; figures are relative`);
  await depositBurst('main thread (before)', IN_THREAD);
  await depositBurst('store thread (after)', STORE_THREAD);

  const dir = mkdtempSync(join(tmpdir(), 'vmpilot-bench-dir-'));
  try {
    // Mailboxes inserted with one PIN hash (hashing 5,000 PINs would dominate the set-up).
    const setup = await openSqliteStore(dir);
    const pinHash = await hashPin('2580');
    const specs = Array.from({ length: MAILBOXES }, (_, i) => ({ number: String(100000 + i), name: `Person ${i}`, pin: '2580' }));
    await setup.provision(specs.slice(0, 1));
    const db = (setup as unknown as { db: import('better-sqlite3').Database }).db;
    const insert = db.prepare('INSERT OR IGNORE INTO mailboxes (number, name, pin_hash, created_at) VALUES (?, ?, ?, ?)');
    db.transaction(() => {
      for (const s of specs) insert.run(s.number, s.name, pinHash, Date.now());
    })();
    await setup.close();
    await directoryReads(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
