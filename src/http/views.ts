/**
 * What the API shows of the store's records: a mailbox without its PIN hash and internal counters, a message
 * without its file path (the audio has its own URL). The zod schemas describe the answers in /openapi.json.
 */
import { z } from 'zod';
import type { Mailbox, MessageCounts, MessageRecord } from '../store/types.js';

const GREETING_KINDS = ['unavailable', 'busy', 'name', 'temporary'] as const;

export const mailboxView = z.object({
  number: z.string(),
  name: z.string(),
  email: z.string().optional(),
  aliases: z.array(z.string()),
  attachAudio: z.boolean(),
  hideFromDirectory: z.boolean(),
  maxMessages: z.number(),
  maxMinutes: z.number(),
  locked: z.boolean(),
  mustChangePin: z.boolean(),
  setupDone: z.boolean(),
  /** Which greetings are recorded. */
  greetings: z.array(z.enum(GREETING_KINDS)),
  temporaryGreetingUntil: z.string().optional().describe('ISO 8601'),
});

export const countsView = z.object({ new: z.number(), saved: z.number(), urgentNew: z.number(), urgentSaved: z.number() });

export const messageView = z.object({
  id: z.string(),
  mailbox: z.string(),
  folder: z.enum(['new', 'saved', 'deleted']),
  from: z.string(),
  fromName: z.string(),
  receivedAt: z.string().describe('ISO 8601'),
  durationMs: z.number(),
  urgent: z.boolean(),
  heard: z.boolean(),
  reason: z.string(),
  forwardedFrom: z.string().optional(),
  /** Where to fetch the WAV (range requests supported). */
  audio: z.string(),
});

export function toMailboxView(m: Mailbox): z.infer<typeof mailboxView> {
  return {
    number: m.number,
    name: m.name,
    ...(m.email !== undefined && { email: m.email }),
    aliases: m.aliases,
    attachAudio: m.emailAttachAudio,
    hideFromDirectory: m.hiddenFromDirectory,
    maxMessages: m.maxMessages,
    maxMinutes: m.maxMinutes,
    locked: m.locked,
    mustChangePin: m.mustChangePin,
    setupDone: m.setupDone,
    greetings: GREETING_KINDS.filter((k) => m.greetings[k] !== undefined),
    ...(m.temporaryGreetingUntil !== undefined && { temporaryGreetingUntil: new Date(m.temporaryGreetingUntil).toISOString() }),
  };
}

export function toMessageView(r: MessageRecord): z.infer<typeof messageView> {
  return {
    id: r.id,
    mailbox: r.mailbox,
    folder: r.folder,
    from: r.from,
    fromName: r.fromName,
    receivedAt: new Date(r.receivedAt).toISOString(),
    durationMs: r.durationMs,
    urgent: r.urgent,
    heard: r.heard,
    reason: r.reason,
    ...(r.forwardedFrom !== undefined && { forwardedFrom: r.forwardedFrom }),
    audio: `/api/mailboxes/${encodeURIComponent(r.mailbox)}/messages/${encodeURIComponent(r.id)}/audio`,
  };
}

export const toCountsView = (c: MessageCounts): z.infer<typeof countsView> => ({ new: c.new, saved: c.saved, urgentNew: c.urgentNew, urgentSaved: c.urgentSaved });
