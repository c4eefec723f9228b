/**
 * The web admin's page (issue 11): its files under /web/ (static-files.ts), "/" sending a browser there, and
 * the signed links its <audio> elements play from (media-links.ts).
 *
 *   GET  /                       302 to /web/
 *   GET  /web/, /web/*           the page's files (public: the sign-in page needs no token)
 *   POST /api/web/media-links    { path } → { url }: a signed link to one audio path, for the token's holder
 *
 * Every file is sent with a Content-Security-Policy that allows only this origin's scripts, styles and media,
 * so that even a name or caller id that slipped past the page's text-only rendering could run nothing.
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { RoutePlugin } from '../context.js';
import { HttpProblem } from '../problem.js';
import { parseInput } from '../validate.js';
import { PACKAGE_ROOT } from '../../config/defaults.js';
import { etagMatches, loadStaticFiles } from './static-files.js';
import { MediaLinks } from './media-links.js';

/** The package's web/ folder (next to prompts/; the same from src/ under tsx and from dist/ installed). */
export const WEB_ROOT = join(PACKAGE_ROOT, 'web');

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; media-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** The audio paths a link may be signed for: a message's audio, a greeting. Nothing else is opened by a link. */
const LINKABLE = [/^\/api\/mailboxes\/[^/?#]+\/messages\/[^/?#]+\/audio$/, /^\/api\/mailboxes\/[^/?#]+\/greetings\/[a-z]+$/];

const linkRequest = z.strictObject({ path: z.string().max(300) });
const linkResponse = z.object({ url: z.string() });

export const webRoutes: RoutePlugin = async (app, { ctx }) => {
  const files = await loadStaticFiles(WEB_ROOT);
  const links = new MediaLinks();

  // A request whose query is a valid, unexpired signature of its own path is made by the token holder who
  // asked for the link: auth.ts consults this only on routes that declare access: TOKEN_OR_MEDIA_LINK.
  ctx.authenticators.push({
    kind: 'media-link',
    authenticate: (request) => {
      const by = links.verify(request.url.split('?')[0]!, request.query as Record<string, unknown>);
      return by === undefined ? undefined : { kind: 'media-link', name: by };
    },
  });

  app.get('/', { config: { public: true } }, async (_request, reply) => reply.redirect('/web/', 302));

  const serve = (name: string) => async (request: { headers: Record<string, string | string[] | undefined> }, reply: import('fastify').FastifyReply) => {
    const file = files.get(name);
    if (!file) throw new HttpProblem(404, 'no such file');
    reply.headers(SECURITY_HEADERS).header('cache-control', 'no-cache').header('etag', file.etag);
    const ifNoneMatch = request.headers['if-none-match'];
    if (etagMatches(typeof ifNoneMatch === 'string' ? ifNoneMatch : undefined, file.etag)) return reply.code(304).send();
    return reply.type(file.contentType).send(file.body);
  };
  app.get('/web', { config: { public: true } }, async (_request, reply) => reply.redirect('/web/', 301));
  app.get('/web/', { config: { public: true, quietLog: true } }, serve('index.html'));
  app.get<{ Params: { '*': string } }>('/web/*', { config: { public: true, quietLog: true } }, (request, reply) => serve(request.params['*'])(request, reply));

  ctx.api.describe({ method: 'POST', path: '/api/web/media-links', tag: 'web admin', summary: 'a signed link to one audio path, for an <audio> element', body: linkRequest, response: linkResponse });
  app.post('/api/web/media-links', async (request) => {
    const { path } = parseInput(linkRequest, request.body, 'body');
    if (!LINKABLE.some((re) => re.test(path))) throw new HttpProblem(422, 'only a message\'s audio or a greeting can be linked');
    const who = request.principal;
    if (who?.kind !== 'token') throw new HttpProblem(403, 'links are for administrators');
    return { url: links.sign(path, who.name) };
  });
};
