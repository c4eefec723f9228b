/**
 * The store's start-up check (MessageStore.repair, types.ts RepairReport): puts the files and the database
 * back in agreement after a crash, in three passes.
 *
 * (a) tmp/: a recording with its RecordingSidecar is delivered as a new message when the deposit would have
 *     kept it (keptAfterCrash: its minimum length, judged on the audio on disk plus what a killed writer can
 *     lack), its header fixed first (the writer may have died before counting its last buffer);
 *     anything else there is deleted (a recording without metadata, or too short to be a message; a lone
 *     sidecar; a greeting being recorded), each file counted in tempFilesRemoved. A recording for a mailbox
 *     that no longer exists is quarantined with its sidecar.
 * (b) messages/<mailbox>/: audio with no row is re-attached from its sidecar (`<id>.json`) when the sidecar
 *     names this mailbox and the mailbox exists, otherwise moved to orphans/<mailbox>/ for an administrator.
 *     Sidecars without audio and `.part` files (interrupted writes) are deleted.
 * (c) rows in 'new' or 'saved' whose audio is missing are moved to 'deleted' (so no one is offered a message
 *     that cannot be played) and reported.
 * Before them, a mailbox renumber a crash interrupted is finished or rolled back (mailbox-renumber.ts).
 *
 * Recordings in progress belong to the process making them: each records into tmp/pid-<pid>-<start>/
 * (owner.ts). Pass (a) takes the loose files of tmp/ (older versions recorded there), the folders of
 * processes that no longer run, and this process's own folder, and leaves the folders of other running
 * processes alone: a worker starting or restarting never touches another worker's call. Its own folder is
 * taken because repair runs at start-up, before this process records anything: call it then, not later.
 * recoverRecordings() is pass (a) for stopped processes alone, safe at any time (a worker's restart).
 */
import { mkdir, readdir, rename, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { crashLossMs } from '../media/wav.js';
import { fixWavLength, fsyncDir, unlinkIfExists } from './audio-files.js';
import { messageAudioPath, type StoreLayout } from './layout.js';
import { finishRenumbers } from './mailbox-renumber.js';
import { isMessageId } from './message-id.js';
import { readMessageSidecar, type MessageSidecar } from './message-sidecar.js';
import { readRecordingSidecar, recordingSidecarPath } from './recording-sidecar.js';
import { isOwnerTag, ownerRuns, ownTag } from './owner.js';
import type { MessageRecord, NewMessage, RepairReport } from './types.js';

/** The deposit's minimum length for a sidecar that does not say it (voicemail.minMessageMs's default). */
export const MIN_RECOVERED_MS = 1000;

/**
 * Whether a recording cut short by a crash is a message: the deposit's rule (a hang-up keeps a recording of at
 * least minMs), applied to what the recording was when the process died. The file lacks up to
 * crashLossMs of it (WavWriter's buffer and the write in flight), so a file that much short of minMs may
 * have been a message: it is kept (issue 9 item 10: judging the file alone by 1 s lost 1-1.8 s messages).
 */
export function keptAfterCrash(durationOnDiskMs: number, minMs: number = MIN_RECOVERED_MS): boolean {
  // An empty file is no message whatever the rule (the process died at the beep).
  return durationOnDiskMs > 0 && durationOnDiskMs + crashLossMs(durationOnDiskMs) >= minMs;
}

/** What repair needs from the store. */
export interface RepairHost {
  layout: StoreLayout;
  logger: Logger | undefined;
  /** The mailbox number for a number or alias, if it exists. */
  mailboxOf(numberOrAlias: string): string | undefined | Promise<string | undefined>;
  /** The mailbox a recording for this number is delivered to: mailboxOf, else where it was renumbered to. */
  depositMailboxOf(number: string): Promise<string | undefined>;
  hasMessage(id: string): boolean | Promise<boolean>;
  /** The durable deposit, without the quota check. */
  deposit(mailbox: string, message: NewMessage): Promise<MessageRecord>;
  /** Inserts a row for audio already in place (folder 'new'). */
  attach(meta: MessageSidecar): void | Promise<void>;
  /** id and mailbox of every message in 'new' or 'saved'. */
  liveMessages(): { id: string; mailbox: string }[] | Promise<{ id: string; mailbox: string }[]>;
  markDeleted(id: string): void | Promise<void>;
}

export interface RepairResult extends RepairReport {
  /** Mailboxes whose counts changed (the store announces them). */
  changedMailboxes: Set<string>;
}

export async function entries(dir: string): Promise<{ name: string; file: boolean; dir: boolean }[]> {
  try {
    const list = await readdir(dir, { withFileTypes: true });
    return list.map((d) => ({ name: d.name, file: d.isFile(), dir: d.isDirectory() })).sort((a, b) => a.name.localeCompare(b.name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Moves a file into orphans/<group>/ under a name not yet taken there; returns the new path. */
export async function quarantine(host: Pick<RepairHost, 'layout'>, group: string, path: string, name: string): Promise<string> {
  const dir = join(host.layout.orphansDir, group);
  await mkdir(dir, { recursive: true });
  const taken = new Set((await entries(dir)).map((e) => e.name));
  let target = name;
  for (let n = 1; taken.has(target); n++) target = name.replace(/(\.[^.]*)?$/, (ext) => `.${n}${ext}`);
  await rename(path, join(dir, target));
  return join(dir, target);
}

export async function repairStore(host: RepairHost): Promise<RepairResult> {
  const result: RepairResult = { reattached: [], quarantined: [], missingAudio: [], tempFilesRemoved: 0, changedMailboxes: new Set() };
  // First: a renumber a crash interrupted puts its folders where the rows say (else (b) would quarantine them).
  await finishRenumbers(host);
  await repairTmp(host, result);
  const present = await repairMessages(host, result);
  // (c) rows whose audio is missing.
  for (const { id, mailbox } of await host.liveMessages()) {
    if (present.has(`${mailbox}/${id}`)) continue;
    await host.markDeleted(id);
    result.missingAudio.push(id);
    result.changedMailboxes.add(mailbox);
    host.logger?.error({ id, mailbox, path: messageAudioPath(host.layout, mailbox, id) }, 'message audio missing; marked deleted');
  }
  return result;
}

/** (a) recordings left in tmp/ by older versions and by processes that no longer run. */
export async function repairTmp(host: RepairHost, result: RepairResult): Promise<void> {
  await repairRecordings(host, host.layout.tmpDir, result);
  await repairFolder(host, join(host.layout.tmpDir, await ownTag()), result);
  await recoverStopped(host, result);
}

/**
 * The folders of processes that are gone: each is first claimed, moved into this process's own folder (a
 * rename: of several processes recovering at once, exactly one gets it; and if this one dies meanwhile, the
 * claimed folder is inside its own, which the next repair takes), then repaired and removed.
 */
async function recoverStopped(host: RepairHost, result: RepairResult): Promise<void> {
  const own = await ownTag();
  const tmp = host.layout.tmpDir;
  for (const { name } of (await entries(tmp)).filter((e) => e.dir && isOwnerTag(e.name))) {
    if (name === own || (await ownerRuns(name))) continue;
    const claimed = join(tmp, own, name);
    try {
      await rename(join(tmp, name), claimed);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue; // another process claimed it first
      throw err;
    }
    host.logger?.info({ folder: name }, 'recordings of a stopped process taken for repair');
    await repairFolder(host, claimed, result);
    await rmdir(claimed).catch((err: unknown) => host.logger?.warn({ err, folder: claimed }, 'recordings folder of a stopped process not removed'));
  }
  await fsyncDir(tmp);
}

/** A folder's recordings, then the folders it holds that were claimed from stopped processes. */
async function repairFolder(host: RepairHost, folder: string, result: RepairResult): Promise<void> {
  await repairRecordings(host, folder, result);
  for (const { name } of (await entries(folder)).filter((e) => e.dir && isOwnerTag(e.name))) {
    const claimed = join(folder, name);
    await repairFolder(host, claimed, result);
    await rmdir(claimed).catch((err: unknown) => host.logger?.warn({ err, folder: claimed }, 'recordings folder of a stopped process not removed'));
  }
}

/**
 * Pass (a) alone, for processes that stopped while this one runs (a cluster worker killed and restarted):
 * recordings of stopped processes only, never loose files or this process's own. Safe while other processes
 * record and recover (see recoverStopped).
 */
export async function recoverRecordings(host: RepairHost): Promise<RepairResult> {
  const result: RepairResult = { reattached: [], quarantined: [], missingAudio: [], tempFilesRemoved: 0, changedMailboxes: new Set() };
  await recoverStopped(host, result);
  return result;
}

/** Delivers or removes the recordings of one folder whose owner is gone (see the module comment). */
async function repairRecordings(host: RepairHost, tmp: string, result: RepairResult): Promise<void> {
  const files = (await entries(tmp)).filter((e) => e.file);
  const names = new Set(files.map((e) => e.name));
  const remove = async (name: string): Promise<void> => {
    if (await unlinkIfExists(join(tmp, name))) result.tempFilesRemoved++;
  };
  for (const { name } of files) {
    if (!/\.wav$/i.test(name)) continue;
    const wav = join(tmp, name);
    const sidecarName = recordingSidecarPath(name);
    const meta = names.has(sidecarName) ? await readRecordingSidecar(wav) : undefined;
    let length: { durationMs: number } | undefined;
    if (meta) length = await fixWavLength(wav).catch(() => undefined);
    if (!meta || !length || !keptAfterCrash(length.durationMs, meta.minMs)) {
      host.logger?.info({ file: wav, durationMs: length?.durationMs }, 'temporary recording removed');
      await remove(name);
      await remove(sidecarName);
      continue;
    }
    const mailbox = await host.depositMailboxOf(meta.mailbox);
    if (mailbox === undefined) {
      const group = meta.mailbox.replace(/[^0-9*#+]/g, '_');
      result.quarantined.push(await quarantine(host, group, wav, name));
      await quarantine(host, group, join(tmp, sidecarName), sidecarName);
      host.logger?.warn({ file: wav, mailbox: meta.mailbox }, 'recording for a mailbox that does not exist quarantined');
      continue;
    }
    const record = await host.deposit(mailbox, {
      mailbox,
      from: meta.from,
      fromName: meta.fromName,
      durationMs: length.durationMs,
      urgent: meta.urgent,
      reason: meta.reason,
      audioFile: wav,
      receivedAt: meta.receivedAt,
    });
    // deposit() removed the recording's sidecar.
    result.reattached.push(record.id);
    result.changedMailboxes.add(mailbox);
    host.logger?.warn({ id: record.id, mailbox, durationMs: length.durationMs }, 'recording cut short by a crash delivered');
  }
  // Whatever is left: lone sidecars, partial writes, anything else.
  for (const { name } of (await entries(tmp)).filter((e) => e.file)) await remove(name);
  await fsyncDir(tmp);
}

/** One folder of messages/ as forEachMessageFolder hands it over. */
export interface MessageFolder {
  /** The folder's name: a mailbox number. */
  name: string;
  /** Its path. */
  dir: string;
  /** Its files' names, sorted. */
  files: string[];
  /** The same, for look-ups (is there a sidecar beside this audio?). */
  names: ReadonlySet<string>;
}

/**
 * Walks messages/<mailbox>/ for repair (both engines' pass (b)): `visit` gets each folder with its files and
 * says whether it changed the folder, which is then fsynced (a rename or unlink is durable with its folder).
 */
export async function forEachMessageFolder(layout: StoreLayout, visit: (folder: MessageFolder) => Promise<boolean>): Promise<void> {
  for (const folder of (await entries(layout.messagesDir)).filter((e) => e.dir)) {
    const dir = join(layout.messagesDir, folder.name);
    const files = (await entries(dir)).filter((e) => e.file).map((e) => e.name);
    if (await visit({ name: folder.name, dir, files, names: new Set(files) })) await fsyncDir(dir);
  }
}

/** (b) files under messages/; returns "<mailbox>/<id>" of every message audio file present. */
async function repairMessages(host: RepairHost, result: RepairResult): Promise<Set<string>> {
  const present = new Set<string>();
  await forEachMessageFolder(host.layout, async ({ name: mailbox, dir, files, names }) => {
    let changed = false;
    for (const name of files) {
      const path = join(dir, name);
      if (name.endsWith('.part')) {
        await unlinkIfExists(path);
        changed = true;
        continue;
      }
      const stem = name.replace(/\.(wav|json)$/, '');
      if (name.endsWith('.json')) {
        if (!names.has(`${stem}.wav`)) {
          // A purge or a failed deposit stopped before removing it.
          await unlinkIfExists(path);
          changed = true;
        }
        continue;
      }
      if (!name.endsWith('.wav')) continue;
      if (isMessageId(stem) && (await host.hasMessage(stem))) {
        present.add(`${mailbox}/${stem}`);
        continue;
      }
      const sidecarPath = join(dir, `${stem}.json`);
      const meta = names.has(`${stem}.json`) ? await readMessageSidecar(sidecarPath) : undefined;
      if (meta && meta.id === stem && meta.mailbox === mailbox && (await host.mailboxOf(mailbox)) === mailbox) {
        await host.attach(meta);
        present.add(`${mailbox}/${stem}`);
        result.reattached.push(stem);
        result.changedMailboxes.add(mailbox);
        host.logger?.warn({ id: stem, mailbox: mailbox }, 'message audio without a row re-attached from its sidecar');
        continue;
      }
      result.quarantined.push(await quarantine(host, mailbox, path, name));
      if (names.has(`${stem}.json`)) await quarantine(host, mailbox, sidecarPath, `${stem}.json`);
      changed = true;
      host.logger?.error({ file: path, mailbox: mailbox }, 'message audio without a row or usable metadata quarantined');
    }
    return changed;
  });
  return present;
}
