/**
 * The admin HTTP server (fastify): the API, /openapi.json, /healthz and /readyz, and whatever the route
 * plugins of routes/index.ts add (metrics, the web admin). Run by the process that owns the site's jobs: a
 * single server, or a cluster's front door (never its workers). Every request is logged once, with the token's
 * name; every error is an RFC 9457 problem (problem.ts).
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fastify, type FastifyContextConfig, type FastifyError, type FastifyServerOptions } from 'fastify';
import { NoSuchMailboxError } from '../store/types.js';
import { MAILBOX_CSV_MAX_BYTES } from '../admin/mailbox-import.js';
import { ApiCatalog } from './api-catalog.js';
import { ADMIN_ONLY, authHook } from './auth.js';
import type { HttpContext, HttpDeps } from './context.js';
import { HttpProblem, problemBody, sendProblem } from './problem.js';
import { JSON_BODY_LIMIT, useShallowJsonParser } from './json-body.js';
import { answerEarlyProblems, EARLY_PROBLEM_SERVER_OPTIONS, earlyProblemOptions } from './early-problems.js';
import { ROUTES } from './routes/index.js';
import { TokenTable } from './tokens.js';
import { limitConnections } from './connection-limits.js';
import { redactSignature } from './web/media-links.js';

export interface RunningHttp {
  /** Where it listens (the port resolved when http.listen asked for port 0). */
  address(): { host: string; port: number };
  /** "http://127.0.0.1:8080" (https with http.tls). */
  readonly url: string;
  /** Stops taking requests, lets those in progress finish, closes. Idempotent. */
  close(): Promise<void>;
}

/** Client errors fastify raises itself (bad JSON, too large, unsupported type), as problems in their words. */
function clientProblem(err: FastifyError): HttpProblem | undefined {
  const status = err.statusCode;
  if (status === undefined || status < 400 || status >= 500) return undefined;
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new HttpProblem(413, `the request body is too large (JSON: ${JSON_BODY_LIMIT} bytes; uploads: http.maxBodyBytes; a CSV import: ${MAILBOX_CSV_MAX_BYTES} bytes at most)`);
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new HttpProblem(415, err.message);
  return new HttpProblem(status, err.message);
}

/** Starts the server when http.enabled; undefined when it is switched off. */
export async function startHttpServer(deps: HttpDeps): Promise<RunningHttp | undefined> {
  const settings = deps.config.http;
  if (!settings.enabled) return undefined;
  const log = deps.logger.child({ component: 'http' });
  const options: FastifyServerOptions & { http: typeof EARLY_PROBLEM_SERVER_OPTIONS; https?: { cert: Buffer; key: Buffer } } = {
    logger: false,
    // What Node and fastify answer before any route runs, as problems too.
    ...earlyProblemOptions(log),
    http: EARLY_PROBLEM_SERVER_OPTIONS,
    // JSON bodies are parsed on the loop that paces calls' RTP: small ones only (json-body.ts). Uploads
    // (greetings, CSV, config files) take http.maxBodyBytes in their own content-type parsers.
    bodyLimit: JSON_BODY_LIMIT,
    // Keep-alive connections idle at close are cut, busy ones finish their request.
    forceCloseConnections: 'idle',
    // http.trustProxy: X-Forwarded-For is believed only from these peers (proxy-addr walks the header from the
    // right while each hop is trusted), so request.ip is the client for the log and the sign-in back-off.
    trustProxy: settings.trustProxy === false ? false : settings.trustProxy,
    ...(settings.tls && { https: { cert: readFileSync(settings.tls.cert), key: readFileSync(settings.tls.key), ...EARLY_PROBLEM_SERVER_OPTIONS } }),
  };
  const app = fastify(options);
  limitConnections(app.server, { ...settings, ipv6PrefixLength: deps.config.sip.limits.ipv6PrefixLength }, log);
  useShallowJsonParser(app);
  answerEarlyProblems(app);
  const ctx: HttpContext = { ...deps, api: new ApiCatalog(), authenticators: [] };

  // Who may call each route, as the OpenAPI document will say (auth.ts enforces the same config).
  app.addHook('onRoute', (route) => {
    const config = route.config as FastifyContextConfig | undefined;
    for (const method of [route.method].flat()) ctx.api.enforced(method, route.url, config?.public ? 'public' : (config?.access ?? ADMIN_ONLY));
  });
  app.addHook('onRequest', authHook(new TokenTable(settings.tokens), ctx.authenticators));
  app.addHook('onResponse', async (request, reply) => {
    const quiet = request.routeOptions.config.quietLog === true && reply.statusCode < 400;
    const who = request.principal;
    log[quiet ? 'debug' : 'info'](
      {
        reqId: request.id,
        method: request.method,
        url: redactSignature(request.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
        remote: request.ip,
        ...(who && { [who.kind]: who.name }),
      },
      'http request',
    );
  });
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const problem = err instanceof HttpProblem ? err : err instanceof NoSuchMailboxError ? new HttpProblem(404, err.message) : clientProblem(err);
    if (problem) return sendProblem(reply, problem.body());
    log.error({ err, reqId: request.id, method: request.method, url: redactSignature(request.url) }, 'http handler failed');
    return sendProblem(reply, problemBody(500, 'internal error (the server log has the details)'));
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, problemBody(404, `no such resource: ${request.method} ${request.url.split('?')[0]}`)));

  for (const routes of ROUTES) await app.register(routes, { ctx });

  try {
    await app.listen({ host: settings.listen.host, port: settings.listen.port });
  } catch (err) {
    await app.close();
    throw err;
  }
  const bound = app.server.address() as AddressInfo;
  const url = `${settings.tls ? 'https' : 'http'}://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`;
  log.info({ url, tokens: settings.tokens.length }, 'vmpilot http listening');
  let closed: Promise<void> | undefined;
  return {
    url,
    address: () => ({ host: bound.address, port: bound.port }),
    close: () => (closed ??= app.close()),
  };
}
