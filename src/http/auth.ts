/**
 * Who may use the API, decided here and nowhere else. Every route declares who may call it in its config:
 *
 *   (nothing)                        an administrator's API token (`Authorization: Bearer <token>` of http.tokens)
 *   access: ['owner']                a mailbox owner's session cookie (web voicemail, web/owner-routes.ts)
 *   access: ['token', 'media-link']  a token, or a signed link to that very path (web/media-links.ts)
 *   public: true                     anyone (/healthz, /readyz, the web admin's files and sign-in)
 *
 * Other ways to sign in (owner sessions, signed links) are authenticators route plugins add to
 * ctx.authenticators, each naming the kind of principal it proves; one is consulted only on a route that
 * accepts its kind, so a plugin's authenticator cannot open another plugin's routes whatever it answers.
 * Checked in onRequest, before a body is read: a stranger's upload is refused unread.
 */
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Principal, PrincipalKind } from './tokens.js';
import { TokenTable } from './tokens.js';
import { problemBody, sendProblem } from './problem.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Answered without a token (health probes, the web admin's static files and sign-in). */
    public?: boolean;
    /** Who may call the route (default: API tokens only). */
    access?: readonly PrincipalKind[];
    /** Logged at debug level when it succeeds (health probes every few seconds would drown the log). */
    quietLog?: boolean;
  }
  interface FastifyRequest {
    /** Who made the request, once authenticated (absent on public routes without credentials). */
    principal?: Principal;
  }
}

/** The default access: administrators' API tokens only. */
export const ADMIN_ONLY: readonly PrincipalKind[] = ['token'];
/** Web voicemail's routes: the signed-in owner's session only (an administrator uses the admin routes). */
export const OWNER_ONLY: readonly PrincipalKind[] = ['owner'];
/** Audio an <audio> element fetches: a token, or a link signed for that path (it cannot send headers). */
export const TOKEN_OR_MEDIA_LINK: readonly PrincipalKind[] = ['token', 'media-link'];

const KIND_NAMES: Record<PrincipalKind, string> = { token: 'an API token', owner: "a mailbox owner's session", 'media-link': 'a signed media link' };

/** Another way to sign in: the principal of `kind` a request proves, or undefined. */
export interface Authenticator {
  kind: Exclude<PrincipalKind, 'token'>;
  authenticate(request: FastifyRequest): Principal | undefined | Promise<Principal | undefined>;
}

/** The bearer token of an Authorization header (RFC 6750 §2.1), or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

export function authHook(tokens: TokenTable, authenticators: readonly Authenticator[]): onRequestHookHandler {
  return async (request, reply) => {
    const config = request.routeOptions.config;
    const accepts = config.access ?? ADMIN_ONLY;
    const token = bearerToken(request.headers.authorization);
    const name = token === undefined ? undefined : tokens.nameOf(token);
    let principal: Principal | undefined = name === undefined ? undefined : { kind: 'token', name };
    if (!principal || !accepts.includes(principal.kind)) {
      for (const a of authenticators) {
        if (!accepts.includes(a.kind)) continue;
        const proved = await a.authenticate(request);
        if (proved && proved.kind === a.kind) {
          principal = proved;
          break;
        }
      }
    }
    request.principal = principal;
    if (config.public) return;
    if (principal && !accepts.includes(principal.kind)) {
      await sendProblem(reply, problemBody(403, `this resource is not for ${KIND_NAMES[principal.kind]}`));
      return;
    }
    if (principal) return;
    // RFC 6750 §3: a 401 names the scheme; invalid_token when one was given but is not ours.
    const challenge = token === undefined ? 'Bearer realm="vmpilot"' : 'Bearer realm="vmpilot", error="invalid_token"';
    const detail = token === undefined ? 'an API token is required (Authorization: Bearer …)' : 'the API token is not valid';
    await sendProblem(reply.header('www-authenticate', challenge), problemBody(401, detail));
  };
}
