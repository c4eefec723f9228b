/**
 * Call records in the SQLite store (store/call-record-table.ts) and their retention (call-records/retention.ts):
 * a batch is stored whole and read back as written; listing is newest first, by time range, caller, `to` or
 * pilot, and limit; the purge removes what was offered before the cut, and retention purges at start by
 * callRecords.retentionDays. Not covered: the writer's batching against a live server (integration tests).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCallRecordRetention } from '../../src/call-records/retention.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import type { CallRecord } from '../../src/store/types.js';

const DAY = 86_400_000;
let dir: string;
let store: SqliteStore;

const record = (over: Partial<CallRecord>): CallRecord => ({
  callId: 'c',
  offeredAt: 0,
  endedAt: 0,
  from: '27001',
  to: '27000',
  pilot: '8000',
  app: 'voicemail',
  outcome: 'abandoned',
  detail: 'greeting',
  ...over,
});

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vmpilot-cdr-'));
  store = await openSqliteStore(dir);
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('call records in the store', () => {
  it('reads back what was written, absent fields absent', async () => {
    const full = record({ callId: 'a', offeredAt: 1000, answeredAt: 1500, endedAt: 9000, outcome: 'message', detail: '27000', messageId: 'm1', worker: 1 });
    const bare = record({ callId: 'b', offeredAt: 500, endedAt: 600, app: '', outcome: 'rejected', detail: '404' });
    await store.addCallRecords([full, bare]);
    expect(await store.listCallRecords({})).toEqual([full, bare]);
  });

  it('lists newest first, by time range, caller, to or pilot, and limit', async () => {
    await store.addCallRecords([
      record({ callId: '1', offeredAt: 1000, from: '27001', to: '27000', pilot: '8000' }),
      record({ callId: '2', offeredAt: 2000, from: '27002', to: '8001', pilot: '8001' }),
      record({ callId: '3', offeredAt: 3000, from: '27001', to: '27005', pilot: '8000' }),
    ]);
    const ids = async (q: Parameters<SqliteStore['listCallRecords']>[0]): Promise<string[]> => (await store.listCallRecords(q)).map((r) => r.callId);
    expect(await ids({})).toEqual(['3', '2', '1']);
    expect(await ids({ since: 2000 })).toEqual(['3', '2']);
    expect(await ids({ until: 2000 })).toEqual(['1']);
    expect(await ids({ from: '27001' })).toEqual(['3', '1']);
    expect(await ids({ to: '8000' })).toEqual(['3', '1']);
    expect(await ids({ to: '27005' })).toEqual(['3']);
    expect(await ids({ limit: 2 })).toEqual(['3', '2']);
  });

  it('purges records offered before the cut; retention purges by callRecords.retentionDays at start', async () => {
    const now = Date.now();
    await store.addCallRecords([record({ callId: 'old', offeredAt: now - 91 * DAY }), record({ callId: 'new', offeredAt: now - 89 * DAY })]);
    expect(await store.purgeCallRecords(now - 100 * DAY)).toBe(0);
    const retention = startCallRecordRetention(store, { callRecords: { retentionDays: 90 } }, pino({ level: 'silent' }));
    retention.stop();
    // The start-up purge is asynchronous: wait for it (bounded).
    for (let i = 0; i < 100 && (await store.listCallRecords({})).length > 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await store.listCallRecords({})).map((r) => r.callId)).toEqual(['new']);
  });
});
