/**
 * One caller's data, for a data-subject request (seed 002: erase by caller number), as `vmpilot caller`:
 *   GET    /api/callers/:caller   the messages they left (every mailbox and folder) and their call records
 *   DELETE /api/callers/:caller   erases them for good (audio too; lamps follow), with their queued emails
 * The caller matches exactly as the PBX sent it (what /api/calls shows in `from`). Admin token only (the
 * default access of every route): an owner's session cannot see other mailboxes' callers.
 */
import { z } from 'zod';
import type { RoutePlugin } from '../context.js';
import { HttpProblem } from '../problem.js';
import { callerDataJson } from '../../admin/caller-commands.js';

interface CallerParams {
  Params: { caller: string };
}

const messageView = z.object({
  id: z.string(),
  mailbox: z.string(),
  folder: z.enum(['new', 'saved', 'deleted']),
  receivedAt: z.string(),
  durationMs: z.number(),
  callerName: z.string(),
});
const dataView = z.object({ caller: z.string(), messages: z.array(messageView), callRecords: z.array(z.object({ callId: z.string() }).loose()) });
const erasedView = z.object({ caller: z.string(), messages: z.number(), queuedEmails: z.number(), callRecords: z.number() });

/** '' is how anonymous calls are kept: "every anonymous caller" is not one person's data. */
function callerOf(params: { caller: string }): string {
  const caller = params.caller.trim();
  if (caller === '' || caller.length > 128) throw new HttpProblem(422, 'the request path is not valid', [{ path: 'path.caller', message: "a caller's number (1-128 characters)" }]);
  return caller;
}

export const callerRoutes: RoutePlugin = async (app, { ctx }) => {
  const { store, api } = ctx;
  const tag = 'callers';

  api.describe({ method: 'GET', path: '/api/callers/:caller', tag, summary: "a caller's messages (every mailbox) and call records (data-subject access)", response: dataView });
  app.get<CallerParams>('/api/callers/:caller', async (request) => {
    const caller = callerOf(request.params);
    return callerDataJson(caller, await store.callerData(caller));
  });

  api.describe({ method: 'DELETE', path: '/api/callers/:caller', tag, summary: "erase a caller's messages (audio too; lamps follow), queued emails and call records for good", response: erasedView });
  app.delete<CallerParams>('/api/callers/:caller', async (request) => {
    const caller = callerOf(request.params);
    const erased = await store.eraseCaller(caller);
    request.log.info({ erased }, 'caller data erased');
    return { caller, ...erased };
  });
};
