/**
 * Call records in SQLite (table call_records, schema.sql.ts migration 5): appended in batches as calls end
 * (call-records/writer.ts), listed newest first, purged by age (call-records/retention.ts).
 *
 * Column names differ from the record's where SQL would trip on them: `from`/`to` are keywords, so the
 * columns are caller/callee.
 */
import type Database from 'better-sqlite3';
import type { CallOutcome, CallRecord, CallRecordQuery } from './types.js';

export interface CallRecordRow {
  call_id: string;
  offered_at: number;
  answered_at: number | null;
  ended_at: number;
  caller: string;
  callee: string;
  pilot: string;
  app: string;
  outcome: CallOutcome;
  detail: string;
  message_id: string | null;
  worker: number | null;
}

/** listCallRecords' default and largest page. */
export const DEFAULT_CALL_RECORD_LIMIT = 1000;
export const MAX_CALL_RECORD_LIMIT = 100_000;

export function toRecord(row: CallRecordRow): CallRecord {
  const record: CallRecord = {
    callId: row.call_id,
    offeredAt: row.offered_at,
    endedAt: row.ended_at,
    from: row.caller,
    to: row.callee,
    pilot: row.pilot,
    app: row.app,
    outcome: row.outcome,
    detail: row.detail,
  };
  if (row.answered_at !== null) record.answeredAt = row.answered_at;
  if (row.message_id !== null) record.messageId = row.message_id;
  if (row.worker !== null) record.worker = row.worker;
  return record;
}

/** listCallRecords' statement (`?` placeholders) and its arguments, for either engine. */
export function callRecordSelect(query: CallRecordQuery): { text: string; args: (string | number)[] } {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (query.since !== undefined) {
    where.push('offered_at >= ?');
    args.push(query.since);
  }
  if (query.until !== undefined) {
    where.push('offered_at < ?');
    args.push(query.until);
  }
  if (query.from !== undefined) {
    where.push('caller = ?');
    args.push(query.from);
  }
  if (query.to !== undefined) {
    where.push('(callee = ? OR pilot = ?)');
    args.push(query.to, query.to);
  }
  const limit = Math.min(MAX_CALL_RECORD_LIMIT, Math.max(1, Math.floor(query.limit ?? DEFAULT_CALL_RECORD_LIMIT)));
  const text = `SELECT * FROM call_records ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY offered_at DESC, seq DESC LIMIT ?`;
  return { text, args: [...args, limit] };
}

/** A record's column values in the order of CALL_RECORD_COLUMNS. */
export function callRecordValues(r: CallRecord): (string | number | null)[] {
  return [r.callId, r.offeredAt, r.answeredAt ?? null, r.endedAt, r.from, r.to, r.pilot, r.app, r.outcome, r.detail, r.messageId ?? null, r.worker ?? null];
}

export const CALL_RECORD_COLUMNS = 'call_id, offered_at, answered_at, ended_at, caller, callee, pilot, app, outcome, detail, message_id, worker';

/** A caller's call records (store.eraseCaller), `?` placeholder. */
export const ERASE_CALLER_RECORDS_SQL = 'DELETE FROM call_records WHERE caller = ?';

/** Every call record of one caller (store.callerData), newest first. */
export const callerRecordsQuery = (caller: string): CallRecordQuery => ({ from: caller, limit: MAX_CALL_RECORD_LIMIT });

export class CallRecordTable {
  constructor(
    private readonly sql: (text: string) => Database.Statement,
    /** A write transaction (sqlite.ts write()). */
    private readonly write: <T>(fn: () => T) => T,
  ) {}

  add(records: readonly CallRecord[]): void {
    if (records.length === 0) return;
    const insert = this.sql(`INSERT INTO call_records (${CALL_RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.write(() => {
      for (const r of records) insert.run(...callRecordValues(r));
    });
  }

  list(query: CallRecordQuery): CallRecord[] {
    const { text, args } = callRecordSelect(query);
    return (this.sql(text).all(...args) as CallRecordRow[]).map(toRecord);
  }

  purge(before: number): number {
    return this.write(() => this.sql('DELETE FROM call_records WHERE offered_at < ?').run(before).changes);
  }

  eraseCaller(caller: string): number {
    return this.write(() => this.sql(ERASE_CALLER_RECORDS_SQL).run(caller).changes);
  }
}
