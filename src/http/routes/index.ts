/**
 * Every route plugin of the HTTP server, registered in this order (server.ts). To add routes: a file
 * routes/<resource>.ts exporting a RoutePlugin (context.ts) that registers them with full paths ("/api/…"),
 * describes each with ctx.api.describe (api-catalog.ts, for /openapi.json), validates input with parseInput
 * (validate.ts) and throws HttpProblem (problem.ts) for errors; then one line here.
 */
import type { RoutePlugin } from '../context.js';
import { healthRoutes } from './health.js';
import { openapiRoutes } from './openapi.js';
import { mailboxRoutes } from './mailboxes.js';
import { messageRoutes } from './messages.js';
import { greetingRoutes } from './greetings.js';
import { liveCallRoutes } from './live-calls.js';
import { mwiRoutes } from './mwi.js';
import { configCheckRoutes } from './config-check.js';
import { webRoutes } from '../web/web-routes.js';
import { ownerRoutes } from '../web/owner-routes.js';
import { attendantRoutes } from '../web/attendant-route.js';
import { metricsRoutes } from './metrics.js';
import { callRoutes } from './calls.js';
import { mailboxImportRoutes } from './mailbox-import.js';
import { callerRoutes } from './callers.js';

// One per line: engineers add theirs at the end.
export const ROUTES: RoutePlugin[] = [
  healthRoutes,
  openapiRoutes,
  mailboxRoutes,
  messageRoutes,
  greetingRoutes,
  liveCallRoutes,
  mwiRoutes,
  configCheckRoutes,
  webRoutes,
  ownerRoutes,
  attendantRoutes,
  metricsRoutes,
  callRoutes,
  mailboxImportRoutes,
  callerRoutes,
];
