/**
 * Bulk provisioning over HTTP, the same steps as `vmpilot mailbox import` / `export` (admin/mailbox-import.ts,
 * admin/mailbox-csv.ts says the columns):
 *   POST /api/mailboxes/import[?dryRun=true]   body text/csv: creates and updates in one transaction; a dry run
 *                                              answers what would change and writes nothing
 *   GET  /api/mailboxes/export                 every mailbox as that CSV (no PINs)
 * Bad rows: 422 with every problem as { path: "line N", message }, nothing applied. A number taken by another
 * writer between the plan and the commit: 409, nothing applied. A body over 16 MiB (or http.maxBodyBytes): 413.
 */
import { z } from 'zod';
import { mailboxesCsv } from '../../admin/mailbox-csv.js';
import { importMailboxCsv, MAILBOX_CSV_MAX_BYTES } from '../../admin/mailbox-import.js';
import { NoSuchMailboxError } from '../../store/types.js';
import { NumberInUseError } from '../../store/errors.js';
import type { RoutePlugin } from '../context.js';
import { HttpProblem } from '../problem.js';
import { parseInput } from '../validate.js';

const importQuery = z.strictObject({
  dryRun: z.enum(['true', 'false']).optional().describe('true: answer what would change, write nothing'),
});

const changeView = z.object({ field: z.string(), from: z.unknown(), to: z.unknown() });
const importView = z.object({
  dryRun: z.boolean(),
  created: z.array(z.string()).describe('numbers of the mailboxes created (or that would be)'),
  updated: z.array(z.object({ number: z.string(), changes: z.array(changeView) })),
  unchanged: z.number(),
  pinsIgnored: z.number().describe('rows giving a PIN for a mailbox that exists (an import sets initial PINs only)'),
});

export const mailboxImportRoutes: RoutePlugin = async (app, { ctx }) => {
  const { store, config, api } = ctx;
  const tag = 'mailboxes';
  // CSV arrives as text (this plugin's scope only), within http.maxBodyBytes like any upload and within what the
  // CLI's import reads: it is parsed whole, on the loop that paces calls' RTP.
  const bodyLimit = Math.min(ctx.config.http.maxBodyBytes, MAILBOX_CSV_MAX_BYTES);
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit }, (_request, body, done) => done(null, body));

  api.describe({ method: 'POST', path: '/api/mailboxes/import', tag, summary: 'create and update mailboxes from CSV, in one transaction', query: importQuery, rawBody: ['text/csv'], response: importView });
  app.post('/api/mailboxes/import', async (request) => {
    const dryRun = parseInput(importQuery, request.query, 'query').dryRun === 'true';
    if (typeof request.body !== 'string') throw new HttpProblem(415, 'send the CSV with Content-Type: text/csv');
    let outcome;
    try {
      // One hash at a time: the server's cores are for calls (the CLI, on its own, takes four).
      outcome = await importMailboxCsv(store, config, request.body, { dryRun, hashesInFlight: 1 });
    } catch (err) {
      if (err instanceof NumberInUseError || err instanceof NoSuchMailboxError) throw new HttpProblem(409, `changed meanwhile, nothing imported: ${err.message}`);
      throw err;
    }
    const { plan } = outcome;
    if (plan.problems.length > 0) {
      throw new HttpProblem(422, `${plan.problems.length} problem(s); nothing imported`, plan.problems.map((p) => ({ path: `line ${p.line}`, message: p.message })));
    }
    return {
      dryRun,
      created: plan.create.map((r) => r.number),
      updated: plan.update.map((r) => ({ number: r.number, changes: r.changes })),
      unchanged: plan.unchanged,
      pinsIgnored: plan.pinsIgnored,
    };
  });

  api.describe({ method: 'GET', path: '/api/mailboxes/export', tag, summary: 'every mailbox as the import CSV (no PINs)', rawResponse: 'text/csv' });
  app.get('/api/mailboxes/export', async (_request, reply) => {
    return reply.type('text/csv; charset=utf-8').send(mailboxesCsv(await store.listMailboxes()));
  });
};
