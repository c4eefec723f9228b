/**
 * A mailbox's message-waiting state as the PBX is told it (RFC 3842 message-summary: the lamp is on while
 * there are new messages), how many SUBSCRIBE dialogs watch it, and resending it: a PBX or phone that lost a
 * lamp gets one NOTIFY per MWI target now, without a message changing; or every mailbox's (a PBX restarted).
 */
import { z } from 'zod';
import type { RoutePlugin } from '../context.js';
import { HttpProblem } from '../problem.js';
import { countsView, toCountsView } from '../views.js';
import { requireMailbox } from './mailboxes.js';

const mwiView = z.object({
  mailbox: z.string(),
  /** Messages-Waiting: the lamp is on. */
  waiting: z.boolean(),
  /** As in the NOTIFY body: "new/old (urgent-new/urgent-old)". */
  voiceMessage: z.string(),
  counts: countsView,
  /** Live SUBSCRIBE dialogs for this mailbox (phones, PBXs). */
  subscriptions: z.number(),
});

type NumberParams = { Params: { number: string } };

const NOTHING_TO_RESEND_TO = "nothing to resend to: no pbx has mwi.targets, or another host sends this site's NOTIFYs";

export const mwiRoutes: RoutePlugin = async (app, { ctx }) => {
  const { store, api } = ctx;
  const tag = 'mwi';

  api.describe({ method: 'GET', path: '/api/mailboxes/:number/mwi', tag, summary: 'the message-waiting state sent for this mailbox', response: mwiView });
  app.get<NumberParams>('/api/mailboxes/:number/mwi', async (request) => {
    const mailbox = await requireMailbox(store, request.params.number);
    const counts = await store.counts(mailbox.number);
    const now = Date.now();
    const subscriptions = (await store.listSubscriptions()).filter((s) => s.mailbox === mailbox.number && s.expiresAt > now).length;
    return {
      mailbox: mailbox.number,
      waiting: counts.new > 0,
      voiceMessage: `${counts.new}/${counts.saved} (${counts.urgentNew}/${counts.urgentSaved})`,
      counts: toCountsView(counts),
      subscriptions,
    } satisfies z.infer<typeof mwiView>;
  });

  api.describe({ method: 'POST', path: '/api/mailboxes/:number/mwi/resend', tag, summary: "send the mailbox's state to every PBX MWI target again", response: z.object({ queued: z.literal(true) }), status: 202 });
  app.post<NumberParams>('/api/mailboxes/:number/mwi/resend', async (request, reply) => {
    const mailbox = await requireMailbox(store, request.params.number);
    if (!(await ctx.mwi?.resend(mailbox.number))) {
      throw new HttpProblem(409, NOTHING_TO_RESEND_TO);
    }
    return reply.code(202).send({ queued: true });
  });

  // A PBX that restarted has lost its lamps, and no 2xx told us: the refresh of a new leader or a restart sends
  // only what the PBX has not acknowledged (mwi/ack-ledger.ts), so the operator asks for everything here.
  api.describe({
    method: 'POST',
    path: '/api/mwi/resend',
    tag,
    summary: "send every mailbox's state to every PBX MWI target again, acknowledged or not (a PBX that lost its lamps)",
    response: z.object({ mailboxes: z.number() }),
    status: 202,
  });
  app.post('/api/mwi/resend', async (_request, reply) => {
    const mailboxes = await ctx.mwi?.resendAll();
    if (mailboxes === undefined) throw new HttpProblem(409, NOTHING_TO_RESEND_TO);
    return reply.code(202).send({ mailboxes });
  });
};
