/**
 * The voicemail deposit's own files (apps/voicemail/deposit.ts) go through the recording disk thread
 * (media/disk-thread.ts), not as fs requests from the thread that paces RTP: the tmp folder's mkdir, the
 * recording sidecar's durable write, the removal of a take too short to keep and of the sidecar once the
 * message is stored. And the crash-safety promise still holds: the sidecar is on disk, whole, before the
 * recording starts.
 *
 * A scripted caller (test/helpers/scripted-call.ts: it writes its recordings itself, on the main thread; those
 * requests are the test's and are not counted) and a store that checks what it is given. Every async fs
 * request made on the main thread is seen by an async_hooks init (FSREQCALLBACK, FSREQPROMISE); the ones
 * whose stack is not the scripted caller's must be none.
 * Does not cover: the real Call and store (test/integration/vm-deposit.test.ts), the disk thread itself
 * (media-disk-thread.test.ts).
 */
import { createHook } from 'node:async_hooks';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDeposit } from '../../src/apps/voicemail/deposit.js';
import type { VoicemailContext } from '../../src/apps/voicemail/context.js';
import type { Call, RecordRequest } from '../../src/call/call.js';
import { CallEndedError } from '../../src/call/call.js';
import { recordingDisk } from '../../src/media/disk-thread.js';
import { createSay } from '../../src/prompts/say.js';
import { recordingSidecarPath } from '../../src/store/recording-sidecar.js';
import type { Mailbox, MessageRecord, NewMessage } from '../../src/store/types.js';
import { ScriptedCall } from '../helpers/scripted-call.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmpilot-deposit-files-'));
  await recordingDisk().ready();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Stacks of the async fs requests made on this thread while `run` runs, except the scripted caller's. */
async function fsRequestsDuring(run: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const hook = createHook({
    init(_id, type) {
      if (type !== 'FSREQCALLBACK' && type !== 'FSREQPROMISE') return;
      const stack = new Error().stack ?? '';
      if (!stack.includes('scripted-call')) seen.push(`${type}\n${stack}`);
    },
  });
  hook.enable();
  try {
    await run();
  } finally {
    hook.disable();
  }
  return seen;
}

describe('leaving a message', () => {
  it('MUST make its folder, sidecar and removals in the disk thread, the sidecar durable before the recording starts', async () => {
    const tmp = join(dir, 'tmp', 'pid-1-1');
    const deposited: NewMessage[] = [];
    const sidecarsAtRecordStart: unknown[] = [];
    const store = {
      tmpDir: tmp,
      hasRoom: async () => true,
      deposit: async (m: NewMessage): Promise<MessageRecord> => {
        deposited.push(m);
        return { ...m, id: 'm1', folder: 'new', heard: false, audioPath: m.audioFile } as MessageRecord;
      },
    };
    const ctx = {
      logger: pino({ level: 'silent' }),
      store,
      config: { minMessageMs: 1000, maxMessageS: 60, silenceS: 5, reviewMenu: false },
      say: createSay('en-US'),
      attendantPilots: [],
    } as unknown as VoicemailContext;
    // '~': the first take hears nothing (too short: discarded, "try again"); the second is 2 s, ended by
    // silence ('.': no key after it), and stored.
    const call = new ScriptedCall('~.', { recordMs: 2000 });
    const record = call.record.bind(call);
    call.record = async (request: RecordRequest) => {
      const sidecar = recordingSidecarPath(request.path);
      sidecarsAtRecordStart.push(existsSync(sidecar) ? JSON.parse(readFileSync(sidecar, 'utf8')) : 'missing');
      return record(request);
    };
    const callRecord = { reached: () => undefined, messageLeft: () => undefined, transferredTo: () => undefined };
    Object.assign(call, { callRecord });
    const mailbox = { number: '27000', greetings: {} } as Mailbox;

    const requests = await fsRequestsDuring(async () => {
      await runDeposit(call as unknown as Call, ctx, { mailbox, reason: 'no-answer', caller: { number: '27001', name: 'Bob', asserted: false, anonymous: false } }).catch((err: unknown) => {
        if (!(err instanceof CallEndedError)) throw err;
      });
    });

    expect(requests).toEqual([]);
    expect(call.recorded).toHaveLength(2);
    expect(sidecarsAtRecordStart).toEqual([
      expect.objectContaining({ mailbox: '27000', from: '27001', fromName: 'Bob', reason: 'no-answer', minMs: 1000 }),
      expect.objectContaining({ mailbox: '27000', from: '27001', fromName: 'Bob', reason: 'no-answer', minMs: 1000 }),
    ]);
    expect(deposited).toEqual([expect.objectContaining({ mailbox: '27000', audioFile: call.recorded[1], durationMs: 2000 })]);
    // The short take's recording and sidecar are gone, and the stored one's sidecar: only its audio is left
    // (the store here is a stand-in that does not take it over), and no sidecar's .part.
    expect(await readdir(tmp)).toEqual([call.recorded[1]!.split('/').pop()]);
  });
});
