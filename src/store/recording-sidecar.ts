/**
 * The metadata the voicemail app writes beside a recording in progress, so that a recording cut short by a
 * crash can still be delivered: when recording starts, `<tmp>/<name>.wav` (WavWriter) and `<tmp>/<name>.json`
 * holding a RecordingSidecar. At start-up the store's repair() deposits every such recording that the deposit's
 * own minimum length (`minMs`) would have kept, judged on the audio on disk (store/repair.ts), and deletes the
 * rest. After a normal deposit the store deletes the sidecar.
 *
 * Not here: the recording itself (media/recorder.ts), the sidecar of a stored message (message-sidecar.ts).
 */
import { z } from 'zod';
import { readJsonFile, writeFileDurably } from './audio-files.js';
import { DEPOSIT_REASONS } from './message-sidecar.js';
import type { DepositReason } from './types.js';

export interface RecordingSidecar {
  /** The mailbox the message is for (number or alias). */
  mailbox: string;
  from: string;
  fromName: string;
  reason: DepositReason;
  urgent: boolean;
  /** When the caller started speaking, ms since the epoch. */
  receivedAt: number;
  /**
   * The deposit's minimum length when recording started (voicemail.minMessageMs): a message shorter than this
   * is not kept, after a crash as on a hang-up. Absent in sidecars written before it existed: 1000 then.
   */
  minMs?: number;
}

const schema = z.object({
  mailbox: z.string().min(1),
  from: z.string(),
  fromName: z.string(),
  reason: z.enum(DEPOSIT_REASONS).catch('other'),
  urgent: z.boolean(),
  receivedAt: z.number().int().nonnegative(),
  minMs: z.number().int().nonnegative().optional(),
});

/** `<tmp>/<name>.json` for `<tmp>/<name>.wav`. */
export function recordingSidecarPath(wavPath: string): string {
  return wavPath.replace(/\.wav$/i, '') + '.json';
}

/**
 * Writes (or rewrites, e.g. when the caller marks the message urgent) the sidecar of a recording, durably:
 * resolved once it is on disk. `write` does the durable write (default writeFileDurably, async fs); the
 * voicemail deposit passes the recording disk thread's (media/disk-thread.ts), off the thread that paces RTP.
 */
export async function writeRecordingSidecar(wavPath: string, meta: RecordingSidecar, write: (path: string, data: string) => Promise<void> = writeFileDurably): Promise<void> {
  await write(recordingSidecarPath(wavPath), JSON.stringify(meta));
}

/** The sidecar of a recording; undefined when it is missing or unreadable. */
export async function readRecordingSidecar(wavPath: string): Promise<RecordingSidecar | undefined> {
  const parsed = schema.safeParse(await readJsonFile(recordingSidecarPath(wavPath)));
  return parsed.success ? parsed.data : undefined;
}
