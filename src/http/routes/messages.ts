/**
 * A mailbox's messages: list, get, the audio (WAV, range requests for seeking: range.ts), mark heard/unheard,
 * move between folders, delete (to the 'deleted' folder, as on the phone; purged with the mailbox's deleted
 * messages). Every change goes through the store, which announces the new counts: the MWI lamp follows.
 */
import { z } from 'zod';
import type { MessageRecord, MessageStore } from '../../store/types.js';
import type { RoutePlugin } from '../context.js';
import { TOKEN_OR_MEDIA_LINK } from '../auth.js';
import { notFound } from '../problem.js';
import { sendFileWithRanges } from '../range.js';
import { parseInput } from '../validate.js';
import { messageView, toMessageView } from '../views.js';
import { requireMailbox } from './mailboxes.js';

const FOLDERS = ['new', 'saved', 'deleted'] as const;
const listQuery = z.strictObject({ folder: z.enum(FOLDERS).optional() });
const patchBody = z.strictObject({
  heard: z.boolean().optional().describe('true moves a new message to saved; false moves it back to new'),
  folder: z.enum(FOLDERS).optional(),
  urgent: z.boolean().optional(),
});

type MessageParams = { Params: { number: string; id: string } };

/** The message `id` of mailbox `number` (or alias), or a 404 problem: an id of another mailbox is not found. */
async function requireMessage(store: MessageStore, number: string, id: string): Promise<MessageRecord> {
  const mailbox = await requireMailbox(store, number);
  const message = await store.getMessage(id);
  if (!message || message.mailbox !== mailbox.number) throw notFound(`message ${id} of mailbox ${mailbox.number}`);
  return message;
}

export const messageRoutes: RoutePlugin = async (app, { ctx }) => {
  const { store, api } = ctx;
  const tag = 'messages';
  const one = '/api/mailboxes/:number/messages/:id';

  api.describe({ method: 'GET', path: '/api/mailboxes/:number/messages', tag, summary: "a mailbox's messages in play order (urgent first, then oldest)", query: listQuery, response: z.object({ items: z.array(messageView) }) });
  app.get<{ Params: { number: string } }>('/api/mailboxes/:number/messages', async (request) => {
    const q = parseInput(listQuery, request.query, 'query');
    const mailbox = await requireMailbox(store, request.params.number);
    return { items: (await store.listMessages(mailbox.number, q.folder)).map(toMessageView) };
  });

  api.describe({ method: 'GET', path: one, tag, summary: 'one message', response: messageView });
  app.get<MessageParams>(one, async (request) => toMessageView(await requireMessage(store, request.params.number, request.params.id)));

  api.describe({ method: 'GET', path: `${one}/audio`, tag, summary: 'the audio (WAV, 8 kHz mono 16-bit); Range requests answered with 206', rawResponse: 'audio/wav' });
  // Played by the web admin's <audio> element, which fetches with a signed link (web/media-links.ts).
  app.get<MessageParams>(`${one}/audio`, { config: { access: TOKEN_OR_MEDIA_LINK } }, async (request, reply) => {
    const message = await requireMessage(store, request.params.number, request.params.id);
    return sendFileWithRanges(request, reply, message.audioPath, 'audio/wav');
  });

  api.describe({ method: 'PATCH', path: one, tag, summary: 'mark heard/unheard, move to a folder, set urgent', body: patchBody, response: messageView });
  app.patch<MessageParams>(one, async (request) => {
    const b = parseInput(patchBody, request.body, 'body');
    const message = await requireMessage(store, request.params.number, request.params.id);
    if (b.heard === true) await store.markHeard(message.id);
    if (b.heard === false) await store.setFolder(message.id, 'new');
    if (b.folder !== undefined) await store.setFolder(message.id, b.folder);
    if (b.urgent !== undefined) await store.setUrgent(message.id, b.urgent);
    return toMessageView((await store.getMessage(message.id)) ?? message);
  });

  api.describe({ method: 'DELETE', path: one, tag, summary: "move to the 'deleted' folder (the lamp follows)", status: 204 });
  app.delete<MessageParams>(one, async (request, reply) => {
    const message = await requireMessage(store, request.params.number, request.params.id);
    await store.setFolder(message.id, 'deleted');
    return reply.code(204).send();
  });
};
