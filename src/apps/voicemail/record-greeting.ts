/**
 * Recording something the owner keeps (a greeting, their name, a reply, a forwarding introduction):
 *
 *   "please record ... after the tone" ─► beep, record ('#', silence or the limit ends it)
 *        │ nothing heard ──► "I did not hear anything" ─► again (MAX_TRIES, then give up)
 *        ▼
 *   review menu: accept ─► the file | listen ─► hear it, menu again | re-record ─► again | cancel ─► nothing
 *
 * The file is recorded into store.tmpDir; the caller of recordWithReview hands it to the store (setGreeting,
 * deposit), which takes it over. A recording that is not accepted (cancel, hang-up, too many tries) is
 * deleted here: unlike a message, a greeting cut off by a hang-up is not kept.
 */
import { rm } from 'node:fs/promises';
import { MAX_TRIES, chooseAction } from './menu.js';
import type { GreetingKind } from '../../store/types.js';
import { refresh, tmpWav, type Session } from './session.js';

export interface RecordingRequest {
  /** The prompt that asks for the recording ("please record your greeting after the tone"). */
  prompt: string;
  /** Longest recording, ms. */
  maxMs: number;
  /** Shorter than this counts as nothing heard, ms. Default 1000. */
  minMs?: number;
  /** Silence that ends the recording, ms. Default 3000. */
  silenceMs?: number;
}

export interface Recording {
  /** A WAV in store.tmpDir, now the caller's to hand over (or delete). */
  path: string;
  durationMs: number;
}

/** Records with listen / accept / re-record; undefined when the owner cancels or nothing usable came. */
export async function recordWithReview(s: Session, request: RecordingRequest): Promise<Recording | undefined> {
  const { call } = s;
  let path: string | undefined;
  const discard = async (): Promise<void> => {
    if (path !== undefined) await rm(path, { force: true }).catch(() => undefined);
    path = undefined;
  };
  try {
    for (let failures = 0; failures < MAX_TRIES; ) {
      await call.play([request.prompt], { bargeIn: true });
      path = tmpWav(s.ctx, 'recording');
      const outcome = await call.record({
        path,
        maxMs: request.maxMs,
        silenceMs: request.silenceMs ?? 3000,
        minMs: request.minMs ?? 1000,
        beep: true,
        onHangup: 'discard',
      });
      if (outcome.tooShort) {
        await discard();
        failures++;
        await call.play(['recording_not_heard'], { bargeIn: true });
        continue;
      }
      const recording = { path, durationMs: outcome.durationMs };
      for (;;) {
        const action = await chooseAction(s, 'review');
        if (action === 'accept') {
          path = undefined; // handed over
          return recording;
        }
        if (action === 'listen') {
          await call.play([{ file: recording.path }], { bargeIn: true });
          continue;
        }
        if (action === 'cancel') {
          await discard();
          return undefined;
        }
        break; // rerecord
      }
      await discard();
    }
    return undefined;
  } finally {
    await discard();
  }
}

/** Which prompt asks for each kind of greeting (the owner has just chosen which), and the longest each may be. */
const GREETINGS: Record<GreetingKind, { prompt: string; maxMs: number; saved: string }> = {
  unavailable: { prompt: 'record_greeting', maxMs: 120_000, saved: 'greeting_saved' },
  busy: { prompt: 'record_greeting', maxMs: 120_000, saved: 'greeting_saved' },
  name: { prompt: 'record_name', maxMs: 10_000, saved: 'name_saved' },
  temporary: { prompt: 'record_greeting', maxMs: 120_000, saved: 'greeting_saved' },
};

/**
 * Records a greeting (or the name) with review and stores it ("your greeting has been saved"). Returns
 * whether one was stored. `until` is the temporary greeting's end (ms since epoch; absent: until deleted).
 */
export async function recordGreeting(s: Session, kind: GreetingKind, until?: () => Promise<number | undefined>): Promise<boolean> {
  const spec = GREETINGS[kind];
  const recording = await recordWithReview(s, { prompt: spec.prompt, maxMs: spec.maxMs });
  if (!recording) return false;
  try {
    const end = until ? await until() : undefined;
    await s.ctx.store.setGreeting(s.mailbox.number, kind, recording.path, end);
  } finally {
    // The store moved it; left over only when something failed before.
    await rm(recording.path, { force: true }).catch(() => undefined);
  }
  await refresh(s);
  s.log.info({ kind, durationMs: recording.durationMs }, 'greeting recorded');
  await s.call.play([spec.saved], { bargeIn: true });
  return true;
}
