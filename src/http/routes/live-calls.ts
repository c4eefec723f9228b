/** /api/live-calls: the calls in progress (with workers: every local worker's), and hanging one up (BYE). */
import { z } from 'zod';
import { liveCallView } from '../live-calls.js';
import type { RoutePlugin } from '../context.js';
import { notFound } from '../problem.js';

export const liveCallRoutes: RoutePlugin = async (app, { ctx }) => {
  const tag = 'live calls';
  ctx.api.describe({ method: 'GET', path: '/api/live-calls', tag, summary: 'the calls in progress', response: z.object({ items: z.array(liveCallView) }) });
  app.get('/api/live-calls', async () => ({ items: (await ctx.liveCalls?.list()) ?? [] }));

  ctx.api.describe({ method: 'DELETE', path: '/api/live-calls/:callId', tag, summary: 'hang up a call (BYE to the caller)', status: 204 });
  app.delete<{ Params: { callId: string } }>('/api/live-calls/:callId', async (request, reply) => {
    if (!(await ctx.liveCalls?.hangup(request.params.callId))) throw notFound(`call ${request.params.callId}`);
    return reply.code(204).send();
  });
};
