/**
 * A deposit whose mailbox another process or host deleted or renumbered while the caller was recording.
 *
 * Deleted between the call's greeting and the hang-up: the message has nowhere to go, but it must not be lost. The recording and
 * its sidecar are moved to orphans/<number>/ at once (not left in tmp/ for the next start), with an error log line
 * naming the file, and the deposit rejects with MailboxGoneError. An administrator can listen to it there and,
 * if wanted, import it into another mailbox.
 *
 * Only a recording this store made (in its tmp/, not a caller-owned file kept with keepAudioFile) is moved: any
 * other deposit to a missing mailbox is a plain NoSuchMailboxError and the caller keeps its file.
 *
 * On SQLite the mailbox can also go between the deposit placing its files and inserting its row (another
 * process's renumber or delete commits in between; the insert fails on the foreign key): placedElsewhere() then
 * moves the placed files to the renumbered mailbox's folder, wherever the renumber's rename left them, or keeps
 * them in orphans/ when the mailbox was deleted (its deleter may have moved them there already,
 * mailbox-removal.ts).
 */
import { existsSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Logger } from 'pino';
import { MailboxGoneError } from './errors.js';
import { fsyncDir, unlinkIfExists } from './audio-files.js';
import { messageAudioPath, messageSidecarPath, type StoreLayout } from './layout.js';
import { writeMessageSidecar, type MessageSidecar } from './message-sidecar.js';
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

/**
 * A placed deposit (audio and sidecar under messages/<meta.mailbox>/, or moved along by a renumber's rename to
 * messages/<to>/) made a deposit for `to`: its files in to's folder, its sidecar naming `to`. Returns the sidecar.
 */
export async function moveToRenumbered(layout: StoreLayout, meta: MessageSidecar, to: string): Promise<MessageSidecar> {
  const moved = { ...meta, mailbox: to };
  const wav = messageAudioPath(layout, to, meta.id);
  await mkdir(dirname(wav), { recursive: true });
  const from = messageAudioPath(layout, meta.mailbox, meta.id);
  if (existsSync(from) && !existsSync(wav)) await rename(from, wav);
  await unlinkIfExists(messageSidecarPath(layout, meta.mailbox, meta.id));
  await writeMessageSidecar(messageSidecarPath(layout, to, meta.id), moved);
  for (const dir of new Set([dirname(wav), dirname(from)])) await fsyncDir(dir).catch(() => undefined);
  return moved;
}

/** A placed deposit whose mailbox was deleted before its row: its files to orphans/ (unless its deleter moved them). */
export async function keepPlacedForGoneMailbox(layout: StoreLayout, logger: Logger | undefined, meta: MessageSidecar): Promise<never> {
  const wav = messageAudioPath(layout, meta.mailbox, meta.id);
  let keptAt = join(layout.orphansDir, meta.mailbox);
  if (existsSync(wav)) keptAt = await quarantine({ layout }, meta.mailbox, wav, basename(wav));
  const sidecar = messageSidecarPath(layout, meta.mailbox, meta.id);
  if (existsSync(sidecar)) await quarantine({ layout }, meta.mailbox, sidecar, basename(sidecar));
  logger?.error({ mailbox: meta.mailbox, id: meta.id, file: keptAt }, 'mailbox deleted during the call: message not delivered, kept in orphans/ for an administrator');
  throw new MailboxGoneError(meta.mailbox, keptAt);
}
