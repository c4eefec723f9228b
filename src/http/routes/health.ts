/**
 * Probes for Docker HEALTHCHECK, systemd and Kubernetes, answered without a token:
 *   /healthz  the process is alive (its event loop answers)
 *   /readyz   it takes calls: SIP bound, the store answers, not draining (503 with the failing checks otherwise)
 */
import { z } from 'zod';
import type { RoutePlugin } from '../context.js';

/** A store slower than this to answer is taken as unreachable. */
const STORE_TIMEOUT_MS = 2000;

const readySchema = z.object({
  status: z.enum(['ready', 'not ready']),
  checks: z.object({ sip: z.boolean(), store: z.boolean(), accepting: z.boolean() }),
});

async function storeAnswers(query: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, STORE_TIMEOUT_MS, false)));
  try {
    return await Promise.race([query().then(() => true, () => false), late]);
  } finally {
    clearTimeout(timer);
  }
}

export const healthRoutes: RoutePlugin = async (app, { ctx }) => {
  ctx.api.describe({ method: 'GET', path: '/healthz', tag: 'health', summary: 'the process is alive', public: true, response: z.object({ status: z.literal('ok') }) });
  app.get('/healthz', { config: { public: true, quietLog: true } }, async () => ({ status: 'ok' as const }));

  ctx.api.describe({ method: 'GET', path: '/readyz', tag: 'health', summary: 'SIP bound, store reachable, not draining (else 503)', public: true, response: readySchema });
  app.get('/readyz', { config: { public: true, quietLog: true } }, async (_request, reply) => {
    const sip = ctx.sipState();
    const checks = { sip: sip.bound, store: await storeAnswers(() => ctx.store.findMailbox('')), accepting: !sip.draining };
    const ready = checks.sip && checks.store && checks.accepting;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks } satisfies z.infer<typeof readySchema>);
  });
};
