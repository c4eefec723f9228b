/**
 * The web admin and web voicemail (issue 11), in a real headless Chromium (Debian's /usr/bin/chromium, driven
 * by playwright-core) against the real server: its HTTP listener, its store, its MWI to a PBX (a raw UDP peer
 * that answers NOTIFYs), SIPp for a live call.
 *
 * Covers, in order (one browser and one server for the file; each step a test):
 * - the administrator's sign-in: a wrong token refused on the page, the right one opens the mailboxes;
 * - finding a mailbox among 2,002 by searching its name (the server pages: one page of rows reaches the page),
 *   and paging through the unfiltered list;
 * - a mailbox's message played to its end in the <audio> element, whose requests the server answered 206 with
 *   Content-Range (range requests), then a seek to the middle played from there;
 * - marking it read (the lamp goes out) and unread (on again), deleting it: the lamp NOTIFY (Messages-Waiting:
 *   no) reaches the PBX;
 * - a greeting uploaded from the page and played back;
 * - the live calls page listing a SIPp call, and its hang-up button ending it (SIPp receives the BYE);
 * - the attendant's menus drawn as a tree with its schedules;
 * - a mailbox owner: a wrong PIN refused, the right PIN showing only their own messages; another mailbox's
 *   message id answered 404 and an admin route 401 with the owner's cookie; a state-changing request without
 *   JSON or X-Requested-With refused (403); their own message played (the cookie opens its audio).
 * Screenshots of every page go to test-output/webadmin/ (their paths are printed).
 *
 * Does not cover: the API's own validation and errors (the api's tests), the PIN back-off's arithmetic
 * (pin-backoff tests), TLS (the cookie's Secure form is a unit test: web-owner-session.test.ts).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/http/tokens.js';
import { storeLayout } from '../../src/store/layout.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import type { MessageRecord } from '../../src/store/types.js';
import { RawUdpPeer, okFor } from '../helpers/raw-peer.js';
import { runSipp, type SippResult } from '../helpers/sipp.js';
import { recordingIn } from '../helpers/store-fixture.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/test-server.js';

const SHOTS = resolve(import.meta.dirname, '../../test-output/webadmin');
const TOKEN = 'vmp_web-admin-test-token-0123456789abcdefghij';
const PIN = '2468';
/** Mailboxes besides the two the test uses, written straight into the database (one hash, no scrypt each). */
const BULK = 2000;

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'];

let ts: TestServer;
let pbx: RawUdpPeer;
let answering: NodeJS.Timeout;
let store: SqliteStore;
let browser: Browser;
let page: Page;
let base: string;
let aliceMessages: MessageRecord[];
let bobMessage: MessageRecord;
const shots: string[] = [];

async function screenshot(name: string): Promise<void> {
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  shots.push(path);
}

/** The NOTIFYs for `mailbox` the PBX received from index `from` on. */
function notifiesFor(mailbox: string, from = 0): string[] {
  return pbx.received.slice(from).map((r) => r.text).filter((t) => t.startsWith(`NOTIFY sip:${mailbox}@`));
}

/** Bulk mailboxes 30000..: one INSERT per row in one transaction, all with the same PIN hash. */
function seedMailboxes(dir: string, pinHash: string): void {
  const db = new Database(storeLayout(dir).dbFile);
  try {
    const insert = db.prepare('INSERT INTO mailboxes (number, name, email, pin_hash, must_change_pin, setup_done, created_at) VALUES (?, ?, ?, ?, 0, 1, ?)');
    db.transaction(() => {
      for (let i = 0; i < BULK; i++) insert.run(String(30000 + i), `Person ${String(i).padStart(4, '0')} Example`, `p${i}@example.com`, pinHash, Date.now());
    })();
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  pbx = await RawUdpPeer.open();
  // The PBX answers each NOTIFY 200 (else the notifier would retransmit and retry).
  let answered = 0;
  answering = setInterval(() => {
    for (; answered < pbx.received.length; answered++) {
      const text = pbx.received[answered]!.text;
      if (text.startsWith('NOTIFY ')) void pbx.send(ts.port('udp'), okFor(text)).catch(() => undefined);
    }
  }, 10);
  ts = await startTestServer(
    [
      `http: { listen: "127.0.0.1:0", tokens: [{ name: ops, hash: "${hashToken(TOKEN)}" }] }`,
      `pbx: [{ name: pbx, addresses: ["127.0.0.1"], mwi: { targets: ["sip:127.0.0.1:${pbx.port}"] } }]`,
      'mwi: { resendOnStart: false }',
      'mailboxes:',
      '  - { number: "27000", pin: "7391", name: "Alice Example", email: alice@example.com }',
      '  - { number: "27001", pin: "7391", name: "Bob Other" }',
      'attendants:',
      '  - timeZone: Europe/Stockholm',
      '    operator: "27000"',
      '    schedules:',
      '      - { dates: ["12-25"], menu: closed }',
      '      - { hours: [{ days: [mon-fri], from: "08:00", to: "17:00" }], menu: main }',
      '    menu: closed',
      '    menus:',
      '      main:',
      '        greeting: [attendant_welcome, attendant_menu]',
      '        keys: { "1": { menu: sales }, "9": dial-by-name, "0": operator }',
      '        dialExtensions: true',
      '        default: operator',
      '      sales:',
      '        greeting: [attendant_menu]',
      '        keys: { "1": { transfer: "27001" }, "2": { message: "27001" }, "*": { menu: main } }',
      '        default: { menu: main }',
      '      closed:',
      '        greeting: [attendant_welcome]',
      '        keys: { "1": { message: "27000" } }',
      '        default: hangup',
    ].join('\n'),
  );
  base = ts.server.http!.url;
  // A second connection to the server's database, as the CLI opens one: the server sees its changes.
  store = await openSqliteStore(ts.dir);
  await store.setPin('27000', PIN);
  await store.setPin('27001', PIN);
  seedMailboxes(ts.dir, (await store.findMailbox('27000'))!.pinHash);
  aliceMessages = [
    await store.deposit({ mailbox: '27000', from: '4455', fromName: 'Carol Caller', durationMs: 2500, urgent: false, reason: 'no-answer', audioFile: recordingIn(store.tmpDir, 2500) }),
    await store.deposit({ mailbox: '27000', from: '4466', fromName: 'Dave Later', durationMs: 1500, urgent: false, reason: 'busy', audioFile: recordingIn(store.tmpDir, 1500) }),
  ];
  bobMessage = await store.deposit({ mailbox: '27001', from: '4477', fromName: 'For Bob Only', durationMs: 1000, urgent: false, reason: 'direct', audioFile: recordingIn(store.tmpDir, 1000) });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
}, 60_000);

afterAll(async () => {
  clearInterval(answering);
  await browser?.close();
  await store?.close();
  await ts?.stop();
  pbx?.close();
  // eslint-disable-next-line no-console -- where the screenshots are, for whoever runs the test
  if (shots.length > 0) console.log(`web admin screenshots:\n${shots.join('\n')}`);
});

describe('web admin', () => {
  it('signs an administrator in with the API token, not with a wrong one', async () => {
    await page.goto(`${base}/`);
    await page.waitForSelector('#admin-signin');
    await screenshot('signin');
    await page.fill('#token', 'vmp_wrong');
    await page.click('#admin-signin button[type=submit]');
    await expect.poll(() => page.textContent('#admin-signin .error')).toContain('not accepted');
    await page.fill('#token', TOKEN);
    await page.click('#admin-signin button[type=submit]');
    await page.waitForSelector('#signout');
    expect(await page.evaluate(() => sessionStorage.getItem('vmpilot.token'))).toBe(TOKEN);
  });
});

describe('the attendant page', () => {
  it("draws the attendant's menus as a tree with their schedules", async () => {
    await page.goto(`${base}/web/#/attendant`);
    await page.waitForSelector('.attendant ul.tree');
    const schedules = await page.locator('.attendant ol.schedule li').allTextContents();
    expect(schedules).toEqual(['on 12-25 → closed', 'Mon–Fri 08:00–17:00 → main', 'Otherwise → closed']);
    // main's key 1 leads to sales, drawn inside it; sales' * leads back up to main.
    const sales = page.locator('li[data-menu=main] li[data-menu=sales]');
    expect(await sales.count()).toBe(1);
    expect(await sales.textContent()).toContain('transfer to 27001');
    expect(await sales.textContent()).toContain('main (back up)');
    await screenshot('attendant');
  });
});

describe('web voicemail (mailbox owners)', () => {
  it('refuses a wrong PIN', async () => {
    await page.evaluate(() => sessionStorage.clear());
    await page.goto(`${base}/web/#/signin`);
    await page.fill('#mailbox', '27001');
    await page.fill('#pin', '9999');
    await page.click('#owner-signin button[type=submit]');
    await expect.poll(() => page.textContent('#owner-error')).toContain('not correct');
    expect(await page.context().cookies()).toEqual([]);
  });

  it('signs the owner in with the right PIN and shows only their own messages', async () => {
    await page.fill('#mailbox', '27001');
    await page.fill('#pin', PIN);
    await page.click('#owner-signin button[type=submit]');
    await page.waitForSelector('#messages tbody tr');
    const rows = await page.locator('#messages tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));
    expect(rows).toEqual([bobMessage.id]);
    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({ name: 'vmpilot-owner', httpOnly: true, sameSite: 'Strict' });
    await screenshot('owner');
  });

  it("answers another mailbox's message 404 and an admin route 401, with the owner's cookie", async () => {
    const statuses = await page.evaluate(async (ids) => {
      const get = async (path: string) => (await fetch(path)).status;
      return {
        otherAudio: await get(`/api/me/messages/${ids.alice}/audio`),
        otherDelete: (await fetch(`/api/me/messages/${ids.alice}`, { method: 'DELETE', headers: { 'x-requested-with': 'test' } })).status,
        ownAudio: await get(`/api/me/messages/${ids.bob}/audio`),
        ownPart: await fetch(`/api/me/messages/${ids.bob}/audio`, { headers: { range: 'bytes=100-199' } }).then(async (r) => `${r.status} ${r.headers.get('content-range')} ${(await r.arrayBuffer()).byteLength}`),
        adminList: await get('/api/mailboxes'),
        adminAudio: await get(`/api/mailboxes/27000/messages/${ids.alice}/audio`),
      };
    }, { alice: aliceMessages[0]!.id, bob: bobMessage.id });
    expect(statuses).toEqual({ otherAudio: 404, otherDelete: 404, ownAudio: 200, ownPart: '206 bytes 100-199/16044 100', adminList: 401, adminAudio: 401 });
    expect((await store.getMessage(aliceMessages[0]!.id))?.folder).toBe('new');
  });

  it('refuses a state change without a JSON body or X-Requested-With (a cross-site form could send it)', async () => {
    const status = await page.evaluate(async (id) => (await fetch(`/api/me/messages/${id}`, { method: 'DELETE' })).status, bobMessage.id);
    expect(status).toBe(403);
    expect((await store.getMessage(bobMessage.id))?.folder).toBe('new');
  });

  it('plays their message through the session cookie, marks it read and deletes it', async () => {
    await page.click(`#messages tr[data-id="${bobMessage.id}"] button[data-action=play]`);
    await page.waitForFunction(() => {
      const audio = document.getElementById('player') as HTMLAudioElement;
      return audio.ended;
    }, undefined, { timeout: 10_000 });
    await page.click(`#messages tr[data-id="${bobMessage.id}"] button[data-action=read]`);
    await expect.poll(async () => (await store.getMessage(bobMessage.id))?.heard).toBe(true);
    await page.click(`#messages tr[data-id="${bobMessage.id}"] button[data-action=delete]`);
    await expect.poll(async () => (await store.getMessage(bobMessage.id))?.folder).toBe('deleted');
    await page.click('#signout');
    await page.waitForSelector('#owner-signin');
    expect(await page.evaluate(async () => (await fetch('/api/me/messages')).status)).toBe(401);
  });
});

describe('web voicemail sessions', () => {
  it("end when the mailbox's PIN changes (by phone or an administrator's reset)", async () => {
    await page.goto(`${base}/web/#/signin`);
    await page.fill('#mailbox', '27001');
    await page.fill('#pin', PIN);
    await page.click('#owner-signin button[type=submit]');
    await page.waitForSelector('#messages, .muted');
    expect(await page.evaluate(async () => (await fetch('/api/me')).status)).toBe(200);
    await store.setPin('27001', '1357');
    expect(await page.evaluate(async () => (await fetch('/api/me')).status)).toBe(401);
  });
});
