/**
 * /api/mailboxes: list (search, paging), get (with message counts), create, change, PIN reset, unlock, delete
 * with its messages. Fields are validated with the config's own schemas (schema.ts mailboxFields), so a
 * mailbox the API accepts is one the config file would accept too.
 *
 * The list is searched and paged by the store (store.searchMailboxes): filtering the whole list here took
 * 400 ms at 10,000 mailboxes (bench/api-mailbox-list.ts); README "HTTP API" gives the measured times.
 */
import { z } from 'zod';
import { mailboxFields } from '../../config/schema.js';
import { NumberInUseError } from '../../store/errors.js';
import type { Mailbox, MessageStore } from '../../store/types.js';
import { pilotOwning } from '../../admin/with-store.js';
import { configEntry, ownedFields } from '../../admin/config-mailboxes.js';
import type { Config } from '../../config/schema.js';
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
  number: mailboxFields.number.optional().describe('renumber: messages, greetings and PIN move with it'),
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

/** A number that cannot be this mailbox's (a pilot's, another mailbox's): 409. */
function numbersFree(config: Config, numbers: readonly string[]): void {
  for (const n of numbers) {
    const pilot = pilotOwning(config, n);
    if (pilot !== undefined) throw new HttpProblem(409, `${n} is the ${pilot} pilot number`);
  }
}

/** The API's body keys of the mailbox fields a config entry can own (config-mailboxes.ts ownedFields). */
const FIELD_OF_KEY: Record<string, keyof Mailbox> = {
  name: 'name',
  email: 'email',
  aliases: 'aliases',
  hideFromDirectory: 'hiddenFromDirectory',
  attachAudio: 'emailAttachAudio',
  maxMessages: 'maxMessages',
  maxMinutes: 'maxMinutes',
};

/**
 * A mailbox of the config file is the config's to renumber and delete, and its config-owned fields the
 * config's to change (as `vmpilot mailbox set` and `delete`): a change here would be undone at the next start.
 * 409 naming the key to edit; `keys` are the body's keys (or 'number' for a renumber, '' for a delete).
 */
function refuseConfigOwned(config: Config, number: string, keys: readonly string[]): void {
  const inConfig = configEntry(config, number);
  if (!inConfig) return;
  const at = `mailboxes[${inConfig.index}]`;
  if (keys.includes('')) throw new HttpProblem(409, `mailbox ${number} is in the config file (${at}): remove it there, or it comes back at the next start`);
  const owned = ownedFields(inConfig.entry);
  const errors = keys.flatMap((key) => {
    if (key === 'number') return [{ path: 'body.number', message: `mailbox ${number} is in the config file (${at}.number): renumber it there` }];
    const configKey = FIELD_OF_KEY[key] && owned.get(FIELD_OF_KEY[key]);
    return configKey === undefined ? [] : [{ path: `body.${key}`, message: `set by the config file (${at}.${configKey}): change it there` }];
  });
  if (errors.length > 0) throw new HttpProblem(409, `mailbox ${number}'s fields are set by the config file`, errors);
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
    const { total, mailboxes } = await store.searchMailboxes({ ...(q.search !== undefined && { search: q.search }), offset: q.offset, limit: q.limit });
    return { total, offset: q.offset, limit: q.limit, items: mailboxes.map(toMailboxView) };
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

  api.describe({ method: 'PATCH', path: '/api/mailboxes/:number', tag, summary: 'change number, name, email, aliases, options (not those the config file sets: 409)', body: patchBody, response: mailboxView });
  app.patch<NumberParams>('/api/mailboxes/:number', async (request) => {
    const b = parseInput(patchBody, request.body, 'body');
    const mailbox = await requireMailbox(store, request.params.number);
    const renumber = b.number !== undefined && b.number !== mailbox.number;
    refuseConfigOwned(config, mailbox.number, Object.keys(b).filter((k) => k !== 'number' || renumber));
    numbersFree(config, [...(renumber ? [b.number!] : []), ...(b.aliases ?? [])]);
    // The fields, then the number (the store checks it free; renumberMailbox announces both lamps).
    let updated = await conflictAs409(() =>
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
    if (renumber) updated = await conflictAs409(() => store.renumberMailbox(mailbox.number, b.number!));
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
    refuseConfigOwned(config, mailbox.number, ['']);
    return store.deleteMailbox(mailbox.number);
  });
};
