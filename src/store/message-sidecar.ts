/**
 * A stored message's metadata as a file beside its audio (`messages/<mailbox>/<id>.json`), written and
 * fsynced before the database row. If the row is lost (a crash between the file and the commit, or a
 * database restored from an older backup), repair() re-creates the row from it. It records what the message
 * was when deposited; later changes (folder, heard) live only in the database.
 */
import { z } from 'zod';
import { readJsonFile, writeFileDurably } from './audio-files.js';
import type { DepositReason, MessageRecord } from './types.js';

export type MessageSidecar = Pick<
  MessageRecord,
  'id' | 'mailbox' | 'from' | 'fromName' | 'receivedAt' | 'durationMs' | 'urgent' | 'reason' | 'forwardedFrom'
>;

/** Every DepositReason (types.ts), for checking files read back; an unknown one reads as 'other'. */
export const DEPOSIT_REASONS = ['busy', 'no-answer', 'unavailable', 'unconditional', 'direct', 'forwarded', 'other'] as const satisfies readonly DepositReason[];

const schema = z.object({
  version: z.literal(1),
  id: z.string().min(1),
  mailbox: z.string().min(1),
  from: z.string(),
  fromName: z.string(),
  receivedAt: z.number().int().nonnegative(),
  durationMs: z.number().int().nonnegative(),
  urgent: z.boolean(),
  reason: z.enum(DEPOSIT_REASONS).catch('other'),
  forwardedFrom: z.string().optional(),
});

export async function writeMessageSidecar(path: string, meta: MessageSidecar): Promise<void> {
  await writeFileDurably(path, JSON.stringify({ version: 1, ...meta }));
}

/** The sidecar's metadata; undefined when the file is missing, not JSON, or not a sidecar. */
export async function readMessageSidecar(path: string): Promise<MessageSidecar | undefined> {
  const parsed = schema.safeParse(await readJsonFile(path));
  if (!parsed.success) return undefined;
  const { version: _version, forwardedFrom, ...meta } = parsed.data;
  return forwardedFrom === undefined ? meta : { ...meta, forwardedFrom };
}
