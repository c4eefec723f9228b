/**
 * Who may use the API: every request carries `Authorization: Bearer <token>` of a configured http.tokens
 * entry, except routes registered with `config: { public: true }` (/healthz, /readyz, the web admin's page
 * and sign-in). Checked in onRequest, before a body is read: a stranger's upload is refused unread.
 *
 * Further ways to sign in (the web admin's mailbox owners) are authenticators pushed onto
 * ctx.authenticators by their route plugin; the first that names a principal wins.
 */
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Principal } from './tokens.js';
import { TokenTable } from './tokens.js';
import { problemBody, sendProblem } from './problem.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Answered without a token (health probes, the web admin's static files and sign-in). */
    public?: boolean;
    /** Logged at debug level when it succeeds (health probes every few seconds would drown the log). */
    quietLog?: boolean;
  }
  interface FastifyRequest {
    /** Who made the request, once authenticated (absent on public routes without credentials). */
    principal?: Principal;
  }
}

/** Another way to sign in: the principal a request proves, or undefined to let the next one try. */
export type Authenticator = (request: FastifyRequest) => Principal | undefined | Promise<Principal | undefined>;

/** The bearer token of an Authorization header (RFC 6750 §2.1), or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

export function authHook(tokens: TokenTable, authenticators: readonly Authenticator[]): onRequestHookHandler {
  return async (request, reply) => {
    const token = bearerToken(request.headers.authorization);
    const name = token === undefined ? undefined : tokens.nameOf(token);
    if (name !== undefined) {
      request.principal = { kind: 'token', name };
      return;
    }
    for (const authenticate of authenticators) {
      const principal = await authenticate(request);
      if (principal) {
        request.principal = principal;
        return;
      }
    }
    if (request.routeOptions.config.public) return;
    // RFC 6750 §3: a 401 names the scheme; invalid_token when one was given but is not ours.
    const challenge = token === undefined ? 'Bearer realm="vmpilot"' : 'Bearer realm="vmpilot", error="invalid_token"';
    const detail = token === undefined ? 'an API token is required (Authorization: Bearer …)' : 'the API token is not valid';
    await sendProblem(reply.header('www-authenticate', challenge), problemBody(401, detail));
  };
}
