/**
 * What the HTTP API's route plugins are given (routes/*.ts): the process's store, config and logger, the API
 * catalog they describe their operations in, and the process's live state. One object, built by the process
 * that serves HTTP (a single server, or a cluster's front door), so a route never reaches for globals.
 */
import type { Logger } from 'pino';
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../config/schema.js';
import type { MessageStore } from '../store/types.js';
import type { ApiCatalog } from './api-catalog.js';
import type { Authenticator } from './auth.js';
import type { LiveCalls } from './live-calls.js';
import type { MwiService } from '../mwi/service.js';
import type { MetricsEndpoint } from '../metrics/cluster-metrics.js';

/** What /readyz reports (each true when fine). */
export interface Readiness {
  /** The SIP listeners are bound. */
  sip: boolean;
  /** The store answered a query. */
  store: boolean;
  /** Not draining (a draining process finishes its calls and takes no new ones). */
  accepting: boolean;
}

/** What the process serving HTTP gives it (server.ts startHttpServer). */
export interface HttpDeps {
  config: Config;
  store: MessageStore;
  logger: Logger;
  /** Whether SIP is bound and the process is not draining (the store is checked by /readyz itself). */
  sipState(): { bound: boolean; draining: boolean };
  /** What /metrics serves: this process's metrics, or a front door's merge of its workers' (metrics/). */
  metrics?: MetricsEndpoint;
  /** The MWI service, where this process runs it (absent in a process that does not send NOTIFYs). */
  mwi?: Pick<MwiService, 'resend' | 'resendAll'>;
  /** The calls in progress: this process's, or a front door's workers' (live-calls.ts). */
  liveCalls?: LiveCalls;
}

export interface HttpContext extends HttpDeps {
  /** Describe each operation registered here, for /openapi.json. */
  api: ApiCatalog;
  /** Ways to sign in besides API tokens (auth.ts); a route plugin pushes its own at registration. */
  authenticators: Authenticator[];
}

/** A route file's export: a fastify plugin registered with { ctx } (routes/index.ts lists them). */
export type RoutePlugin = FastifyPluginAsync<{ ctx: HttpContext }>;
