/**
 * The capacity bench's `--app voicemail` mode (media-capacity.ts): the calls leave messages through the real
 * voicemail service, as a PBX forwards callers to it (issue 13: what a user comparing with Asterisk's
 * app_voicemail measures), instead of the benchmark app's recordings.
 *
 * - provisionMailboxes: one mailbox per call (27000, 27001, ...: N*waves of them, each deposited into once),
 *   created in one import before the server starts (one PIN hash shared: hashing thousands would be the set-up).
 * - writeMailboxList: SIPp's -inf file, one mailbox per call in order; sipp-scenarios/uac-capacity-deposit.xml
 *   puts it in the Diversion (reason=no-answer: the system's unavailable greeting).
 * - depositGreetingMs: how long the caller hears "the person at extension 2 7 0 0 0 is not available ..."
 *   and the beep, from the prompt files, so SIPp starts talking after the beep (its -d pause).
 * - startMwiSink: the PBX's MWI target (the config's pbx mwi.targets): answers every unsolicited NOTIFY 200 and
 *   counts them per mailbox, so the lamp path (the front door's NOTIFY with --workers) is part of the load.
 * - checkDeposits: reads the store after the run: exactly one message per mailbox, from the bench's caller,
 *   reason no-answer, its WAV complete (recording-check.ts); and no file left in the store's tmp/ or its
 *   per-process folders tmp/pid-<pid>-<start>/ (store/owner.ts; the empty folders may stay): a recording whose
 *   deposit failed would wait there for repair at the next start, which opening the store would run, so tmp/
 *   is read first.
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, writeFileSync, type Dirent } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../src/config/schema.js';
import { systemGreeting } from '../src/apps/voicemail/greeting.js';
import { createSay } from '../src/prompts/say.js';
import { openConfiguredStore } from '../src/store/open.js';
import { hashPin } from '../src/store/pin.js';
import { storeLayout } from '../src/store/layout.js';
import type { Mailbox } from '../src/store/types.js';
import { readRecording } from '../test/helpers/audio-analysis.js';
import { okFor } from '../test/helpers/raw-peer.js';
import { checkRecording, CompletenessTally, type CompletenessFigures } from './recording-check.js';

export const FIRST_MAILBOX = 27000;
/** The caller's number in uac-capacity-deposit.xml's From (no mailbox has it: not the owner calling in). */
export const BENCH_CALLER = '39000';
/** The beep that starts the recording (call.ts record). */
const BEEP_MS = 400;

export function mailboxNumbers(count: number): string[] {
  return Array.from({ length: count }, (_, i) => String(FIRST_MAILBOX + i));
}

export async function provisionMailboxes(config: Config, numbers: readonly string[]): Promise<void> {
  const store = await openConfiguredStore(config);
  try {
    const pinHash = await hashPin('2580');
    await store.importMailboxes(numbers.map((number) => ({ number, pinHash, fields: { name: `Bench ${number}` } })));
  } finally {
    await store.close();
  }
}

/** SIPp's -inf file: SEQUENTIAL, call i takes line i (field0: the mailbox). */
export function writeMailboxList(numbers: readonly string[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'capacity-mailboxes-')), 'mailboxes.csv');
  writeFileSync(file, ['SEQUENTIAL', ...numbers.map((n) => `${n};`)].join('\n') + '\n');
  return file;
}

/** The longest unavailable greeting among `numbers` plus the beep, ms (en-US prompts, as the server plays). */
export async function depositGreetingMs(numbers: readonly string[]): Promise<number> {
  const prompts = fileURLToPath(new URL('../prompts/en-US/', import.meta.url));
  const say = createSay('en-US');
  const lengths = new Map<string, number>();
  let longest = 0;
  for (const number of numbers) {
    const mailbox = { number, greetings: {} } as Mailbox;
    let ms = BEEP_MS;
    for (const item of systemGreeting(mailbox, false, say, false).items) {
      if (typeof item !== 'string') throw new Error(`unexpected greeting item ${JSON.stringify(item)}`);
      if (!lengths.has(item)) lengths.set(item, (await readRecording(join(prompts, `${item}.wav`))).durationMs);
      ms += lengths.get(item)!;
    }
    longest = Math.max(longest, ms);
  }
  return longest;
}

/**
 * The NOTIFYs received (distinct Call-IDs: retransmissions once), and the mailboxes whose lamp one lit
 * (Messages-Waiting: yes; with mwi.resendOnStart every mailbox is also announced, unlit, at start).
 */
export interface MwiFigures {
  notifies: number;
  lit: number;
}

export async function startMwiSink(): Promise<{ port: number; stop(): MwiFigures }> {
  const socket = createSocket('udp4');
  const seen = new Set<string>();
  const lit = new Set<string>();
  socket.on('message', (data, from) => {
    const text = data.toString('latin1');
    if (!text.startsWith('NOTIFY ')) return;
    seen.add(/^Call-ID:\s*(.*)$/im.exec(text)?.[1]?.trim() ?? text);
    const mailbox = /^NOTIFY sips?:([^@;>]+)@/.exec(text)?.[1];
    if (mailbox && /^Messages-Waiting:\s*yes/im.test(text)) lit.add(mailbox);
    socket.send(Buffer.from(okFor(text), 'latin1'), from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    stop: () => {
      socket.close();
      return { notifies: seen.size, lit: lit.size };
    },
  };
}

export async function checkDeposits(config: Config, numbers: readonly string[]): Promise<CompletenessFigures> {
  const tally = new CompletenessTally();
  const left = filesUnder(storeLayout(config.storage.dir).tmpDir);
  if (left.length > 0) tally.problem(`${left.length} files left in the store's tmp/ (deposits that failed), e.g. ${left[0]}`);
  const store = await openConfiguredStore(config);
  try {
    for (const number of numbers) {
      const messages = await store.listMessages(number);
      if (messages.length !== 1) tally.problem(`mailbox ${number}: ${messages.length} messages, expected 1`);
      for (const m of messages) {
        const wrong = m.from !== BENCH_CALLER || m.reason !== 'no-answer' ? `from ${m.from}, reason ${m.reason}` : undefined;
        tally.add(`mailbox ${number} message ${m.id}`, await checkRecording(m.audioPath), wrong);
      }
    }
  } finally {
    await store.close();
  }
  return tally.result();
}

/** The files in `dir` and in its folders (tmp/'s per-process folders), as paths relative to `dir`. */
function filesUnder(dir: string): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)).map((f) => join(e.name, f)) : [e.name]));
}
