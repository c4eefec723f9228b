/**
 * The file side of a message's life, in the order that keeps the durability rule (types.ts): the audio and its
 * sidecar are placed and fsynced BEFORE the row is committed, and removed around the row's deletion so that a
 * crash at any point leaves nothing worse than an orphan that repair() quarantines.
 *
 * Not here: the database (the caller commits between the steps), how the files are written (audio-files.ts).
 */
import { rename } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { fsyncDir, placeFile, unlinkIfExists } from './audio-files.js';
import { messageAudioPath, messageSidecarPath, type StoreLayout } from './layout.js';
import { newMessageId } from './message-id.js';
import { writeMessageSidecar, type MessageSidecar } from './message-sidecar.js';
import { recordingSidecarPath } from './recording-sidecar.js';
import type { NewMessage } from './types.js';

/** A new message's metadata (its sidecar, its row): the deposit's fields, received now unless it says when. */
export function depositMeta(mailbox: string, message: NewMessage, id: string = newMessageId()): MessageSidecar {
  return {
    id,
    mailbox,
    from: message.from,
    fromName: message.fromName,
    receivedAt: message.receivedAt ?? Date.now(),
    durationMs: Math.max(0, Math.round(message.durationMs)),
    urgent: message.urgent,
    reason: message.reason,
    ...(message.forwardedFrom !== undefined ? { forwardedFrom: message.forwardedFrom } : {}),
  };
}

/**
 * Puts a new message's files in place: sidecar written and fsynced, then the audio moved (or copied) into
 * place and fsynced, then the folder fsynced. The sidecar goes first so that audio found in messages/ without
 * a row normally has its metadata beside it (repair re-attaches it). Returns the metadata for the row.
 * On failure nothing is left behind (the recording stays where it was).
 */
export async function placeMessage(layout: StoreLayout, mailbox: string, message: NewMessage, id: string = newMessageId()): Promise<MessageSidecar> {
  const meta = depositMeta(mailbox, message, id);
  const audio = messageAudioPath(layout, mailbox, id);
  const sidecar = messageSidecarPath(layout, mailbox, id);
  await writeMessageSidecar(sidecar, meta);
  try {
    await placeFile(message.audioFile, audio, message.keepAudioFile === true);
  } catch (err) {
    await unlinkIfExists(sidecar).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dirname(audio));
  return meta;
}

/**
 * Undoes placeMessage when the row may not be committed (the mailbox filled up meanwhile): the audio goes back to
 * the recording's path (a copy kept for the caller is removed instead), the sidecar goes.
 */
export async function unplaceMessage(layout: StoreLayout, meta: MessageSidecar, message: NewMessage): Promise<void> {
  const audio = messageAudioPath(layout, meta.mailbox, meta.id);
  if (message.keepAudioFile) await unlinkIfExists(audio);
  else await rename(audio, message.audioFile);
  await unlinkIfExists(messageSidecarPath(layout, meta.mailbox, meta.id));
  await fsyncDir(dirname(audio)).catch(() => undefined);
}

/** After the row is committed: the recording's own sidecar in tmp/ (recording-sidecar.ts) has served its purpose. */
export async function forgetRecording(layout: StoreLayout, message: NewMessage): Promise<void> {
  if (message.keepAudioFile || !resolve(message.audioFile).startsWith(layout.tmpDir + sep)) return;
  await unlinkIfExists(recordingSidecarPath(message.audioFile)).catch(() => undefined);
}

/**
 * Removes messages for good around `deleteRows` (which commits the rows' deletion). Sidecars first (a crash
 * then leaves audio with no metadata, which repair quarantines, never a purged message re-attached as new),
 * then the rows, then the audio, then each folder is fsynced.
 */
export async function removeMessages(layout: StoreLayout, messages: readonly { id: string; mailbox: string }[], deleteRows: () => void): Promise<void> {
  for (const m of messages) await unlinkIfExists(messageSidecarPath(layout, m.mailbox, m.id));
  deleteRows();
  for (const m of messages) await unlinkIfExists(messageAudioPath(layout, m.mailbox, m.id));
  for (const mailbox of new Set(messages.map((m) => m.mailbox))) {
    await fsyncDir(dirname(messageAudioPath(layout, mailbox, 'x'))).catch(() => undefined);
  }
}
