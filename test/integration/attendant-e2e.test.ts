/**
 * The auto-attendant end to end, through the real server as a site runs it: startServer() with a config YAML
 * (no app hooks, the server's own wiring of runAttendant, supervised transfers and the voicemail deposit), a
 * logger whose JSON lines the test reads, the real SQLite store; SIPp plays the caller behind the PBX, the PBX
 * and the phones behind it (seeds/003 section 7: "AA answers; transfer by directory search (answer / busy /
 * no answer -> callee's voicemail / invalid number)").
 *
 * Two PBXs: 127.0.0.1 with `transfer: supervised`, 127.0.0.2 with the default REFER (SIPp binds either
 * address). A supervised transfer is sent back to the PBX the call came from (call.sourceUri): the caller's
 * own SIPp address and port. So one SIPp process plays the caller (its main scenario,
 * uac-aa-e2e-supervised-*.xml) AND the PBX/phone answering vmpilot's new INVITE (its out-of-call scenario,
 * -oocsf uas-aa-e2e-phone-*.xml, which SIPp runs for a request with an unknown Call-ID); the two scenarios
 * share a SIPp global variable, the phone's state, by which the caller waits for the phone. A failed check in
 * the phone's scenario stops SIPp with an error (SIPp's exit status counts the main scenario only).
 *
 * Covers:
 * - dial by name, supervised (127.0.0.1), the caller spelling the last name with RFC 4733 keys and confirming
 *   with 1; the new INVITE asks the PBX for the extension on behalf of the original caller:
 *   - answered: the legs are connected (the caller's streamed tones reach the phone's RTP, in order, and the
 *     phone's tone is relayed toward the caller), the caller's BYE ends the phone's leg with a BYE;
 *   - busy (486): the extension's mailbox takes the caller's message (its busy greeting; reason busy, the
 *     caller's number and name, the streamed tones in the WAV; the caller's '#' skips "could not be
 *     transferred" and the greeting);
 *   - no answer: CANCEL after attendants[].transferTimeoutS (5 s, the schema's least), 487, then the
 *     extension's mailbox takes a message (reason no-answer);
 *   - an extension with a mailbox that the PBX rejects (404): "not a valid extension", back to the menu; no
 *     message, vmpilot neither hangs up nor transfers;
 * - dial by extension, REFER (127.0.0.2): Refer-To's user part is the extension, Referred-By names the pilot,
 *   NOTIFY 100 then 200 sipfrag, then vmpilot's BYE; 900123 (an extension of the numbering plan, outside
 *   allowedTransfers) is refused with no REFER, the refusal is said (transfer_failed + returning_to_menu,
 *   3.8 s) and the call goes on at the menu, where an allowed extension is then transferred (900123 is typed
 *   without '#': a '#' after an extension of the longest length is left over as a key typed ahead, which
 *   skips the next prompt and counts as an invalid key at the menu; an attendant bug, reported);
 * - business hours vs after hours vs a holiday, with the real clock (the server takes no injected clock): the
 *   schedules are built around the current time in a time zone where it is at least 2 h 10 min from midnight;
 *   which menu answered is read from the log and seen by SIPp (the open menu transfers to the operator, the
 *   closed and holiday menus say goodbye and hang up).
 * Does not cover: the language choice and greeting recording by phone, sub-menus and retries (unit tests and
 *   attendant.test.ts), supervised transfers over TCP/TLS or through 3xx/407 (supervised-transfer.test.ts),
 *   what the caller hears in audio (prompts are checked through the log and its timing, not decoded), MWI.
 * The messages are read through a second store connection while the server runs (SQLite WAL readers).
 *
 * SIPp runs from the repository root (audio paths in the scenarios are relative to it), as npm test does.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { linearToUlaw } from '../../src/media/g711.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import type { MessageRecord } from '../../src/store/types.js';
import { compareTones, findTones, readRecording, TONES_3S, ulawToPcm, type Tone } from '../helpers/audio-analysis.js';
import { startRtpProbe } from '../helpers/rtp-probe.js';
import { runSipp, type SippResult } from '../helpers/sipp.js';
import { waitFor } from '../helpers/test-server.js';
import { freeUdpPort } from '../helpers/cli-process.js';
import { reserveRtpPorts, type RtpRange } from '../helpers/rtp-range.js';

const SCENARIOS = fileURLToPath(new URL('../../sipp-scenarios/', import.meta.url));
const SUPERVISED_PBX = '127.0.0.1';
const REFER_PBX = '127.0.0.2';
/** The caller as the scenarios' From names it. */
const CALLER = { number: '0701234567', name: 'Erin Caller' };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------------------------- the clock, the schedules

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** The wall clock now in `timeZone`: weekday (0 = Sunday), minutes since midnight, month and day. */
function wallClock(timeZone: string, ms = Date.now()): { weekday: number; minutes: number; month: number; day: number } {
  const parts: Record<string, string> = {};
  const format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', weekday: 'short', hour: 'numeric', minute: 'numeric', month: 'numeric', day: 'numeric' });
  for (const p of format.formatToParts(new Date(ms))) parts[p.type] = p.value;
  return { weekday: DAY_NAMES.indexOf(parts.weekday!.toLowerCase()), minutes: Number(parts.hour) * 60 + Number(parts.minute), month: Number(parts.month), day: Number(parts.day) };
}

/** A zone where now is at least 2 h 10 min from either midnight, so "now ± 2 h" stays within today. */
const ZONE = ['Europe/Stockholm', 'America/New_York', 'Asia/Tokyo', 'Pacific/Auckland', 'America/Los_Angeles', 'Asia/Kolkata', 'UTC'].find((z) => {
  const { minutes } = wallClock(z);
  return minutes >= 130 && minutes <= 1310;
})!;
const NOW = wallClock(ZONE);
const TODAY = DAY_NAMES[NOW.weekday]!;
const OTHER_DAYS = DAY_NAMES.filter((d) => d !== TODAY);
const hhmm = (minutes: number): string => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
const pad2 = (n: number): string => String(n).padStart(2, '0');
/** Today's opening hours around now, and hours that exclude now (today's ended an hour ago; other days all day). */
const OPEN_NOW = `{ days: [${TODAY}], from: "${hhmm(NOW.minutes - 120)}", to: "${hhmm(NOW.minutes + 120)}" }`;
const CLOSED_NOW = `{ days: [${TODAY}], from: "${hhmm(NOW.minutes - 120)}", to: "${hhmm(NOW.minutes - 60)}" }, { days: [${OTHER_DAYS.join(', ')}], from: "00:00", to: "24:00" }`;
/** What each of the schedule pilots answers with: open transfers to the operator, the others hang up. */
const SCHEDULE_MENUS = `
    operator: "27050"
    menus:
      open: { greeting: [attendant_welcome], timeoutMs: 1000, retries: 0, default: operator }
      closed: { greeting: [goodbye], timeoutMs: 1000, retries: 0, default: hangup }`;

const CONFIG = `
services: { voicemail: ["8000"], attendant: ["8001", "8002", "8003", "8004"] }
pbx:
  - { name: supervised-pbx, addresses: ["${SUPERVISED_PBX}"], transfer: supervised }
  - { name: refer-pbx, addresses: ["${REFER_PBX}"] }
mailboxes:
  - { number: "27000", pin: "4826", name: "Alice Example" }
  - { number: "27001", pin: "4826", name: "Bob Smith" }
  - { number: "27002", pin: "4826", name: "Carol Jones" }
  - { number: "27003", pin: "4826", name: "Dave Brown" }
  - { number: "27004", pin: "4826", name: "Eve Moved" }
  - { number: "27050", pin: "4826", name: "Olga Operator" }
attendants:
  - pilots: ["8001"]
    timeZone: Europe/Stockholm
    operator: "27050"
    # The numbering plan has 9xxxxx numbers (dial-by-extension accepts them), but only 270xx may be reached.
    extensions: ["27000-27099", "900000-900999"]
    allowedTransfers: ["27000-27099"]
    interDigitMs: 1500
    transferTimeoutS: 5
    menus:
      main:
        greeting: [attendant_welcome, attendant_menu]
        keys: { "9": dial-by-name, "8": dial-by-extension, "0": operator }
        dialExtensions: true
        timeoutMs: 3000
        retries: 1
        default: operator
  - pilots: ["8002"]
    timeZone: ${ZONE}
    schedules:
      - { hours: [${OPEN_NOW}], menu: open }
    menu: closed${SCHEDULE_MENUS}
  - pilots: ["8003"]
    timeZone: ${ZONE}
    schedules:
      - { hours: [${CLOSED_NOW}], menu: open }
    menu: closed${SCHEDULE_MENUS}
  - pilots: ["8004"]
    timeZone: ${ZONE}
    schedules:
      - { dates: ["${pad2(NOW.month)}-${pad2(NOW.day)}"], menu: holiday }
      - { hours: [${OPEN_NOW}], menu: open }
    menu: closed${SCHEDULE_MENUS}
      holiday: { greeting: [goodbye], timeoutMs: 1000, retries: 0, default: hangup }
`;

// ------------------------------------------------------------------------------------------ server and logs

type LogRecord = { msg: string; time: number } & Record<string, unknown>;
let logs: LogRecord[] = [];
const logger = pino(
  { level: 'info' },
  new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as LogRecord);
      if (process.env.VMPILOT_TEST_LOG) process.stderr.write(chunk);
      done();
    },
  }),
);
const logged = (msg: string): LogRecord[] => logs.filter((l) => l.msg === msg);
const menus = (): unknown[] => logged('menu').map((l) => l.menu);

let server: RunningServer;
let dir: string;
let store: SqliteStore;

function udpPort(): number {
  const entry = server.addresses().find((a) => a.transport === 'udp');
  if (!entry) throw new Error('the server has no UDP listener');
  return entry.port;
}


interface CallPlan {
  scenario: string;
  pilot: string;
  pbx: string;
  /** The phone's out-of-call scenario, for a supervised transfer. */
  phone?: string;
  keys: Record<string, string | number>;
}

/** One SIPp call to a pilot; resolves with SIPp's result and the SIP port it used, once vmpilot's call is over. */
async function call(plan: CallPlan): Promise<{ result: SippResult; sipPort: number }> {
  const sipPort = await freeUdpPort(plan.pbx);
  const mediaPort = await freeUdpPort(plan.pbx);
  const result = await runSipp({
    scenario: plan.scenario,
    transport: 'udp',
    port: udpPort(),
    service: plan.pilot,
    localIp: plan.pbx,
    timeoutS: 45,
    extra: [
      '-p', String(sipPort),
      '-mp', String(mediaPort),
      ...(plan.phone ? ['-oocsf', join(SCENARIOS, plan.phone)] : []),
      ...Object.entries(plan.keys).flatMap(([k, v]) => ['-key', k, String(v)]),
    ],
  });
  if (result.code !== 0) throw new Error(`SIPp ${plan.scenario} failed (exit ${result.code}):\n${result.stderr}\n${result.stdout.slice(-3000)}`);
  expect(result.successful).toBe(1);
  await waitFor(() => server.calls.size === 0, 'vmpilot to end its calls', 10_000);
  return { result, sipPort };
}

/** The mailbox's messages once `count` are there (a message is stored after the caller's hang-up). */
async function messagesOnceThere(mailbox: string, count: number): Promise<MessageRecord[]> {
  const end = Date.now() + 5000;
  for (;;) {
    const list = await store.listMessages(mailbox);
    if (list.length >= count || Date.now() > end) return list;
    await sleep(50);
  }
}

/** `ms` of a sine at `hz`, -12 dBFS, PCMU. */
function tone(hz: number, ms: number): Buffer {
  const out = Buffer.alloc(ms * 8);
  for (let i = 0; i < out.length; i++) out[i] = linearToUlaw(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 8000)));
  return out;
}

/** Tones as found, with a tone split by a gap of at most 40 ms (a relay underrun) joined again. */
function joinSplitTones(tones: readonly Tone[]): Tone[] {
  const out: Tone[] = [];
  for (const t of tones) {
    const last = out[out.length - 1];
    if (last && Math.abs(last.hz - t.hz) <= 25 && t.startMs - last.endMs <= 40) last.endMs = t.endMs;
    else out.push({ hz: t.hz, startMs: t.startMs, endMs: t.endMs });
  }
  return out;
}

let rtp: RtpRange | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vmpilot-aa-e2e-'));
  rtp = await reserveRtpPorts(100);
  const yaml = `
sip:
  listen: ["udp:127.0.0.1:0"]
rtp: { address: 127.0.0.1, ports: "${rtp.ports}" }
storage: { dir: ${JSON.stringify(dir)} }
http: false
${CONFIG}`;
  server = await startServer(parseConfig(yaml, dir), logger);
  store = await openSqliteStore(dir);
});

afterAll(async () => {
  await store?.close();
  await server?.close();
  await rtp?.release();
});

beforeEach(() => {
  logs = [];
});

// ---------------------------------------------------------------------------------------------------- tests

describe('transfer by directory search, supervised (the PBX at 127.0.0.1 takes no REFER)', () => {
  it('answered: the new INVITE asks the PBX for the extension, the legs are connected both ways, and the caller BYE ends the phone leg', async () => {
    const phoneMedia = await startRtpProbe();
    // The phone talks back once it hears vmpilot: a 1 s tone to the port vmpilot's leg sends from.
    const talkBack = phoneMedia.waitForPackets(1, 30_000).then(() => phoneMedia.sendAudio(tone(600, 1000), phoneMedia.packets[0]!.from.port));
    try {
      const { sipPort } = await call({
        scenario: 'uac-aa-e2e-supervised-talk.xml',
        phone: 'uas-aa-e2e-phone-answer.xml',
        pilot: '8001',
        pbx: SUPERVISED_PBX,
        // 9: directory; SMITH; #; 1: "For Bob Smith, press 1".
        keys: { keys: '976484#1', target: '27001', probe_port: phoneMedia.port },
      });
      await talkBack;
      expect(logged('directory search')[0]).toMatchObject({ keys: '76484', matches: ['27001'] });
      // Back to the PBX the call came from: the caller's own SIPp address and port.
      expect(logged('supervised transfer: calling the target')[0]).toMatchObject({ requestUri: `sip:27001@${SUPERVISED_PBX}:${sipPort}` });
      expect(logged('transfer outcome')).toMatchObject([{ target: '27001', method: 'supervised', outcome: 'answered', status: 200 }]);

      // Caller → phone: the tones the caller streamed, in order and in time, at the phone's RTP port. The relay
      // has no jitter buffer (media/relay.ts): while its FIFO settles, a packet arriving just after a tick
      // leaves a 20 ms frame of silence in a tone; a few such splits are allowed.
      const atPhone = ulawToPcm(Buffer.concat(phoneMedia.packets.map((p) => p.payload)));
      const found = findTones(atPhone);
      const joined = joinSplitTones(found);
      expect(found.length - joined.length).toBeLessThanOrEqual(4);
      expect(compareTones(joined, TONES_3S, { ms: 40 }).problems).toEqual([]);
      // Phone → caller: the phone's second of audio went into the caller's stream (SIPp cannot record it).
      const over = logged('supervised transfer: call over')[0] as unknown as { why: string; relay: { forward: { bytesIn: number }; backward: { bytesIn: number; framesOut: number } } };
      expect(over.why).toBe('caller hung up');
      expect(over.relay.backward.bytesIn).toBeGreaterThanOrEqual(8000);
      expect(over.relay.backward.framesOut).toBeGreaterThanOrEqual(45);
      expect(over.relay.forward.bytesIn).toBeGreaterThanOrEqual(24_000);
      expect(await store.listMessages('27001')).toEqual([]);
    } finally {
      await phoneMedia.close();
    }
  });

  /** Checks the message a caller left after a failed transfer: in `mailbox`, for `reason`, with the streamed tones. */
  async function expectMessage(mailbox: string, reason: 'busy' | 'no-answer'): Promise<void> {
    const [message, ...more] = await messagesOnceThere(mailbox, 1);
    expect(more).toEqual([]);
    expect(message).toMatchObject({ mailbox, folder: 'new', from: CALLER.number, fromName: CALLER.name, reason, heard: false });
    expect(message!.durationMs).toBeGreaterThanOrEqual(3000);
    const { samples } = await readRecording(message!.audioPath);
    expect(compareTones(findTones(samples), TONES_3S, { ms: 40 }).problems).toEqual([]);
  }

  it("busy (486): the caller goes on to that extension's mailbox and leaves a message there", async () => {
    await call({
      scenario: 'uac-aa-e2e-supervised-message.xml',
      phone: 'uas-aa-e2e-phone-busy.xml',
      pilot: '8001',
      pbx: SUPERVISED_PBX,
      // JONES.
      keys: { keys: '956637#1', target: '27002', phone_state: 'busy' },
    });
    expect(logged('directory search')[0]).toMatchObject({ keys: '56637', matches: ['27002'] });
    expect(logged('transfer outcome')).toMatchObject([{ target: '27002', method: 'supervised', outcome: 'busy', status: 486 }]);
    expect(logged('offering a message after the failed transfer')).toMatchObject([{ mailbox: '27002', reason: 'busy' }]);
    expect(logged('greeting')[0]).toMatchObject({ mailbox: '27002', greeting: 'system-busy' });
    await expectMessage('27002', 'busy');
  });

  it("no answer: CANCEL when transferTimeoutS (5 s) runs out, then a message in that extension's mailbox", async () => {
    await call({
      scenario: 'uac-aa-e2e-supervised-message.xml',
      phone: 'uas-aa-e2e-phone-no-answer.xml',
      pilot: '8001',
      pbx: SUPERVISED_PBX,
      // BROWN.
      keys: { keys: '927696#1', target: '27003', phone_state: 'cancelled' },
    });
    const calling = logged('supervised transfer: calling the target')[0]!;
    const outcome = logged('transfer outcome')[0]!;
    expect(outcome).toMatchObject({ target: '27003', method: 'supervised', outcome: 'no-answer', status: 487 });
    expect(outcome.time - calling.time).toBeGreaterThanOrEqual(5000);
    expect(outcome.time - calling.time).toBeLessThan(7000);
    expect(logged('offering a message after the failed transfer')).toMatchObject([{ mailbox: '27003', reason: 'no-answer' }]);
    expect(logged('greeting')[0]).toMatchObject({ mailbox: '27003', greeting: 'system-unavailable' });
    await expectMessage('27003', 'no-answer');
  });

  it('an extension the PBX does not know (404): "not a valid extension", back to the menu, no message', async () => {
    await call({
      scenario: 'uac-aa-e2e-supervised-invalid.xml',
      phone: 'uas-aa-e2e-phone-invalid.xml',
      pilot: '8001',
      pbx: SUPERVISED_PBX,
      // MOVED.
      keys: { keys: '966833#1', target: '27004' },
    });
    const outcome = logged('transfer outcome')[0]!;
    expect(outcome).toMatchObject({ target: '27004', method: 'supervised', outcome: 'invalid', status: 404 });
    expect(logged('offering a message after the failed transfer')).toEqual([]);
    // The main menu again, after invalid_extension and returning_to_menu were said (1.64 s + 1.56 s).
    expect(menus()).toEqual(['main', 'main']);
    expect(logged('menu')[1]!.time - outcome.time).toBeGreaterThanOrEqual(3000);
    expect(logged('call ended')[0]).toMatchObject({ reason: 'remote-bye' });
    expect(await store.listMessages('27004')).toEqual([]);
  });
});

describe('dial by extension, REFER (the PBX at 127.0.0.2 takes REFER, the default)', () => {
  it('transfers 27001# by REFER: Refer-To names 27001, Referred-By the pilot; after NOTIFY 200 vmpilot hangs up', async () => {
    await call({ scenario: 'uac-aa-e2e-refer.xml', pilot: '8001', pbx: REFER_PBX, keys: { keys: '27001#', target: '27001' } });
    expect(logged('transfer outcome')).toMatchObject([{ target: '27001', method: 'refer', outcome: 'answered', status: 200 }]);
    expect(logged('supervised transfer: calling the target')).toEqual([]);
    expect(logged('call ended')[0]).toMatchObject({ reason: 'local-bye' });
  });

  it('refuses 900123, outside the allowed transfers: no REFER, the refusal is said, and the call goes on at the menu', async () => {
    await call({
      scenario: 'uac-aa-e2e-refused-then-refer.xml',
      pilot: '8001',
      pbx: REFER_PBX,
      // 8: "enter the extension", 900123 (six digits, the longest extension, end the entry; a '#' after them
      // would be left over as a key typed ahead, see the report); 6 s later, at the menu again, 27000#.
      keys: { refused_keys: '8900123', keys: '27000#', target: '27000' },
    });
    const refused = logged('transfer refused: not an allowed number');
    expect(refused).toMatchObject([{ target: '900123' }]);
    expect(logged('transfer outcome')).toMatchObject([{ target: '27000', method: 'refer', outcome: 'answered' }]);
    expect(menus()).toEqual(['main', 'main']);
    expect(logged('invalid key')).toEqual([]);
    // transfer_failed and returning_to_menu (2.24 s + 1.56 s) were said before the menu came back.
    expect(logged('menu')[1]!.time - refused[0]!.time).toBeGreaterThanOrEqual(3500);
  });
});

describe(`the schedule, on the real clock (${ZONE})`, () => {
  it('answers with the business-hours menu when today\'s opening hours include now (it transfers to the operator)', async () => {
    await call({ scenario: 'uac-aa-e2e-refer.xml', pilot: '8002', pbx: REFER_PBX, keys: { keys: '#', target: '27050' } });
    expect(logged('attendant answered')[0]).toMatchObject({ menu: 'open', schedule: 0, timeZone: ZONE, local: { weekday: NOW.weekday } });
    expect(logged('transfer outcome')).toMatchObject([{ target: '27050', method: 'refer', outcome: 'answered' }]);
  });

  it("answers with the after-hours menu when today's opening hours ended an hour ago (it hangs up)", async () => {
    await call({ scenario: 'uac-aa-hung-up.xml', pilot: '8003', pbx: REFER_PBX, keys: { keys: '#' } });
    expect(logged('attendant answered')[0]).toMatchObject({ menu: 'closed', schedule: 'none', local: { weekday: NOW.weekday } });
    expect(logged('transfer outcome')).toEqual([]);
  });

  it('answers with the holiday menu on a holiday date, although within opening hours', async () => {
    await call({ scenario: 'uac-aa-hung-up.xml', pilot: '8004', pbx: REFER_PBX, keys: { keys: '#' } });
    expect(logged('attendant answered')[0]).toMatchObject({ menu: 'holiday', schedule: 0, local: { month: NOW.month, day: NOW.day } });
  });
});
