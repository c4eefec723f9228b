/**
 * The auto-attendant (src/apps/attendant) against the real server, with SIPp as the caller behind the PBX
 * (UDP, keys as RFC 4733 events in one burst 200 ms after the ACK; the attendant keeps keys typed ahead) and
 * as the PBX taking the REFER (202, then a NOTIFY message/sipfrag with the transfer's final status). The
 * test server's `apps` hook runs runAttendant with a context whose clock the test sets; the store is the
 * real SQLite one; a failed transfer goes to the real voicemail deposit.
 *
 * Covers:
 * - the schedule at fixed clock times (Europe/Stockholm): Wednesday 10:00 business hours → main menu;
 *   Wednesday 20:30 → the after-hours menu, which hangs up; Christmas Day (a holiday date) 10:00 → the
 *   after-hours menu even within business hours;
 * - a sub-menu: 1 → sales, whose 2 transfers to 27002 (Refer-To checked by SIPp);
 * - an invalid entry, then a timeout, reach the menu's default action (operator → REFER to 27050);
 * - dial by extension: 27001# → REFER to 27001, over UDP and over TCP (the Refer-To keeps the transport
 *   parameter of the PBX's Contact, checked by SIPp); the REFER failing (NOTIFY 486): "could not be transferred",
 *   then 27001's voicemail greeting for a busy extension (the offer to leave a message there);
 * - dial by name with one match (ALIC → Alice Example, confirmed with 1) and several (SMITH → Smith and
 *   Smithers, the hidden Smithson left out; 2 picks Smithers);
 * - a key transferring to 900123, outside the allowed numbers: refused, logged, no REFER; the caller is back
 *   at the menu.
 * Does not cover: supervised transfer (its own module and tests), the language choice and greeting recording
 * by phone (test/unit/attendant-flows.test.ts), config validation (test/unit/attendant-check.test.ts).
 *
 * SIPp runs from the repository root, as npm test does.
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runAttendant, type AttendantContext } from '../../src/apps/attendant/index.js';
import { createAttendantContext } from '../../src/apps/attendant/setup.js';
import { leaveMessageVia } from '../../src/apps/attendant/leave-message.js';
import type { VoicemailContext } from '../../src/apps/voicemail/context.js';
import { parseConfig } from '../../src/config/load.js';
import { loadCatalog } from '../../src/prompts/catalog.js';
import { createSay } from '../../src/prompts/say.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { runSipp } from '../helpers/sipp.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/test-server.js';
import { watchApp } from '../helpers/watched-app.js';

const ATTENDANT_YAML = `
services: { voicemail: ["8000"], attendant: ["8001"] }
attendants:
  - pilots: ["8001"]
    timeZone: Europe/Stockholm
    operator: "27050"
    extensions: ["27000-27099"]
    interDigitMs: 1500
    schedules:
      - { dates: ["12-25"], menu: closed }
      - { hours: [{ days: [mon-fri], from: "08:00", to: "17:00" }], menu: main }
    menu: closed
    menus:
      main:
        greeting: [attendant_welcome]
        keys: { "1": { menu: sales }, "5": { transfer: "900123" }, "9": dial-by-name, "0": operator }
        dialExtensions: true
        timeoutMs: 1500
        retries: 1
        default: operator
      sales:
        greeting: [star]
        keys: { "2": { transfer: "27002" }, "*": { menu: main } }
        timeoutMs: 1500
        retries: 1
        default: { menu: main }
      closed:
        greeting: [goodbye]
        timeoutMs: 1000
        retries: 0
        default: hangup
`;

/** Wednesday 11 June 2025, 10:00 in Stockholm (CEST, UTC+2). */
const WEDNESDAY_10 = Date.parse('2025-06-11T08:00:00Z');
/** The same Wednesday, 20:30 in Stockholm. */
const WEDNESDAY_2030 = Date.parse('2025-06-11T18:30:00Z');
/** Thursday 25 December 2025, 10:00 in Stockholm (CET, UTC+1): a weekday within business hours, a holiday. */
const CHRISTMAS_10 = Date.parse('2025-12-25T09:00:00Z');

let ts: TestServer;
let store: SqliteStore;
let ctx: AttendantContext;
let clock = WEDNESDAY_10;
let logs: Record<string, unknown>[] = [];
const watched = watchApp((c) => runAttendant(c, ctx));

const logger = pino(
  { level: 'info' },
  new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  }),
);
const logged = (msg: string): Record<string, unknown>[] => logs.filter((l) => l.msg === msg);

/** One SIPp call to the attendant pilot 8001; fails with SIPp's output when SIPp fails. Waits for the app to end. */
async function call(scenario: string, keys: string, target?: string, transport: 'udp' | 'tcp' = 'udp'): Promise<void> {
  const runsBefore = watched.runs;
  const result = await runSipp({
    scenario,
    transport,
    port: ts.port(transport),
    service: '8001',
    timeoutS: 45,
    extra: ['-key', 'keys', keys, ...(target !== undefined ? ['-key', 'target', target] : [])],
  });
  if (result.code !== 0) throw new Error(`SIPp ${scenario} failed (exit ${result.code}):\n${result.stderr}\n${result.stdout.slice(-3000)}`);
  await waitFor(() => watched.runs > runsBefore && ts.server.calls.size === 0, 'the attendant to finish', 10_000);
  expect(watched.errors).toEqual([]);
}

describe('auto-attendant (SIPp as caller and PBX)', () => {
  beforeAll(async () => {
    ts = await startTestServer(ATTENDANT_YAML, '', {
      apps: {
        attendant: watched.app,
      },
    });
    store = await openSqliteStore(ts.dir);
    for (const [number, name] of [
      ['27000', 'Alice Example'],
      ['27001', 'Bob Smith'],
      ['27002', 'Carol Smithers'],
      ['27003', 'Dave Smithson'],
      ['27050', 'Olga Operator'],
    ] as const) {
      await store.createMailbox({ number, name, pin: '135790' });
    }
    await store.updateMailbox('27003', { hiddenFromDirectory: true });
    const config = parseConfig(`${ATTENDANT_YAML}\nstorage: { dir: ${JSON.stringify(ts.dir)} }\n`, ts.dir);
    const voicemail: VoicemailContext = {
      store,
      config: { ...config.voicemail, reviewMenu: false, timeZone: 'UTC' },
      say: createSay('en-US'),
      logger,
      attendantPilots: ['8001'],
      voicemailPilots: ['8000'],
    };
    ctx = await createAttendantContext({
      config,
      store,
      catalog: await loadCatalog(join(import.meta.dirname, '../../prompts'), 'en-US'),
      logger,
      pbxFor: () => undefined,
      leaveMessage: leaveMessageVia(voicemail),
      now: () => clock,
    });
  });

  afterAll(async () => {
    await store?.close();
    await ts?.stop();
  });

  beforeEach(() => {
    logs = [];
    watched.errors = [];
    clock = WEDNESDAY_10;
  });

  const menus = (): unknown[] => logged('menu').map((l) => l.menu);

  describe('the schedule', () => {
    it('answers with the main menu in business hours; 1 leads to the sales sub-menu, whose 2 transfers to 27002', async () => {
      await call('uac-aa-transfer.xml', '12', '27002');
      expect(logged('attendant answered')[0]).toMatchObject({ menu: 'main', schedule: 1, timeZone: 'Europe/Stockholm' });
      expect(menus()).toEqual(['main', 'sales']);
      expect(logged('transfer outcome')).toMatchObject([{ target: '27002', method: 'refer', outcome: 'answered', status: 200 }]);
    });

    it('answers with the after-hours menu on a weekday evening, which hangs up when nobody chooses', async () => {
      clock = WEDNESDAY_2030;
      await call('uac-aa-hung-up.xml', '#');
      expect(logged('attendant answered')[0]).toMatchObject({ menu: 'closed', schedule: 'none' });
      expect(menus()).toEqual(['closed']);
      expect(logged('retries used up; default action')[0]).toMatchObject({ action: { kind: 'hangup' } });
    });

    it('answers with the after-hours menu on a holiday date, although within business hours', async () => {
      clock = CHRISTMAS_10;
      await call('uac-aa-hung-up.xml', '#');
      expect(logged('attendant answered')[0]).toMatchObject({ menu: 'closed', schedule: 0, local: { month: 12, day: 25, weekday: 4, minutes: 600 } });
    });
  });

  describe('invalid entries and timeouts', () => {
    it('an invalid extension, then no key, reach the default action (the operator, by REFER)', async () => {
      await call('uac-aa-transfer.xml', '7', '27050');
      expect(logged('not a valid extension')[0]).toMatchObject({ digits: '7', failures: 1 });
      expect(logged('no key')[0]).toMatchObject({ failures: 2 });
      expect(logged('retries used up; default action')[0]).toMatchObject({ action: { kind: 'operator' } });
      expect(logged('transfer outcome')).toMatchObject([{ target: '27050', outcome: 'answered' }]);
    });
  });

  describe('dial by extension', () => {
    it('transfers 27001# by REFER to 27001', async () => {
      await call('uac-aa-transfer.xml', '27001#', '27001');
      expect(logged('transfer outcome')).toMatchObject([{ target: '27001', outcome: 'answered', status: 200 }]);
    });

    it('over TCP, the Refer-To keeps the transport of the PBX\'s Contact (transport=TCP, checked by SIPp)', async () => {
      await call('uac-aa-transfer.xml', '27001#', '27001', 'tcp');
      expect(logged('transfer outcome')).toMatchObject([{ target: '27001', method: 'refer', outcome: 'answered', status: 200 }]);
    });

    it('a REFER that fails (NOTIFY 486) says so and offers a message in 27001\'s mailbox', async () => {
      await call('uac-aa-transfer-busy.xml', '27001#', '27001');
      expect(logged('transfer outcome')).toMatchObject([{ target: '27001', outcome: 'busy', status: 486 }]);
      expect(logged('offering a message after the failed transfer')[0]).toMatchObject({ mailbox: '27001', reason: 'busy' });
      // The voicemail deposit took over: 27001's greeting for a busy extension.
      expect(logged('greeting')[0]).toMatchObject({ mailbox: '27001', greeting: 'system-busy', reason: 'busy' });
    });
  });

  describe('dial by name', () => {
    it('offers the one match (ALIC → Alice Example) and transfers once the caller confirms with 1', async () => {
      await call('uac-aa-transfer.xml', '92542#1', '27000');
      expect(logged('directory search')[0]).toMatchObject({ keys: '2542', matches: ['27000'] });
      expect(logged('transfer outcome')).toMatchObject([{ target: '27000', outcome: 'answered' }]);
    });

    it('offers several matches by last name (SMITH), leaves out a hidden mailbox, and transfers to the one chosen', async () => {
      await call('uac-aa-transfer.xml', '976484#2', '27002');
      expect(logged('directory search')[0]).toMatchObject({ keys: '76484', matches: ['27001', '27002'] });
      expect(logged('transfer outcome')).toMatchObject([{ target: '27002', outcome: 'answered' }]);
    });
  });

  describe('the toll-fraud guard', () => {
    it('refuses a transfer to a number outside the allowed ones; no REFER, the caller is back at the menu', async () => {
      // 5 → 900123 is refused; back at the main menu the caller presses 0 for the operator, whose REFER is the
      // only one SIPp takes (a REFER to 900123 would fail the Refer-To check).
      await call('uac-aa-transfer.xml', '50', '27050');
      expect(logged('transfer refused: not an allowed number')[0]).toMatchObject({ target: '900123' });
      expect(logged('transfer outcome')).toMatchObject([{ target: '27050' }]);
      expect(menus()).toEqual(['main', 'main']);
    });
  });
});
