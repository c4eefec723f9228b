/**
 * Where the SQLite store keeps things under storage.dir:
 *
 *   vmpilot.db (+ -wal, -shm)          the database (mailboxes, aliases, greetings, messages)
 *   messages/<mailbox>/<id>.wav        a message's audio (16-bit PCM, 8 kHz, mono)
 *   messages/<mailbox>/<id>.json       its metadata sidecar, written before the row (repair() reads it)
 *   greetings/<mailbox>/<kind>.wav     recorded greetings and names
 *   tmp/                               recordings in progress (<name>.wav + <name>.json, see recording-sidecar.ts)
 *   orphans/<mailbox>/                 audio repair() could not attach, kept for an administrator
 *
 * tmp/ is inside storage.dir so that moving a finished recording into messages/ is a rename on one file system.
 */
import { join } from 'node:path';
import type { GreetingKind } from './types.js';

export interface StoreLayout {
  readonly dir: string;
  readonly dbFile: string;
  readonly messagesDir: string;
  readonly greetingsDir: string;
  readonly tmpDir: string;
  readonly orphansDir: string;
}

/** The layout under an absolute storage folder. */
export function storeLayout(dir: string): StoreLayout {
  return {
    dir,
    dbFile: join(dir, 'vmpilot.db'),
    messagesDir: join(dir, 'messages'),
    greetingsDir: join(dir, 'greetings'),
    tmpDir: join(dir, 'tmp'),
    orphansDir: join(dir, 'orphans'),
  };
}

export const messageAudioPath = (l: StoreLayout, mailbox: string, id: string): string => join(l.messagesDir, mailbox, `${id}.wav`);
export const messageSidecarPath = (l: StoreLayout, mailbox: string, id: string): string => join(l.messagesDir, mailbox, `${id}.json`);
export const greetingPath = (l: StoreLayout, mailbox: string, kind: GreetingKind): string => join(l.greetingsDir, mailbox, `${kind}.wav`);
