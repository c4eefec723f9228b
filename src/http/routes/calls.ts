/**
 * GET /api/calls: call records, newest first (call-records/), as JSON (an array, the fields of
 * `vmpilot calls --json`) or CSV (?format=csv, or Accept: text/csv). Query: since (default 24h), until, from,
 * to, limit, in the CLI's forms (call-records/query.ts): a bad one is a 422 problem naming it.
 */
import { z } from 'zod';
import type { RoutePlugin } from '../context.js';
import { HttpProblem } from '../problem.js';
import { parseInput } from '../validate.js';
import { callRecordJson, callRecordsCsv, parseCallQuery } from '../../call-records/query.js';

const querySchema = z.strictObject({
  since: z.string().optional().describe('offered since: a time ago (90s, 30m, 1h, 2d, 1w) or an ISO date; default 24h'),
  until: z.string().optional().describe('offered before: the same forms as since'),
  from: z.string().optional().describe("the caller's number"),
  to: z.string().optional().describe('the number called (the redirecting number or the pilot)'),
  limit: z.string().optional().describe('at most this many, the newest (1-100000; default 1000)'),
  format: z.enum(['json', 'csv']).optional().describe('json (default) or csv'),
});

const recordSchema = z.object({
  callId: z.string(),
  offeredAt: z.string(),
  answeredAt: z.string().nullable(),
  endedAt: z.string(),
  from: z.string(),
  to: z.string(),
  pilot: z.string(),
  app: z.string(),
  outcome: z.enum(['message', 'login', 'transfer', 'abandoned', 'rejected']),
  detail: z.string(),
  messageId: z.string().nullable(),
  worker: z.number().nullable(),
});

export const callRoutes: RoutePlugin = async (app, { ctx }) => {
  ctx.api.describe({ method: 'GET', path: '/api/calls', tag: 'calls', summary: 'call records, newest first (JSON, or CSV with format=csv)', query: querySchema, response: z.array(recordSchema) });
  app.get('/api/calls', async (request, reply) => {
    const { format, ...text } = parseInput(querySchema, request.query, 'query');
    const parsed = parseCallQuery({ since: '24h', ...text });
    if ('error' in parsed) {
      const [key] = parsed.error.split(' ');
      throw new HttpProblem(422, 'the request query is not valid', [{ path: `query.${key}`, message: parsed.error }]);
    }
    const records = await ctx.store.listCallRecords(parsed.query);
    const csv = format === 'csv' || (format === undefined && /\btext\/csv\b/.test(request.headers.accept ?? ''));
    if (csv) return reply.type('text/csv; charset=utf-8').send(callRecordsCsv(records));
    return records.map(callRecordJson);
  });
};
