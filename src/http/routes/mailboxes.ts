/**
 * /api/mailboxes: list (search, paging), get (with message counts), create, change, PIN reset, unlock, delete
 * with its messages. Fields are validated with the config's own schemas (schema.ts mailboxFields), so a
 * mailbox the API accepts is one the config file would accept too.
 *
 * The list filters the store's whole list in this process: at 10,000 mailboxes that is one query (three
 * statements, store/sqlite.ts listMailboxes) and a scan; README "HTTP API" gives the measured time.
 */
import { z } from 'zod';
import { mailboxFields } from '../../config/schema.js';
import { NumberInUseError } from '../../store/errors.js';
import type { Mailbox, MessageStore } from '../../store/types.js';
import { pilotOwning } from '../../admin/with-store.js';
import type { RoutePlugin } from '../context.js';
import { HttpProblem, notFound } from '../problem.js';
import { parseInput } from '../validate.js';
import { countsView, mailboxView, toCountsView, toMailboxView } from '../views.js';

const listQuery = z.strictObject({
  search: z.string().max(200).optional().describe('matches number, alias, name or email (case-insensitive substring)'),
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const createBody = z.strictObject({
  number: mailboxFields.number,
  pin: mailboxFields.pin,
  name: mailboxFields.name,
  email: mailboxFields.email.optional(),
  aliases: mailboxFields.aliases.optional(),
  hideFromDirectory: mailboxFields.hideFromDirectory.optional(),
  attachAudio: mailboxFields.attachAudio.optional(),
  maxMessages: mailboxFields.maxMessages.optional(),
  maxMinutes: mailboxFields.maxMinutes.optional(),
});

const patchBody = z.strictObject({
  name: mailboxFields.name.optional(),
  email: mailboxFields.email.nullable().optional().describe('null removes it'),
  aliases: mailboxFields.aliases.optional(),
  hideFromDirectory: mailboxFields.hideFromDirectory.optional(),
  attachAudio: mailboxFields.attachAudio.optional(),
  maxMessages: mailboxFields.maxMessages.optional(),
  maxMinutes: mailboxFields.maxMinutes.optional(),
  locked: z.boolean().optional().describe('locked by an administrator: no PIN opens it'),
});

const pinBody = z.strictObject({ pin: mailboxFields.pin });

const listView = z.object({ total: z.number(), offset: z.number(), limit: z.number(), items: z.array(mailboxView) });
const detailView = mailboxView.extend({ counts: countsView });
const deletedView = z.object({ number: z.string(), messages: z.number(), greetings: z.number() });

type NumberParams = { Params: { number: string } };

/** The mailbox with this number or alias, or a 404 problem. */
export async function requireMailbox(store: MessageStore, number: string): Promise<Mailbox> {
  const mailbox = await store.findMailbox(number);
  if (!mailbox) throw notFound(`mailbox ${number}`);
  return mailbox;
}

function matches(m: Mailbox, needle: string): boolean {
  if (m.number.includes(needle) || m.aliases.some((a) => a.includes(needle))) return true;
  return m.name.toLowerCase().includes(needle) || (m.email?.toLowerCase().includes(needle) ?? false);
}

/** A number that cannot be this mailbox's (a pilot's, another mailbox's): 409. */
function numbersFree(config: Parameters<typeof pilotOwning>[0], numbers: readonly string[]): void {
  for (const n of numbers) {
    const pilot = pilotOwning(config, n);
    if (pilot !== undefined) throw new HttpProblem(409, `${n} is the ${pilot} pilot number`);
  }
}

/** The store's refusal of a number in use, as 409. */
async function conflictAs409<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof NumberInUseError) throw new HttpProblem(409, err.message);
    throw err;
  }
}

export const mailboxRoutes: RoutePlugin = async (app, { ctx }) => {
  const { store, config, api } = ctx;
  const tag = 'mailboxes';

  api.describe({ method: 'GET', path: '/api/mailboxes', tag, summary: 'list mailboxes (search, paging)', query: listQuery, response: listView });
  app.get('/api/mailboxes', async (request) => {
    const q = parseInput(listQuery, request.query, 'query');
    const all = await store.listMailboxes();
    const needle = q.search?.trim().toLowerCase();
    const found = needle ? all.filter((m) => matches(m, needle)) : all;
    return { total: found.length, offset: q.offset, limit: q.limit, items: found.slice(q.offset, q.offset + q.limit).map(toMailboxView) };
  });

  api.describe({ method: 'POST', path: '/api/mailboxes', tag, summary: 'create a mailbox (the owner changes the PIN at first login)', body: createBody, response: mailboxView, status: 201 });
  app.post('/api/mailboxes', async (request, reply) => {
    const b = parseInput(createBody, request.body, 'body');
    numbersFree(config, [b.number, ...(b.aliases ?? [])]);
    const created = await conflictAs409(() =>
      store.createMailbox({
        number: b.number,
        pin: b.pin,
        name: b.name,
        ...(b.email !== undefined && { email: b.email }),
        ...(b.aliases && { aliases: b.aliases }),
        ...(b.hideFromDirectory !== undefined && { hiddenFromDirectory: b.hideFromDirectory }),
        ...(b.attachAudio !== undefined && { emailAttachAudio: b.attachAudio }),
        ...(b.maxMessages !== undefined && { maxMessages: b.maxMessages }),
        ...(b.maxMinutes !== undefined && { maxMinutes: b.maxMinutes }),
      }),
    );
    return reply.code(201).header('location', `/api/mailboxes/${encodeURIComponent(created.number)}`).send(toMailboxView(created));
  });

  api.describe({ method: 'GET', path: '/api/mailboxes/:number', tag, summary: 'a mailbox (by number or alias) with its message counts', response: detailView });
  app.get<NumberParams>('/api/mailboxes/:number', async (request) => {
    const mailbox = await requireMailbox(store, request.params.number);
    return { ...toMailboxView(mailbox), counts: toCountsView(await store.counts(mailbox.number)) };
  });

  api.describe({ method: 'PATCH', path: '/api/mailboxes/:number', tag, summary: 'change name, email, aliases, options', body: patchBody, response: mailboxView });
  app.patch<NumberParams>('/api/mailboxes/:number', async (request) => {
    const b = parseInput(patchBody, request.body, 'body');
    const mailbox = await requireMailbox(store, request.params.number);
    if (b.aliases) numbersFree(config, b.aliases);
    const updated = await conflictAs409(() =>
      store.updateMailbox(mailbox.number, {
        ...(b.name !== undefined && { name: b.name }),
        ...(b.email !== undefined && { email: b.email ?? undefined }),
        ...(b.aliases && { aliases: b.aliases }),
        ...(b.hideFromDirectory !== undefined && { hiddenFromDirectory: b.hideFromDirectory }),
        ...(b.attachAudio !== undefined && { emailAttachAudio: b.attachAudio }),
        ...(b.maxMessages !== undefined && { maxMessages: b.maxMessages }),
        ...(b.maxMinutes !== undefined && { maxMinutes: b.maxMinutes }),
        ...(b.locked !== undefined && { locked: b.locked }),
      }),
    );
    return toMailboxView(updated);
  });

  api.describe({ method: 'PUT', path: '/api/mailboxes/:number/pin', tag, summary: 'reset the PIN (the owner must change it at the next login; also unlocks)', body: pinBody, status: 204 });
  app.put<NumberParams>('/api/mailboxes/:number/pin', async (request, reply) => {
    const b = parseInput(pinBody, request.body, 'body');
    const mailbox = await requireMailbox(store, request.params.number);
    await store.setPin(mailbox.number, b.pin);
    // As `vmpilot mailbox set-pin`: an administrator's PIN is an initial PIN.
    await store.updateMailbox(mailbox.number, { mustChangePin: true, locked: false, failedLogins: 0 });
    return reply.code(204).send();
  });

  api.describe({ method: 'POST', path: '/api/mailboxes/:number/unlock', tag, summary: "lift the administrator's lock and the PIN back-off", response: mailboxView });
  app.post<NumberParams>('/api/mailboxes/:number/unlock', async (request) => {
    const mailbox = await requireMailbox(store, request.params.number);
    return toMailboxView(await store.updateMailbox(mailbox.number, { locked: false, failedLogins: 0 }));
  });

  api.describe({ method: 'DELETE', path: '/api/mailboxes/:number', tag, summary: 'delete a mailbox with its messages and greetings (the lamp goes off)', response: deletedView });
  app.delete<NumberParams>('/api/mailboxes/:number', async (request) => {
    const mailbox = await requireMailbox(store, request.params.number);
    return store.deleteMailbox(mailbox.number);
  });
};
