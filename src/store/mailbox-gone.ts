/**
 * A deposit whose mailbox was deleted while the caller was recording (another process or host deleted it between
 * the call's greeting and the hang-up): the message has nowhere to go, but it must not be lost. The recording and
 * its sidecar are moved to orphans/<number>/ at once (not left in tmp/ for the next start), with an error log line
 * naming the file, and the deposit rejects with MailboxGoneError. An administrator can listen to it there and,
 * if wanted, import it into another mailbox.
 *
 * Only a recording this store made (in its tmp/, not a caller-owned file kept with keepAudioFile) is moved: any
 * other deposit to a missing mailbox is a plain NoSuchMailboxError and the caller keeps its file.
 */
import { basename, resolve, sep } from 'node:path';
import type { Logger } from 'pino';
import { MailboxGoneError } from './errors.js';
import type { StoreLayout } from './layout.js';
import { recordingSidecarPath } from './recording-sidecar.js';
import { quarantine } from './repair.js';
import { NoSuchMailboxError, type NewMessage } from './types.js';

export async function keepForGoneMailbox(layout: StoreLayout, logger: Logger | undefined, message: NewMessage): Promise<never> {
  if (message.keepAudioFile || !resolve(message.audioFile).startsWith(layout.tmpDir + sep)) throw new NoSuchMailboxError(message.mailbox);
  const group = message.mailbox.replace(/[^0-9*#+]/g, '_');
  const keptAt = await quarantine({ layout }, group, message.audioFile, basename(message.audioFile));
  const sidecar = recordingSidecarPath(message.audioFile);
  await quarantine({ layout }, group, sidecar, basename(sidecar)).catch(() => undefined);
  logger?.error(
    { mailbox: message.mailbox, file: keptAt, from: message.from, durationMs: message.durationMs },
    'mailbox deleted during the call: message not delivered, kept in orphans/ for an administrator',
  );
  throw new MailboxGoneError(message.mailbox, keptAt);
}
