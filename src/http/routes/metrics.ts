/**
 * GET /metrics: Prometheus text exposition (metrics/server-metrics.ts names every series), behind an API token
 * like the rest of the API (only /healthz and /readyz are public): Prometheus sends it with
 * `authorization: { type: Bearer, credentials: <token> }` in its scrape config. A cluster's front door
 * answers with its workers' metrics too, each series labelled by `worker` (metrics/cluster-metrics.ts).
 */
import type { RoutePlugin } from '../context.js';
import { HttpProblem } from '../problem.js';

export const metricsRoutes: RoutePlugin = async (app, { ctx }) => {
  ctx.api.describe({ method: 'GET', path: '/metrics', tag: 'metrics', summary: 'Prometheus metrics (text exposition format 0.0.4)', rawResponse: 'text/plain' });
  app.get('/metrics', { config: { quietLog: true } }, async (_request, reply) => {
    const metrics = ctx.metrics;
    if (!metrics) throw new HttpProblem(404, 'this process keeps no metrics');
    const text = await metrics.text();
    return reply.type(metrics.contentType()).send(text);
  });
};
