/**
 * Call record queries as people type them (`vmpilot calls --since 1h --from 27001`, GET /api/calls?since=1h)
 * and the two output forms both give (JSON, CSV). One parser and one format for the CLI and the API.
 */
import type { CallRecord, CallRecordQuery } from '../store/types.js';
import { MAX_CALL_RECORD_LIMIT } from '../store/call-record-table.js';

/** What the user typed; every field optional. */
export interface CallQueryText {
  since?: string;
  until?: string;
  from?: string;
  to?: string;
  limit?: string;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const NUMBER = /^\+?[0-9*#]{1,32}$/;

/**
 * A point in time: a duration back from now ("90s", "30m", "1h", "2d", "1w") or an ISO 8601 date or date-time
 * ("2026-12-06", "2026-12-06T09:14:00Z"). Undefined when it is neither.
 */
export function parseTimeAgo(text: string, now: number): number | undefined {
  const ago = /^(\d{1,6})([smhdw])$/.exec(text.trim());
  if (ago) return now - Number(ago[1]) * UNIT_MS[ago[2]!]!;
  if (!/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())) return undefined;
  const t = Date.parse(text.trim());
  return Number.isFinite(t) ? t : undefined;
}

/** The store query, or what is wrong with the text (one line, naming the option). */
export function parseCallQuery(text: CallQueryText, now = Date.now()): { query: CallRecordQuery } | { error: string } {
  const query: CallRecordQuery = {};
  for (const key of ['since', 'until'] as const) {
    const value = text[key];
    if (value === undefined) continue;
    const t = parseTimeAgo(value, now);
    if (t === undefined) return { error: `${key} "${value}" is not a time: say how long ago (90s, 30m, 1h, 2d, 1w) or give an ISO date (2026-12-06T09:14:00Z)` };
    query[key] = t;
  }
  for (const key of ['from', 'to'] as const) {
    const value = text[key];
    if (value === undefined) continue;
    if (!NUMBER.test(value)) return { error: `${key} "${value}" is not a number (digits, * and #, optionally after +)` };
    query[key] = value;
  }
  if (text.limit !== undefined) {
    const limit = Number(text.limit);
    if (!/^\d+$/.test(text.limit) || limit < 1 || limit > MAX_CALL_RECORD_LIMIT) return { error: `limit "${text.limit}" must be a whole number from 1 to ${MAX_CALL_RECORD_LIMIT}` };
    query.limit = limit;
  }
  return { query };
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/** A record as JSON output has it: ISO times, null for what is absent. */
export function callRecordJson(r: CallRecord) {
  return {
    callId: r.callId,
    offeredAt: iso(r.offeredAt),
    answeredAt: iso(r.answeredAt),
    endedAt: iso(r.endedAt),
    from: r.from,
    to: r.to,
    pilot: r.pilot,
    app: r.app,
    outcome: r.outcome,
    detail: r.detail,
    messageId: r.messageId ?? null,
    worker: r.worker ?? null,
  };
}

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
function csvField(value: string | number | null): string {
  const s = value === null ? '' : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The records as CSV (RFC 4180, CRLF line ends), with a header line naming the JSON form's fields. */
export function callRecordsCsv(records: readonly CallRecord[]): string {
  const rows = records.map(callRecordJson);
  const header = Object.keys(callRecordJson({ callId: '', offeredAt: 0, endedAt: 0, from: '', to: '', pilot: '', app: '', outcome: 'abandoned', detail: '' }));
  const lines = [header.join(','), ...rows.map((r) => Object.values(r).map(csvField).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
