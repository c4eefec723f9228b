/**
 * The mailbox owner's session (src/apps/voicemail/login.ts and what it runs) driven by a scripted caller
 * (test/helpers/scripted-call.ts: the Call API's contract without SIP or RTP) over the real SQLite store in
 * a temporary folder.
 *
 * Covers: the first-login tutorial (name, greeting, the PIN change that cannot be skipped, resumed at the
 * PIN step after a hang-up); the PIN policy and the twice-entered PIN; an unknown mailbox is asked its PIN
 * like a real one; three silences at a menu end the call; undoing a delete (restore) until the call ends;
 * '#' and '*' moving three seconds within a message (played from an offset) and a message played to its end
 * moving to saved, heard; forwarding with a recorded introduction (one message: intro, pause, original) and
 * without; reply to a sender who has a mailbox; call back allowed only to a mailbox; the temporary greeting
 * (record with an end in days, delete); the PIN change in mailbox options; the summary and envelope
 * sentences (time zone, today / yesterday, urgent, unknown caller).
 * Does not cover: the real Call, SIP and RTP, and the timing of keys (test/integration/vm-retrieval.test.ts
 * runs log-in, listen, save, delete and lock-out with SIPp), the deposit side (deposit.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CallEndedError } from '../../src/call/call.js';
import type { VoicemailContext } from '../../src/apps/voicemail/context.js';
import { loginAndServe } from '../../src/apps/voicemail/login.js';
import { envelopeItems, summaryItems } from '../../src/apps/voicemail/phrases.js';
import { concatWav } from '../../src/apps/voicemail/wav-concat.js';
import { parseConfig } from '../../src/config/load.js';
import { readWavFile } from '../../src/media/wav.js';
import { createSay } from '../../src/prompts/say.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import type { MessageRecord } from '../../src/store/types.js';
import { pinVerdict } from '../helpers/pin-check.js';
import { ScriptedCall } from '../helpers/scripted-call.js';

const TONES = join(import.meta.dirname, '..', 'fixtures', 'audio', 'tones-3s.wav');
const say = createSay('en-US');
const NOW = Date.UTC(2025, 2, 5, 15, 0); // Wednesday 5 March 2025, 10:00 in New York

let dir: string;
let store: SqliteStore;
let ctx: VoicemailContext;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vm-flow-'));
  store = await openSqliteStore(join(dir, 'data'));
  const config = parseConfig('voicemail: { lockAfter: 5, timeZone: America/New_York }', dir);
  ctx = {
    store,
    config: config.voicemail,
    say,
    logger: pino({ level: 'silent' }),
    attendantPilots: [],
    voicemailPilots: ['8000'],
    now: () => NOW,
  };
  await store.createMailbox({ number: '27000', name: 'Alice Example', pin: '1357' });
  await store.createMailbox({ number: '27001', name: 'Bob Example', pin: '1357' });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Alice has been through the tutorial; her PIN is 2468. */
async function setUp(): Promise<void> {
  await store.setPin('27000', '2468');
  await store.updateMailbox('27000', { setupDone: true });
}

async function deposit(from: string, extra: Partial<Parameters<SqliteStore['deposit']>[0]> = {}): Promise<MessageRecord> {
  return store.deposit({ mailbox: '27000', from, fromName: '', durationMs: 3000, urgent: false, reason: 'no-answer', audioFile: TONES, keepAudioFile: true, receivedAt: NOW - 3_600_000, ...extra });
}

/** Runs Alice's log-in from her own phone with `script`; the session ends by goodbye or hang-up. */
async function run(script: string, options: { recordMs?: number; transferOk?: boolean } = {}, login: 'owner' | 'pilot' = 'owner'): Promise<ScriptedCall> {
  const call = new ScriptedCall(script, options);
  const mailbox = login === 'owner' ? await store.findMailbox('27000') : undefined;
  await expect(loginAndServe(call, ctx, mailbox ? { mailbox, ownerCalling: true } : {})).rejects.toBeInstanceOf(CallEndedError);
  expect(call.ended).toBe(true);
  return call;
}

describe('first log-in: the tutorial', () => {
  it('records the name and the greeting, then MUST change the PIN; the next log-in goes straight to the menu', async () => {
    const call = await run('1357#' + '1' + '1' + '2468#2468#' + '#');
    const m = (await store.findMailbox('27000'))!;
    expect(m.setupDone).toBe(true);
    expect(m.mustChangePin).toBe(false);
    expect(Object.keys(m.greetings).sort()).toEqual(['name', 'unavailable']);
    expect((await readWavFile(m.greetings.name!)).samples.length).toBe(16000);
    expect(call.askedInOrder(['tutorial_intro', 'record_name', 'name_saved', 'record_greeting', 'greeting_saved', 'tutorial_pin', 'enter_new_pin', 'reenter_new_pin', 'pin_changed', 'you_have'])).toBe(true);
    expect(await pinVerdict(store, '27000', '2468')).toBe('ok');

    const again = await run('2468#' + '#');
    expect(again.asked).not.toContain('tutorial_intro');
    expect(again.asked).not.toContain('enter_new_pin');
  });

  it('a hang-up at the PIN step leaves mustChangePin set, and the next log-in resumes at the PIN step', async () => {
    await run('1357#11');
    let m = (await store.findMailbox('27000'))!;
    expect(m.setupDone).toBe(true);
    expect(m.mustChangePin).toBe(true);

    const call = await run('1357#.');
    expect(call.asked).toContain('tutorial_pin');
    expect(call.asked).not.toContain('tutorial_intro');
    expect(call.asked).not.toContain('record_name');
    // The PIN step offers no way round it: the caller's silence is "no input", and the PIN is asked again.
    expect(call.askedInOrder(['enter_new_pin', 'no_input', 'enter_new_pin'])).toBe(true);
    m = (await store.findMailbox('27000'))!;
    expect(m.mustChangePin).toBe(true);
    expect(await pinVerdict(store, '27000', '1357')).toBe('ok');
  });

  it('a cancelled name recording is skipped, the PIN change is not', async () => {
    const call = await run('1357#' + '*' + '1' + '2468#2468#' + '#');
    const m = (await store.findMailbox('27000'))!;
    expect(Object.keys(m.greetings)).toEqual(['unavailable']);
    expect(m.mustChangePin).toBe(false);
    expect(call.recorded).toHaveLength(2);
  });

  it('MUST refuse a PIN against the policy (a run, the mailbox number) and two entries that differ; three failures end the call', async () => {
    await store.updateMailbox('27000', { setupDone: true });
    const call = await run('1357#' + '1234#' + '27000#' + '2468#2469#');
    expect(call.askedInOrder(['pin_not_allowed', 'pin_not_allowed', 'pins_do_not_match', 'goodbye'])).toBe(true);
    expect((await store.findMailbox('27000'))!.mustChangePin).toBe(true);
    expect(await pinVerdict(store, '27000', '1357')).toBe('ok');
  });

  it('a recording with nothing in it is asked for again', async () => {
    const call = await run('1357#' + '~' + '1' + '1' + '2468#2468#' + '#');
    expect(call.askedInOrder(['record_name', 'recording_not_heard', 'record_name', 'name_saved'])).toBe(true);
  });
});

describe('log-in', () => {
  it('asks an unknown mailbox its PIN too, and answers it like a wrong PIN (no mailbox is revealed)', async () => {
    const call = await run('99999#1111#' + '27000#0000#' + '27000#0000#', {}, 'pilot');
    expect(call.askedInOrder(['welcome', 'enter_mailbox', 'enter_pin', 'login_incorrect', 'enter_mailbox', 'enter_pin', 'login_incorrect', 'enter_mailbox', 'enter_pin', 'login_incorrect', 'too_many_attempts', 'goodbye'])).toBe(true);
    expect(call.asked).not.toContain('mailbox_unknown');
    expect((await store.findMailbox('27000'))!.failedLogins).toBe(2);
  });

  it('ends the call after three silences at the main menu', async () => {
    await setUp();
    const call = await run('2468#...');
    expect(call.asked.filter((a) => a === 'opt_listen')).toHaveLength(3);
    expect(call.asked[call.asked.length - 1]).toBe('goodbye');
  });
});

describe('listening', () => {
  beforeEach(setUp);

  it('undoes a delete until the call ends: previous, then delete again restores the message', async () => {
    const first = await deposit('5550101', { receivedAt: NOW - 7_200_000 });
    await deposit('5550102');
    const call = await run('2468#' + '1' + '7' + '4' + '7');
    expect(call.askedInOrder(['message_deleted', 'deleted', 'message', 'num_1', 'message_restored'])).toBe(true);
    const m = await store.getMessage(first.id);
    expect(m?.folder).toBe('new');
  });

  it('moves three seconds with # and *, playing from the offset, and a message played to its end is heard and saved', async () => {
    const long = join(dir, 'long.wav');
    const ms = await concatWav([TONES, TONES, TONES], long, 500);
    const msg = await deposit('5550101', { audioFile: long, durationMs: ms });
    // Envelope skipped with '#', then '#' '#' '*' during the audio, then the rest plays to the end.
    const call = await run('2468#' + '1' + '#' + '#' + '#' + '*' + '.');
    const offsets = call.offsetsOf(msg.audioPath);
    expect(offsets).toHaveLength(4);
    [0, 3000, 6000, 3000].forEach((want, i) => expect(Math.abs(offsets[i]! - want), `offset ${i}: ${offsets[i]}`).toBeLessThan(50));
    const after = (await store.getMessage(msg.id))!;
    expect(after).toMatchObject({ folder: 'saved', heard: true });
  });

  it('6 (next) counts as hearing the message: heard, moved to saved; 4 (previous) does not', async () => {
    const msg = await deposit('5550101');
    await run('2468#' + '1' + '4' + '!');
    expect((await store.getMessage(msg.id))!).toMatchObject({ folder: 'new', heard: false });
    await run('2468#' + '1' + '6');
    expect((await store.getMessage(msg.id))!).toMatchObject({ folder: 'saved', heard: true });
  });

  it('forwards with a recorded introduction: one message, introduction, pause, then the original', async () => {
    const msg = await deposit('5550101', { urgent: true });
    await run('2468#' + '1' + '8' + '27001#' + '1' + '1');
    const [fwd] = await store.listMessages('27001');
    expect(fwd).toMatchObject({ from: '27000', fromName: 'Alice Example', reason: 'forwarded', forwardedFrom: '27000', urgent: true, durationMs: 2000 + 500 + 3000 });
    expect((await readWavFile(fwd!.audioPath)).samples.length).toBe(5.5 * 8000);
    // The original stays where it was.
    expect((await store.getMessage(msg.id))?.mailbox).toBe('27000');
  });

  it('forwards without an introduction as a copy of the audio', async () => {
    const msg = await deposit('5550101');
    const call = await run('2468#' + '1' + '8' + '27001#' + '2');
    const [fwd] = await store.listMessages('27001');
    expect(fwd).toMatchObject({ from: '27000', reason: 'forwarded', durationMs: 3000 });
    expect(fwd!.audioPath).not.toBe(msg.audioPath);
    expect((await readWavFile(fwd!.audioPath)).samples.length).toBe(3 * 8000);
    expect(call.asked).toContain('message_sent');
  });

  it('replies into the mailbox of a sender who has one', async () => {
    await deposit('27001');
    await run('2468#' + '1' + '3' + '1' + '1');
    const [reply] = await store.listMessages('27001');
    expect(reply).toMatchObject({ from: '27000', fromName: 'Alice Example', durationMs: 2000 });
  });

  it('calls back only a sender who has a mailbox here', async () => {
    await deposit('5550101');
    const outside = await run('2468#' + '1' + '3' + '2');
    expect(outside.transfers).toEqual([]);
    expect(outside.asked).toContain('sender_unreachable');

    await deposit('27001', { receivedAt: NOW - 60_000 });
    const inside = await run('2468#' + '2' + '1' + '6' + '3' + '2', { transferOk: true });
    expect(inside.transfers).toEqual(['27001']);
  });
});

describe('mailbox options', () => {
  beforeEach(setUp);

  it('records a temporary greeting that ends after the days keyed in, and deletes it', async () => {
    await run('2468#' + '0' + '4' + '1' + '1' + '7#' + '*' + '*' + '#');
    let m = (await store.findMailbox('27000'))!;
    expect(m.greetings.temporary).toBeDefined();
    expect(m.temporaryGreetingUntil).toBe(NOW + 7 * 86_400_000);

    const call = await run('2468#' + '0' + '4' + '3');
    expect(call.asked).toContain('temporary_greeting_on');
    m = (await store.findMailbox('27000'))!;
    expect(m.greetings.temporary).toBeUndefined();
    expect(m.temporaryGreetingUntil).toBeUndefined();
  });

  it('changes the PIN (twice, policy checked)', async () => {
    await run('2468#' + '0' + '5' + '1111#' + '8642#8642#' + '*' + '#');
    expect(await pinVerdict(store, '27000', '8642')).toBe('ok');
  });

  it('records the busy greeting with listen, re-record, accept', async () => {
    const call = await run('2468#' + '0' + '2' + '2' + '3' + '1');
    expect(call.recorded).toHaveLength(2);
    expect((await store.findMailbox('27000'))!.greetings.busy).toBeDefined();
    expect(call.asked.some((a) => a.startsWith(`file:${call.recorded[0]}`))).toBe(true);
  });
});

describe('sentences', () => {
  it('summary: "you have two new messages, one urgent, and one saved message"', () => {
    expect(summaryItems(say, { new: 2, saved: 1, urgentNew: 1, urgentSaved: 0 }).filter((i) => typeof i === 'string')).toEqual([
      'you_have', 'num_2', 'new', 'messages', 'num_1', 'urgent', 'and', 'num_1', 'saved', 'message',
    ]);
    expect(summaryItems(say, { new: 0, saved: 0, urgentNew: 0, urgentSaved: 0 }).filter((i) => typeof i === 'string')).toEqual([
      'you_have', 'no', 'new', 'messages', 'and', 'no', 'saved', 'messages',
    ]);
  });

  const message = (over: Partial<MessageRecord>): MessageRecord => ({
    id: 'x', mailbox: '27000', folder: 'new', from: '27001', fromName: '', receivedAt: NOW, durationMs: 1000, urgent: false, heard: false, reason: 'busy', audioPath: '/x.wav', ...over,
  });

  it('envelope: urgent, place, "today" and the time in the configured zone, the number digit by digit', () => {
    const items = envelopeItems(say, message({ urgent: true, receivedAt: NOW - 15 * 60_000 }), { index: 1, deleted: false, timeZone: 'America/New_York', now: NOW });
    expect(items.filter((i) => typeof i === 'string')).toEqual([
      'urgent', 'message', 'num_2', 'received', 'today', 'at', 'num_9', 'num_40', 'num_5', 'am', 'from', 'num_2', 'num_7', 'num_0', 'num_0', 'num_1',
    ]);
  });

  it('envelope: an older day is said as a date after "on"; an anonymous caller is "an unknown caller"', () => {
    const items = envelopeItems(say, message({ from: '', receivedAt: Date.UTC(2025, 2, 3, 20, 0) }), { index: 0, deleted: true, timeZone: 'Europe/Stockholm', now: NOW });
    expect(items.filter((i) => typeof i === 'string')).toEqual([
      'deleted', 'message', 'num_1', 'received', 'on', 'day_monday', 'month_march', 'ord_3', 'at', 'num_9', 'oclock', 'pm', 'from_unknown_caller',
    ]);
  });

  it('envelope: the sender\'s recorded name instead of the number', () => {
    const items = envelopeItems(say, message({}), { index: 0, deleted: false, timeZone: 'UTC', now: NOW, senderNameFile: '/names/27001.wav' });
    expect(items.slice(-2)).toEqual(['from', { file: '/names/27001.wav' }]);
  });
});
