/**
 * Web voicemail (issue 11): a mailbox owner signs in with the mailbox number and PIN and hears and manages
 * their own messages, as Unity and Exchange offered, and nothing else.
 *
 *   POST   /api/me/session             { mailbox, pin } → a session cookie (owner-cookie.ts)
 *   DELETE /api/me/session             signs out
 *   GET    /api/me                     the mailbox's number, name and counts
 *   GET    /api/me/messages            its messages (not the deleted ones)
 *   GET    /api/me/messages/:id/audio  the WAV, with range requests (the <audio> element seeks with them)
 *   PATCH  /api/me/messages/:id        { heard }: mark read or unread (the lamp follows)
 *   DELETE /api/me/messages/:id        to the deleted folder, as on the phone (the lamp follows)
 *
 * The PIN is checked by the store's checkPin under the phone's back-off (store/pin-backoff.ts), keyed on the
 * client's address: a guesser on the web slows down exactly as one on the phone, and shares the mailbox's
 * count with phone guessers. A running delay is answered 429 with Retry-After rather than held open.
 *
 * Scope: the session names one mailbox, and every message route checks that the message is in it; another
 * mailbox's message id is answered 404, as an id that does not exist (its existence is not revealed).
 * The session authenticates only the routes here that declare access: OWNER_ONLY (auth.ts): an owner's cookie
 * opens no administrator route, and an administrator's token none of these (403).
 *
 * Cross-site request forgery: the cookie is SameSite=Strict, and every state-changing request must carry a
 * JSON body or an X-Requested-With header, which a cross-site form cannot send (a script on another site
 * would need a CORS preflight, which this server never grants).
 */
import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import type { RoutePlugin } from '../context.js';
import { HttpProblem, notFound } from '../problem.js';
import { OWNER_ONLY } from '../auth.js';
import { parseInput } from '../validate.js';
import { pinBackoffPolicy } from '../../store/pin-backoff.js';
import { logPinAlerts } from '../../apps/pin-entry.js';
import type { Mailbox, MessageCounts, MessageRecord } from '../../store/types.js';
import { OwnerSessions, type OwnerSession } from './owner-sessions.js';
import { clearedCookie, sessionCookie, sessionIdFrom } from './owner-cookie.js';
import { sendFileWithRanges } from '../range.js';
import { toMessageView } from '../views.js';
import { SourceKeys } from '../../sip/source-key.js';

const OWNER_PREFIX = '/api/me';

const signInSchema = z.strictObject({
  mailbox: z.string().regex(/^[0-9*#+]{1,32}$/, 'expected a mailbox number'),
  pin: z.string().regex(/^[0-9]{1,32}$/, 'expected the PIN (digits)'),
});
const patchSchema = z.strictObject({ heard: z.boolean() });
const idParams = z.object({ id: z.string().min(1).max(100) });

/**
 * The largest body the owner's routes take: a sign-in or a "heard" flag is a few dozen bytes. The sign-in is
 * open to anyone, and its JSON is parsed on the loop that paces calls' RTP: tighter than the API's JSON limit
 * (json-body.ts; a megabyte of nested brackets once held that loop for half a second per request).
 */
export const OWNER_BODY_LIMIT = 4096;

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A JSON body or an X-Requested-With header: what a cross-site HTML form cannot send. */
function fromOurPage(request: FastifyRequest): boolean {
  const type = request.headers['content-type'] ?? '';
  return /^application\/json\s*(;|$)/i.test(type) || typeof request.headers['x-requested-with'] === 'string';
}

export const ownerRoutes: RoutePlugin = async (app, { ctx }) => {
  const sessions = new OwnerSessions();
  const secure = ctx.config.http.tls !== undefined;
  const policy = pinBackoffPolicy(ctx.config.voicemail);
  // The back-off's source is the browser's address (behind a proxy only with http.trustProxy), an IPv6 network
  // counting once: a host rotating through its /64 is still one source.
  const sourceKeys = new SourceKeys(ctx.config.sip.limits.ipv6PrefixLength);
  const log = ctx.logger.child({ component: 'web-voicemail' });

  // The owner's principal: auth.ts consults it only on the routes below that declare access: OWNER_ONLY.
  ctx.authenticators.push({
    kind: 'owner',
    authenticate: (request) => {
      const session = sessions.use(sessionIdFrom(request.headers.cookie, secure));
      return session && { kind: 'owner', name: session.mailbox };
    },
  });
  const owner = { config: { access: OWNER_ONLY }, bodyLimit: OWNER_BODY_LIMIT };

  /**
   * The session of a request auth.ts let through as an owner, with its mailbox as it is now; 401 otherwise (an
   * admin token is not an owner). A mailbox deleted, locked or given another PIN since sign-in ends the
   * session: one indexed lookup per request, so that takes effect at once, from any process that changed it.
   */
  const sessionOf = async (request: FastifyRequest): Promise<{ session: OwnerSession; mailbox: Mailbox }> => {
    const session = request.principal?.kind === 'owner' ? sessions.use(sessionIdFrom(request.headers.cookie, secure)) : undefined;
    if (!session) throw new HttpProblem(401, 'sign in with your mailbox number and PIN');
    const mailbox = await ctx.store.findMailbox(session.mailbox);
    if (!mailbox || mailbox.number !== session.mailbox || mailbox.locked || mailbox.pinHash !== session.pinHash) {
      sessions.end(session.id);
      throw new HttpProblem(401, 'signed out: the mailbox changed (PIN, lock or removal); sign in again');
    }
    return { session, mailbox };
  };

  /** The message `id` when it is in the session's mailbox; 404 for any other (another owner's included). */
  const ownMessage = async (request: FastifyRequest): Promise<MessageRecord> => {
    const { session } = await sessionOf(request);
    const { id } = parseInput(idParams, request.params, 'path');
    const message = await ctx.store.getMessage(id);
    if (!message || message.mailbox !== session.mailbox || message.folder === 'deleted') throw notFound('message');
    return message;
  };

  app.addHook('preHandler', async (request) => {
    if (isOwnerPath(request.url) && STATE_CHANGING.has(request.method) && !fromOurPage(request)) {
      throw new HttpProblem(403, 'a state-changing request needs a JSON body or an X-Requested-With header');
    }
  });

  ctx.api.describe({ method: 'POST', path: '/api/me/session', tag: 'web voicemail', summary: "a mailbox owner's sign-in (number and PIN); sets a session cookie", public: true, body: signInSchema, response: meSchema });
  app.post('/api/me/session', { config: { public: true }, bodyLimit: OWNER_BODY_LIMIT }, async (request, reply) => {
    const { mailbox: number, pin } = parseInput(signInSchema, request.body, 'body');
    const source = sourceKeys.keyOf(request.ip);
    const result = await ctx.store.checkPin({ number, pin, source, policy });
    if (result.verdict === 'wait') {
      // RFC 6585 §4: 429 with Retry-After; the phone waits the delay out in silence, a browser is told it.
      reply.header('retry-after', String(Math.max(1, Math.ceil(result.waitMs / 1000))));
      throw new HttpProblem(429, 'too many wrong PINs: try again later');
    }
    if (result.verdict === 'wrong') {
      logPinAlerts(log, number, source, result.alerts);
      log.info({ mailbox: number, source }, 'web sign-in: wrong PIN');
      throw new HttpProblem(401, 'mailbox number or PIN not correct');
    }
    const mailbox = result.mailbox;
    // The provisioned PIN is often a site-wide default: the phone makes the owner choose their own first, and
    // until then it opens nothing on the web either.
    if (mailbox.mustChangePin) throw new HttpProblem(403, 'call your voicemail first and choose a new PIN');
    const session = sessions.create(mailbox.number, mailbox.pinHash);
    log.info({ mailbox: mailbox.number, source }, 'web sign-in');
    reply.header('set-cookie', sessionCookie(session.id, sessions.maxAgeMs, secure));
    return meJson(mailbox.number, mailbox.name, await ctx.store.counts(mailbox.number));
  });

  ctx.api.describe({ method: 'DELETE', path: '/api/me/session', tag: 'web voicemail', summary: 'signs the owner out', public: true, status: 204 });
  app.delete('/api/me/session', { config: { public: true }, bodyLimit: OWNER_BODY_LIMIT }, async (request, reply) => {
    sessions.end(sessionIdFrom(request.headers.cookie, secure));
    return reply.code(204).header('set-cookie', clearedCookie(secure)).send();
  });

  ctx.api.describe({ method: 'GET', path: '/api/me', tag: 'web voicemail', summary: "the signed-in owner's mailbox", response: meSchema });
  app.get('/api/me', owner, async (request) => {
    const { mailbox } = await sessionOf(request);
    return meJson(mailbox.number, mailbox.name, await ctx.store.counts(mailbox.number));
  });

  ctx.api.describe({ method: 'GET', path: '/api/me/messages', tag: 'web voicemail', summary: "the owner's messages, in play order" });
  app.get('/api/me/messages', owner, async (request) => {
    const { mailbox } = await sessionOf(request);
    const list = await ctx.store.listMessages(mailbox.number);
    return list.filter((m) => m.folder !== 'deleted').map(messageJson);
  });

  ctx.api.describe({ method: 'GET', path: '/api/me/messages/:id/audio', tag: 'web voicemail', summary: "a message's audio (range requests)", rawResponse: 'audio/wav' });
  app.get('/api/me/messages/:id/audio', owner, async (request, reply) => {
    const message = await ownMessage(request);
    return sendFileWithRanges(request, reply, message.audioPath, 'audio/wav');
  });

  ctx.api.describe({ method: 'PATCH', path: '/api/me/messages/:id', tag: 'web voicemail', summary: 'marks a message read or unread', body: patchSchema });
  app.patch('/api/me/messages/:id', owner, async (request) => {
    const message = await ownMessage(request);
    const { heard } = parseInput(patchSchema, request.body, 'body');
    // Heard moves a new message to saved; unheard moves it back to new (store/sqlite.ts): the lamp follows.
    if (heard) await ctx.store.markHeard(message.id);
    else await ctx.store.setFolder(message.id, 'new');
    return messageJson((await ctx.store.getMessage(message.id)) ?? message);
  });

  ctx.api.describe({ method: 'DELETE', path: '/api/me/messages/:id', tag: 'web voicemail', summary: 'moves a message to the deleted folder', status: 204 });
  app.delete('/api/me/messages/:id', owner, async (request, reply) => {
    const message = await ownMessage(request);
    await ctx.store.setFolder(message.id, 'deleted');
    return reply.code(204).send();
  });
};

const meSchema = z.object({
  number: z.string(),
  name: z.string(),
  counts: z.object({ new: z.number(), saved: z.number(), urgentNew: z.number(), urgentSaved: z.number() }),
});

function meJson(number: string, name: string, counts: MessageCounts): z.infer<typeof meSchema> {
  return { number, name, counts: { new: counts.new, saved: counts.saved, urgentNew: counts.urgentNew, urgentSaved: counts.urgentSaved } };
}

/** A message as the API shows it (views.ts), its audio under /api/me. */
function messageJson(m: MessageRecord) {
  return { ...toMessageView(m), audio: `${OWNER_PREFIX}/messages/${encodeURIComponent(m.id)}/audio` };
}

function isOwnerPath(url: string): boolean {
  const path = url.split('?')[0]!;
  return path === OWNER_PREFIX || path.startsWith(`${OWNER_PREFIX}/`);
}
