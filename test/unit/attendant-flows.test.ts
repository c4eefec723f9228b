/*
 * The attendant's flows with a scripted caller (no SIP, no RTP): runAttendant and its parts over a fake Call
 * that plays nothing and takes keys from a script, with the real SQLite store.
 *
 * Covers:
 * - the language-choice menu: each language speaks for itself, the key picks the voice for the rest of the
 *   call (its menus play that language's prompt files); no key: the first language;
 * - greetings recorded by phone: an administrator logs in (mailbox + PIN), records greeting slot 1, keeps it,
 *   and the menu plays the new recording at once; a mailbox that is not an administrator is refused without
 *   counting a failed PIN; a slot no menu plays is refused;
 * - the menu runner: 'repeat' says the menu again without counting a failure; keys typed ahead skip greetings;
 * - connect with a supervised transfer (pbx[].transfer: supervised): busy goes to the target's mailbox,
 *   answered leaves the caller bridged (the app waits for the call's end), an invalid number goes back to the
 *   menu; a refused number reaches neither REFER nor the supervised transfer.
 * Does not cover: REFER on the wire, DTMF, timing (test/integration/attendant.test.ts).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallEndedError, type Call, type CallPlayItem, type CollectOptions, type CollectResult, type PlayResult, type RecordRequest } from '../../src/call/call.js';
import { CallRecordDraft } from '../../src/call/call-record.js';
import { runAttendant, type AttendantContext } from '../../src/apps/attendant/index.js';
import { connect } from '../../src/apps/attendant/connect.js';
import type { LeaveMessage, SupervisedOutcome } from '../../src/apps/attendant/context.js';
import { slotPath } from '../../src/apps/attendant/greeting-slots.js';
import { runMenu } from '../../src/apps/attendant/menu-runner.js';
import type { AttendantSession } from '../../src/apps/attendant/session.js';
import { MailboxDirectory } from '../../src/apps/attendant/directory.js';
import type { Voice } from '../../src/apps/attendant/voice.js';
import { parse as parseYaml } from 'yaml';
import { attendantSchema, type AttendantConfig } from '../../src/config/attendant-schema.js';
import type { RecordOutcome } from '../../src/media/recorder.js';
import { buildWavHeader } from '../../src/media/wav.js';
import { createSay } from '../../src/prompts/say.js';
import { DEFAULT_PIN_BACKOFF } from '../../src/store/pin-backoff.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';

/**
 * A caller reading keys from a script: 0-9 * # a key (typed ahead: there as soon as the previous one was
 * taken), '.' silence at this collect (timeout). When the script runs out the caller hangs up.
 */
class FakeCall {
  readonly callId = 'fake';
  readonly service = { service: 'attendant' as const, number: '8001' };
  readonly sourceAddress = '127.0.0.1';
  readonly sourceKey = '127.0.0.1';
  readonly callRecord = new CallRecordDraft({ callId: 'fake', from: '', to: '8001', pilot: '8001', app: 'attendant' });
  ended = false;
  endReason: Call['endReason'] = undefined;
  /** Each play's items, flattened: prompt ids, 'file:<path>'. */
  readonly plays: string[][] = [];
  /** An anonymous caller (the PIN back-off counts the source address). */
  readonly parties = { caller: { number: '', name: '', anonymous: true, asserted: false } };
  readonly transfers: string[] = [];
  private at = 0;

  constructor(private readonly script: string) {}

  async play(items: readonly CallPlayItem[], options: { bargeIn?: boolean } = {}): Promise<PlayResult> {
    this.live();
    this.plays.push(items.flatMap((i) => (typeof i === 'string' ? [i] : 'prompt' in i ? [i.prompt] : 'file' in i ? [`file:${i.file}`] : [])));
    const next = this.script[this.at];
    if ((options.bargeIn ?? true) && next !== undefined && next !== '.') return { reason: 'digit', digit: next as '1' };
    return { reason: 'done' };
  }

  async collectDigits(options: CollectOptions = {}): Promise<CollectResult> {
    this.live();
    let digits = '';
    for (;;) {
      const key = this.script[this.at];
      if (key === undefined) {
        this.end();
        throw new CallEndedError('remote-bye');
      }
      this.at++;
      if (key === '.') return { digits, reason: 'timeout' };
      if ((options.terminators ?? '#').includes(key)) return { digits, reason: 'terminator', terminator: key };
      digits += key;
      if (digits.length >= (options.max ?? 1)) return { digits, reason: 'max' };
    }
  }

  async record(request: RecordRequest): Promise<RecordOutcome> {
    this.live();
    const samples = Buffer.alloc(16_000 * 2);
    for (let i = 0; i < samples.length / 2; i++) samples.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)), i * 2);
    await writeFile(request.path, Buffer.concat([buildWavHeader({ encoding: 'pcm16', dataBytes: samples.length }), samples]));
    return { reason: 'silence', durationMs: 2000, path: request.path, tooShort: false };
  }

  async transfer(target: string): Promise<{ ok: boolean; status: number; reason: string }> {
    this.live();
    this.transfers.push(target);
    return { ok: false, status: 486, reason: 'busy' };
  }

  async hangup(): Promise<void> {
    this.end();
  }

  flushDigits(): void {}

  whenEnded(): Promise<void> {
    return Promise.resolve();
  }

  /** Every item played, in order. */
  get heard(): string[] {
    return this.plays.flat();
  }

  private live(): void {
    if (this.ended) throw new CallEndedError(this.endReason ?? 'remote-bye');
  }

  private end(): void {
    this.ended = true;
    this.endReason ??= 'remote-bye';
  }
}

const asCall = (c: FakeCall): Call => c as unknown as Call;

/** A voice whose prompts are the given ids; items are ids (the catalogue's) or files under /p/<lang> (folders). */
function voice(lang: string, ids: string[], asFiles = false): Voice {
  const set = new Set(ids);
  return { lang, say: createSay('en-US'), has: (id) => set.has(id), item: (id) => (asFiles ? { file: `/p/${lang}/${id}.wav` } : id) };
}

const EN = voice('en-US', ['attendant_welcome', 'press', 'num_1', 'num_2', 'num_5', 'goodbye', 'invalid', 'enter_mailbox', 'enter_pin', 'login_incorrect', 'record_greeting', 'greeting_saved', 'opt_accept', 'opt_cancel', 'transfer_failed', 'extension_busy', 'returning_to_menu', 'please_hold_transfer', 'invalid_extension', 'for_this_language']);
const SV = voice('sv-SE', ['attendant_welcome', 'press', 'num_1', 'num_2', 'goodbye', 'for_this_language'], true);

const dir = mkdtempSync(join(tmpdir(), 'vmpilot-attendant-flows-'));
let store: SqliteStore;
let directory: MailboxDirectory;

/** An attendant from YAML, through its schema (prompt folders are not checked: the voices here are fakes). */
function attendant(body: string): AttendantConfig {
  return attendantSchema.parse(parseYaml(body));
}

function context(a: AttendantConfig, extra: Partial<AttendantContext> = {}): AttendantContext {
  return {
    attendants: [a],
    store,
    directory,
    logger: pino({ level: 'silent' }),
    voices: { default: EN, get: (lang) => (lang === 'en-US' ? EN : lang === 'sv-SE' ? SV : undefined) },
    greetingsDir: join(dir, 'attendant', 'greetings'),
    pinBackoff: DEFAULT_PIN_BACKOFF,
    transferMethod: () => 'refer',
    ...extra,
  };
}

async function run(call: FakeCall, ctx: AttendantContext): Promise<void> {
  await runAttendant(asCall(call), ctx).catch((err: unknown) => {
    if (!(err instanceof CallEndedError)) throw err;
  });
}

beforeAll(async () => {
  store = await openSqliteStore(join(dir, 'store'));
  directory = new MailboxDirectory(store);
  await store.createMailbox({ number: '27000', name: 'Alice Admin', pin: '135790' });
  await store.createMailbox({ number: '27001', name: 'Bob Smith', pin: '135790' });
});

afterAll(async () => {
  await store?.close();
});

describe('the language-choice menu', () => {
  const a = attendant('languages: [en-US, sv-SE]\nmenus:\n  main: { greeting: [attendant_welcome], retries: 0, default: hangup }');

  it('lets each language speak for itself, then plays the menus in the language chosen', async () => {
    const call = new FakeCall('2.');
    await run(call, context(a));
    expect(call.plays[0]).toEqual(['for_this_language', 'press', 'num_1', 'file:/p/sv-SE/for_this_language.wav', 'file:/p/sv-SE/press.wav', 'file:/p/sv-SE/num_2.wav']);
    expect(call.plays[1]).toEqual(['file:/p/sv-SE/attendant_welcome.wav']);
    expect(call.heard).toContain('file:/p/sv-SE/goodbye.wav');
  });

  it('takes the first language when the caller presses nothing', async () => {
    const call = new FakeCall('...');
    await run(call, context(a));
    expect(call.plays[2]).toEqual(['attendant_welcome']);
  });
});

describe('greetings recorded by phone', () => {
  const a = attendant(`
admins: ["27000"]
menus:
  main:
    greeting: [{ slot: 1, otherwise: [attendant_welcome] }]
    keys: { "*": admin }
    retries: 0
    default: hangup
`);

  it('an administrator records slot 1 and the menu plays it at once', async () => {
    // * admin; mailbox, PIN; slot 1; (recording); 1 keep; no further slot; back at the menu: silence.
    const call = new FakeCall('*27000#135790#1#1..');
    await run(call, context(a));
    const slot = slotPath(join(dir, 'attendant', 'greetings'), 1);
    expect(existsSync(slot)).toBe(true);
    expect(call.plays[0]).toEqual(['attendant_welcome']);
    expect(call.heard).toContain('greeting_saved');
    const menuPlays = call.plays.filter((p) => p.includes('attendant_welcome') || p.includes(`file:${slot}`));
    expect(menuPlays.map((p) => p[0])).toEqual(['attendant_welcome', `file:${slot}`]);
  });

  it('refuses a mailbox that is not an administrator, without counting a failed PIN against it', async () => {
    const call = new FakeCall('*27001#135790#27001#135790#27001#135790#.');
    await run(call, context(a));
    expect(call.heard.filter((p) => p === 'login_incorrect')).toHaveLength(3);
    expect(call.heard).not.toContain('record_greeting');
    expect((await store.findMailbox('27001'))!.failedLogins).toBe(0);
  });

  it('refuses a slot no menu plays', async () => {
    const call = new FakeCall('*27000#135790#5#.');
    await run(call, context(a));
    expect(call.heard).toContain('invalid');
    expect(call.heard).not.toContain('record_greeting');
  });
});

describe('the menu runner', () => {
  const session = (call: FakeCall) => ({ call: asCall(call), voice: EN, greetingsDir: dir, log: pino({ level: 'silent' }), interDigitMs: 1000, maxDigits: 5, findExtension: async () => undefined });
  const menu = attendant('menus:\n  main: { greeting: [attendant_welcome], keys: { "#": repeat, "1": hangup }, retries: 0, default: operator }\noperator: "27000"').menus.main!;

  it("says the menu again on 'repeat' without counting a failure", async () => {
    const call = new FakeCall('##.');
    const choice = await runMenu(session(call), menu);
    expect(choice).toEqual({ kind: 'action', action: { kind: 'operator' }, byDefault: true });
    expect(call.plays.filter((p) => p[0] === 'attendant_welcome')).toHaveLength(3);
  });

  it('takes a key typed ahead', async () => {
    const call = new FakeCall('1');
    expect(await runMenu(session(call), menu)).toEqual({ kind: 'action', action: { kind: 'hangup' }, key: '1', byDefault: false });
  });
});

describe('connect (pbx[].transfer: supervised)', () => {
  const a = attendant('extensions: ["27000-27099"]\nallowedTransfers: ["270XX"]');

  async function connectWith(outcome: SupervisedOutcome, target = '27001') {
    const call = new FakeCall('');
    const supervised: string[] = [];
    const messages: [string, string][] = [];
    const leaveMessage: LeaveMessage = async (_c, mailbox, reason) => {
      messages.push([mailbox.number, reason]);
    };
    const ctx = context(a, {
      transferMethod: () => 'supervised',
      supervisedTransfer: async (_c, number) => {
        supervised.push(number);
        return { outcome, status: outcome === 'busy' ? 486 : 200 };
      },
      leaveMessage,
    });
    const s: AttendantSession = { call: asCall(call), ctx, attendant: a, voice: EN, log: ctx.logger };
    const mailbox = await store.findMailbox(target);
    const result = await connect(s, mailbox ? { number: target, mailbox } : { number: target });
    return { result, call, supervised, messages };
  }

  it('busy: "could not be transferred, that extension is busy", then a message in its mailbox', async () => {
    const r = await connectWith('busy');
    expect(r.supervised).toEqual(['27001']);
    expect(r.call.transfers).toEqual([]);
    expect(r.call.heard).toEqual(['please_hold_transfer', 'transfer_failed', 'extension_busy']);
    expect(r.messages).toEqual([['27001', 'busy']]);
    expect(r.result).toBe('done');
  });

  it('answered: the caller stays bridged to the target', async () => {
    expect((await connectWith('answered')).result).toBe('bridged');
  });

  it('an invalid number: "not a valid extension", back to the menu', async () => {
    const r = await connectWith('invalid', '27077');
    expect(r.result).toBe('menu');
    expect(r.call.heard).toEqual(['please_hold_transfer', 'invalid_extension', 'returning_to_menu']);
  });

  it('a number outside the allowed patterns reaches neither REFER nor the supervised transfer', async () => {
    const r = await connectWith('answered', '900123');
    expect(r.result).toBe('menu');
    expect(r.supervised).toEqual([]);
    expect(r.call.transfers).toEqual([]);
    expect(r.call.heard).toEqual(['transfer_failed', 'returning_to_menu']);
  });
});
