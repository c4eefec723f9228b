/**
 * Leaving a message, end to end: the real server with the voicemail app (runVoicemail over the SQLite store),
 * SIPp as the PBX forwarding callers to the pilot 8000 over UDP, one call per test.
 *
 * Covers:
 * - who the call is for: Diversion busy and no-answer (each plays its own recorded greeting: the app logs the
 *   greeting it chose), History-Info with an RFC 4458 cause, a Diversion naming a DID alias of the mailbox;
 * - who called: number and display name from From; an anonymous caller (anonymous@anonymous.invalid) stored
 *   as from '';
 * - the message: stored in the mailbox's new folder with the reason; its audio is what SIPp streamed (every
 *   tone of tones-3s in its place); no recording or sidecar left in the store's tmp folder; onDeposit called;
 * - the review menu: '4' marks the message urgent, '1' sends it;
 * - a caller who hangs up mid-recording keeps the message; one who says nothing twice is told the message
 *   is too short, may try once more, and leaves nothing behind;
 * - '0' over the greeting: a REFER to the attendant pilot (no operator configured); the PBX's NOTIFY 200 and
 *   vmpilot's BYE end the call, and no message is taken;
 * - a full mailbox takes no message; a diversion from a number with no mailbox is told so; both hang up.
 * Does not cover: a failed transfer to the operator, '*' to log in (login has its own tests), the crash
 * repair of tmp recordings (store tests), SIP parsing of the headers (unit tests), TCP/TLS (the app does not
 * depend on the transport).
 *
 * SIPp runs from the repository root (audio paths in the scenarios are relative to it), as npm test does.
 */
import { copyFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runVoicemail } from '../../src/apps/voicemail/index.js';
import type { VoicemailContext } from '../../src/apps/voicemail/context.js';
import type { VoicemailConfig } from '../../src/config/schema.js';
import { createSay } from '../../src/prompts/say.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import type { MessageRecord } from '../../src/store/types.js';
import { compareTones, dominantHz, findTones, LONG_25S, readRecording, TONES_3S, audioFixture } from '../helpers/audio-analysis.js';
import { runSipp } from '../helpers/sipp.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/test-server.js';
import { watchApp } from '../helpers/watched-app.js';

const CONFIG: VoicemailConfig = {
  diversion: 'top',
  maxMessageS: 60,
  silenceS: 5,
  minMessageMs: 1000,
  reviewMenu: false,
  lockAfter: 10,
  pinBackoff: { sourceAfter: 3, sharedSourceAfter: 20, sharedSourceWindowMinutes: 10, firstDelayS: 2, maxDelayS: 60, forgetMinutes: 15 },
  maxMessages: 0,
  maxMinutes: 0,
  retainNewDays: 0,
  retainSavedDays: 0,
  timeZone: 'UTC',
};

const BOB = '"Bob Smith" <sip:27001@127.0.0.1>';
const ANONYMOUS = '"Anonymous" <sip:anonymous@anonymous.invalid>';

let ts: TestServer;
let store: SqliteStore;
/** Log lines of the voicemail app (its logger is the context's). */
let logs: Record<string, unknown>[] = [];
let deposited: MessageRecord[] = [];
/** The app under test, watched for its runs and for errors other than CallEndedError. */
const watched = watchApp((c) => runVoicemail(c, ctx));

const ctx: VoicemailContext = {
  store: undefined as unknown as SqliteStore,
  config: CONFIG,
  say: createSay('en-US'),
  logger: pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    }),
  ),
  attendantPilots: ['8001'],
  voicemailPilots: ['8000'],
  onDeposit: (m) => deposited.push(m),
};

/** Runs one SIPp call to the pilot 8000; fails with SIPp's output when SIPp fails. Waits for the app to end. */
async function call(scenario: string, from: string, header: string, extra: string[] = []): Promise<void> {
  const runsBefore = watched.runs;
  const result = await runSipp({
    scenario,
    transport: 'udp',
    port: ts.port('udp'),
    service: '8000',
    timeoutS: 30,
    extra: ['-key', 'vm_from', from, '-key', 'vm_header', header, ...extra],
  });
  if (result.code !== 0) throw new Error(`SIPp ${scenario} failed (exit ${result.code}):\n${result.stderr}\n${result.stdout.slice(-3000)}`);
  await waitFor(() => watched.runs > runsBefore && ts.server.calls.size === 0, 'the voicemail app to finish');
  expect(watched.errors).toEqual([]);
}

const logged = (msg: string): Record<string, unknown>[] => logs.filter((l) => l.msg === msg);

async function newMessages(mailbox: string): Promise<MessageRecord[]> {
  return store.listMessages(mailbox, 'new');
}

/** The message's audio holds every tone of tones-3s, in its place. */
async function expectTones3s(message: MessageRecord): Promise<void> {
  const { samples, durationMs } = await readRecording(message.audioPath);
  expect(Math.abs(durationMs - message.durationMs)).toBeLessThanOrEqual(1);
  const { problems } = compareTones(findTones(samples), TONES_3S, { ms: 20 });
  expect(problems).toEqual([]);
}

async function expectTmpEmpty(): Promise<void> {
  expect(await readdir(store.tmpDir)).toEqual([]);
}

describe('leaving a message (SIPp as the PBX)', () => {
  beforeAll(async () => {
    ts = await startTestServer('services: { voicemail: ["8000"], attendant: ["8001"] }', '', {
      apps: {
        voicemail: watched.app,
      },
    });
    store = await openSqliteStore(ts.dir);
    ctx.store = store;
    await store.createMailbox({ number: '27000', name: 'Alice Example', pin: '135790', aliases: ['+4687002700'] });
    await store.createMailbox({ number: '27002', name: 'Carol Full', pin: '135790' });
    await store.updateMailbox('27002', { maxMessages: 1 });
    // Recorded busy and unavailable greetings (the store takes the files over, so copies).
    for (const kind of ['busy', 'unavailable'] as const) {
      const copy = join(ts.dir, `greeting-${kind}.wav`);
      await copyFile(audioFixture('tones-3s.wav'), copy);
      await store.setGreeting('27000', kind, copy);
    }
    const filler = join(ts.dir, 'filler.wav');
    await copyFile(audioFixture('tones-3s.wav'), filler);
    await store.deposit({ mailbox: '27002', from: '1', fromName: '', durationMs: 3000, urgent: false, reason: 'busy', audioFile: filler });
  });

  afterAll(async () => {
    await ts?.stop();
    await store?.close();
  });

  beforeEach(async () => {
    logs = [];
    deposited = [];
    watched.errors = [];
    ctx.config = CONFIG;
    // Each test looks at the messages its own call left.
    for (const m of await store.listMessages('27000')) await store.setFolder(m.id, 'deleted');
    await store.purgeDeleted('27000');
  });

  it('Diversion reason=user-busy: the busy greeting, then the message from the caller with reason busy and the audio streamed', async () => {
    await call('uac-vm-deposit.xml', BOB, 'Diversion: "Alice Example" <sip:27000@127.0.0.1;user=phone>;reason=user-busy;counter=1;privacy=off');
    expect(logged('greeting').map((l) => l.greeting)).toEqual(['busy']);
    const [message, ...rest] = await newMessages('27000');
    expect(rest).toEqual([]);
    expect(message).toMatchObject({ mailbox: '27000', folder: 'new', from: '27001', fromName: 'Bob Smith', reason: 'busy', urgent: false, heard: false });
    await expectTones3s(message!);
    expect(deposited.map((m) => m.id)).toEqual([message!.id]);
    await expectTmpEmpty();
  });

  it('Diversion reason=no-answer: the unavailable greeting, reason no-answer', async () => {
    await call('uac-vm-deposit.xml', BOB, 'Diversion: <sip:27000@127.0.0.1>;reason=no-answer;counter=1');
    expect(logged('greeting').map((l) => l.greeting)).toEqual(['unavailable']);
    const [message] = await newMessages('27000');
    expect(message).toMatchObject({ reason: 'no-answer', from: '27001' });
    await expectTones3s(message!);
  });

  it('History-Info: the entry retargeted to voicemail with cause=486 is the mailbox, busy', async () => {
    await call('uac-vm-deposit.xml', BOB, 'History-Info: <sip:27000@127.0.0.1>;index=1, <sip:8000@127.0.0.1;cause=486>;index=1.1;mp=1');
    expect(logged('greeting').map((l) => l.greeting)).toEqual(['busy']);
    const [message] = await newMessages('27000');
    expect(message).toMatchObject({ reason: 'busy', from: '27001' });
    await expectTones3s(message!);
  });

  it('a Diversion in public (DID) form reaches the mailbox through its alias', async () => {
    await call('uac-vm-deposit.xml', BOB, 'Diversion: <tel:+46-8-700-2700>;reason=unconditional');
    const [message] = await newMessages('27000');
    expect(message).toMatchObject({ mailbox: '27000', reason: 'unconditional' });
    expect(logged('call for a mailbox')[0]).toMatchObject({ mailbox: '27000', via: 'diversion' });
  });

  it('an anonymous caller leaves a message stored as from an unknown caller', async () => {
    await call('uac-vm-deposit.xml', ANONYMOUS, 'Diversion: <sip:27000@127.0.0.1>;reason=no-answer');
    const [message] = await newMessages('27000');
    expect(message).toMatchObject({ from: '', fromName: '', reason: 'no-answer' });
    await expectTones3s(message!);
  });

  it("the review menu: '4' marks the message urgent, '1' sends it", async () => {
    ctx.config = { ...CONFIG, reviewMenu: true };
    await call('uac-vm-deposit-review.xml', BOB, 'Diversion: <sip:27000@127.0.0.1>;reason=no-answer');
    const [message, ...rest] = await newMessages('27000');
    expect(rest).toEqual([]);
    expect(message).toMatchObject({ urgent: true, reason: 'no-answer' });
    await expectTones3s(message!);
    await expectTmpEmpty();
  });

  it('a caller who hangs up mid-recording keeps the message', async () => {
    await call('uac-vm-deposit-hangup.xml', BOB, 'Diversion: <sip:27000@127.0.0.1>;reason=no-answer', ['-d', '3500']);
    const [message] = await newMessages('27000');
    expect(message).toBeDefined();
    expect(message!.durationMs).toBeGreaterThanOrEqual(3000);
    const { samples } = await readRecording(message!.audioPath);
    // long-25s: 440 Hz for the stream's first second, then silence, then 440 Hz again.
    const tones = findTones(samples);
    expect(tones.length).toBeGreaterThanOrEqual(2);
    expect(Math.abs(dominantHz(samples, Math.round(tones[0]!.startMs * 8) + 400, Math.round(tones[0]!.startMs * 8) + 4400) - LONG_25S.hz)).toBeLessThan(15);
    expect(tones[0]!.endMs - tones[0]!.startMs).toBeGreaterThanOrEqual(980);
    await expectTmpEmpty();
  });

  it('a recording shorter than minMessageMs is discarded: "too short", one more try, then goodbye; nothing stored', async () => {
    await call('uac-vm-too-short.xml', BOB, 'Diversion: <sip:27000@127.0.0.1>;reason=no-answer');
    const short = logged('message too short; discarded');
    expect(short).toHaveLength(2);
    for (const l of short) expect(l.durationMs as number).toBeLessThan(1000);
    expect(await newMessages('27000')).toEqual([]);
    expect(deposited).toEqual([]);
    await expectTmpEmpty();
  });

  it("'0' over the greeting transfers the caller to the attendant pilot by REFER; no message is taken", async () => {
    await call('uac-vm-operator.xml', BOB, 'Diversion: <sip:27000@127.0.0.1>;reason=no-answer');
    expect(logged('caller transferred to the operator')[0]).toMatchObject({ operator: '8001' });
    expect(await newMessages('27000')).toEqual([]);
    await expectTmpEmpty();
  });

  it('a full mailbox takes no message: it says so and hangs up, no beep', async () => {
    await call('uac-vm-hung-up-on.xml', BOB, 'Diversion: <sip:27002@127.0.0.1>;reason=no-answer');
    expect(logged('mailbox full; no message taken')).toHaveLength(1);
    expect(logged('greeting')).toEqual([]);
    expect(await store.listMessages('27002')).toHaveLength(1);
  });

  it('a diversion from a number that has no mailbox is told so and hung up on', async () => {
    await call('uac-vm-hung-up-on.xml', BOB, 'Diversion: <sip:29999@127.0.0.1>;reason=no-answer');
    expect(logged('call for numbers that have no mailbox')[0]).toMatchObject({ numbers: ['29999'] });
    expect(deposited).toEqual([]);
  });
});
