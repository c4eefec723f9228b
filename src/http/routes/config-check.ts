/**
 * POST /api/config/check: a config file's text in, what `vmpilot check` would say out: every error and
 * warning with its path and line, and where its mailboxes differ from this server's store (mailbox-drift.ts).
 * Nothing is applied: the running server keeps its config. Relative paths in the posted text (TLS files,
 * greetings, storage.dir) resolve against the server's working directory.
 */
import { z } from 'zod';
import { driftWarnings, mailboxDrift } from '../../admin/mailbox-drift.js';
import { examineConfig, formatIssue, type ConfigIssue } from '../../config/load.js';
import type { RoutePlugin } from '../context.js';
import { HttpProblem } from '../problem.js';

const issueView = z.object({ path: z.string(), message: z.string(), line: z.number().optional(), column: z.number().optional(), text: z.string().describe('as vmpilot check prints it') });
const checkView = z.object({ ok: z.boolean(), errors: z.array(issueView), warnings: z.array(issueView) });
/** The content types a YAML text is posted as. */
const YAML_TYPES = /^(application\/(x-)?yaml|text\/(x-)?yaml|text\/plain)$/;

const view = (issue: ConfigIssue): z.infer<typeof issueView> => ({ ...issue, text: formatIssue(issue) });

export const configCheckRoutes: RoutePlugin = async (app, { ctx }) => {
  // A config file may be large (thousands of mailboxes): up to http.maxBodyBytes, as text/plain too.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string', bodyLimit: ctx.config.http.maxBodyBytes }, (_request, body, done) => done(null, body));

  ctx.api.describe({ method: 'POST', path: '/api/config/check', tag: 'config', summary: 'check a config file (YAML) as vmpilot check does; nothing is applied', rawBody: ['application/yaml', 'text/plain'], response: checkView });
  app.post('/api/config/check', async (request) => {
    if (typeof request.body !== 'string') throw new HttpProblem(415, 'post the config file as application/yaml or text/plain');
    const report = examineConfig(request.body, process.cwd());
    const warnings = report.warnings.map(view);
    if (report.config) {
      const drift = mailboxDrift(report.config, await ctx.store.listMailboxes());
      for (const line of driftWarnings(drift, report.config.mailboxesFromConfig)) {
        const colon = line.indexOf(': ');
        warnings.push(view({ path: line.slice(0, colon), message: line.slice(colon + 2) }));
      }
    }
    return { ok: report.config !== undefined, errors: report.errors.map(view), warnings } satisfies z.infer<typeof checkView>;
  });
};
