/**
 * The CSV import of 10,000 mailboxes (issue 11: "the import of 10,000 CSV rows (seconds)"): the steps of
 * `vmpilot mailbox import` (admin/mailbox-import.ts) on a fresh SQLite store: check and plan, hash the
 * distinct initial PINs (scrypt, four at a time), one transaction; then the same file again (a no-op).
 * Prints the seconds of each step.
 *
 * Run: npx tsx bench/mailbox-import.ts     ROWS=10000 PINS=100 by default (distinct initial PINs; ~10-30 s)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyImport, hashPins, planImport } from '../src/admin/mailbox-import.js';
import { openSqliteStore } from '../src/store/sqlite.js';

const ROWS = Number(process.env.ROWS ?? 10_000);
const PINS = Number(process.env.PINS ?? 100);

function csv(): string {
  const lines = ['number,name,pin,email,aliases,attachAudio,maxMessages,maxMinutes,hidden'];
  for (let i = 0; i < ROWS; i++) {
    const n = String(100000 + i);
    lines.push(`${n},User ${i},${String(500000 + (i % PINS) * 7)},user${i}@example.com,+46872${n},${i % 2 ? 'on' : 'off'},,,off`);
  }
  return lines.join('\n');
}

const seconds = (t0: number): string => ((performance.now() - t0) / 1000).toFixed(2);
const config = { services: { voicemail: ['8000'], attendant: ['8001'], echo: [] }, mailboxes: [] };

const dir = mkdtempSync(join(tmpdir(), 'vmpilot-bench-import-'));
const store = await openSqliteStore(dir);
try {
  const text = csv();
  let t = performance.now();
  const plan = planImport(text, await store.listMailboxes(), config);
  const planS = seconds(t);
  t = performance.now();
  const hashes = await hashPins(plan.create.map((r) => r.pin!));
  const hashS = seconds(t);
  t = performance.now();
  await applyImport(store, plan, hashes);
  const applyS = seconds(t);
  t = performance.now();
  const again = planImport(text, await store.listMailboxes(), config);
  const againS = seconds(t);
  process.stdout.write(
    `import of ${ROWS} CSV rows (${PINS} distinct initial PINs): check+plan ${planS} s, hash ${hashS} s, one transaction ${applyS} s; ` +
      `the same file again: ${again.unchanged} unchanged in ${againS} s\n`,
  );
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
