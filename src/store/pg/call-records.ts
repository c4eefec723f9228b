/**
 * Call records in PostgreSQL (table call_records, schema.ts), the twin of call-record-table.ts, whose
 * statements and row mapping it shares.
 */
import type pg from 'pg';
import { CALL_RECORD_COLUMNS, callRecordSelect, ERASE_CALLER_RECORDS_SQL, callRecordValues, toRecord, type CallRecordRow } from '../call-record-table.js';
import type { CallRecord, CallRecordQuery } from '../types.js';
import { inTransaction } from './connection.js';
import { numbered } from './sql.js';

const INSERT = numbered(`INSERT INTO call_records (${CALL_RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);

export async function addCallRecords(pool: pg.Pool, records: readonly CallRecord[]): Promise<void> {
  if (records.length === 0) return;
  await inTransaction(pool, async (db) => {
    for (const r of records) await db.query(INSERT, callRecordValues(r));
  });
}

export async function listCallRecords(pool: pg.Pool, query: CallRecordQuery): Promise<CallRecord[]> {
  const { text, args } = callRecordSelect(query);
  return (await pool.query<CallRecordRow>(numbered(text), args)).rows.map(toRecord);
}

export async function purgeCallRecords(pool: pg.Pool, before: number): Promise<number> {
  return (await pool.query('DELETE FROM call_records WHERE offered_at < $1', [before])).rowCount ?? 0;
}

export async function eraseCallerRecords(pool: pg.Pool, caller: string): Promise<number> {
  return (await pool.query(numbered(ERASE_CALLER_RECORDS_SQL), [caller])).rowCount ?? 0;
}
