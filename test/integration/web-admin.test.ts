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
import { mkdirSync, readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeLayout } from '../../src/store/layout.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import type { MessageRecord } from '../../src/store/types.js';
import { RawUdpPeer, okFor } from '../helpers/raw-peer.js';
import { runSipp, type SippResult } from '../helpers/sipp.js';
import { recordingIn } from '../helpers/store-fixture.js';
import { startApiServer, type ApiServer } from '../helpers/http-api.js';

const SHOTS = resolve(import.meta.dirname, '../../test-output/webadmin');
const PIN = '2468';
/** Mailboxes besides the two the test uses, written straight into the database (one hash, no scrypt each). */
const BULK = 2000;

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'];

let api: ApiServer;
let TOKEN: string;
let pbx: RawUdpPeer;
let answering: NodeJS.Timeout;
let store: SqliteStore;
let browser: Browser;
let page: Page;
let base: string;
let aliceMessage: MessageRecord;
let bobMessage: MessageRecord;
/** A message in another owner's mailbox (30000), which Bob's session must not reach. */
let otherMessage: MessageRecord;
const shots: string[] = [];

async function screenshot(name: string): Promise<void> {
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  shots.push(path);
}

/** The status of a GET of `path` exactly as written (no URL normalization on the way). */
function statusOf(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: '127.0.0.1', port: new URL(base).port, path }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
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
      if (text.startsWith('NOTIFY ')) void pbx.send(api.ts.port('udp'), okFor(text)).catch(() => undefined);
    }
  }, 10);
  api = await startApiServer(
    [
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
  ({ url: base, token: TOKEN } = api);
  // A second connection to the server's database, as the CLI opens one: the server sees its changes.
  store = await openSqliteStore(api.ts.dir);
  await store.setPin('27000', PIN);
  await store.setPin('27001', PIN);
  seedMailboxes(api.ts.dir, (await store.findMailbox('27000'))!.pinHash);
  aliceMessage = await store.deposit({ mailbox: '27000', from: '4455', fromName: 'Carol Caller', durationMs: 2500, urgent: false, reason: 'no-answer', audioFile: recordingIn(store.tmpDir, 2500) });
  otherMessage = await store.deposit({ mailbox: '30000', from: '4488', fromName: 'Not For Bob', durationMs: 1000, urgent: false, reason: 'direct', audioFile: recordingIn(store.tmpDir, 1000) });
  bobMessage = await store.deposit({ mailbox: '27001', from: '4477', fromName: 'For Bob Only', durationMs: 1000, urgent: false, reason: 'direct', audioFile: recordingIn(store.tmpDir, 1000) });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
}, 60_000);

afterAll(async () => {
  clearInterval(answering);
  await browser?.close();
  await store?.close();
  await api?.stop();
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
    await page.waitForSelector('#mailboxes tbody tr');
    expect(await page.evaluate(() => sessionStorage.getItem('vmpilot.token'))).toBe(TOKEN);
    expect(await page.textContent('#range')).toBe(`1–50 of ${BULK + 2}`);
  });

  it('pages through 2,002 mailboxes and finds one by its name (the server searches and pages)', async () => {
    await page.click('#next');
    await expect.poll(() => page.textContent('#range')).toBe(`51–100 of ${BULK + 2}`);
    const listRequests: string[] = [];
    page.on('request', (r) => r.url().includes('/api/mailboxes?') && listRequests.push(r.url()));
    await page.fill('#search', 'alice');
    await expect.poll(() => page.textContent('#range')).toBe('1–1 of 1');
    expect(await page.locator('#mailboxes tbody tr td:first-child').allTextContents()).toEqual(['27000']);
    // One page of 50 rows at most was asked for, never the whole list.
    expect(listRequests.every((u) => new URL(u).searchParams.get('limit') === '50')).toBe(true);
    await screenshot('mailboxes');
  });

  it('plays a message to its end in the audio element, fetched with range requests (206), and seeks in it', async () => {
    const audioResponses: { status: number; range: string | null; contentRange: string | null }[] = [];
    page.on('response', (r) => {
      if (/\/messages\/[^/]+\/audio/.test(r.url())) audioResponses.push({ status: r.status(), range: r.request().headers().range ?? null, contentRange: r.headers()['content-range'] ?? null });
    });
    await page.click('#mailboxes a[href="#/mailbox/27000"]');
    await page.waitForSelector(`#messages tr[data-id="${aliceMessage.id}"]`);
    expect(await page.textContent('#mailbox-summary')).toContain('1 new, 0 saved');
    await page.click(`#messages tr[data-id="${aliceMessage.id}"] button[data-action=play]`);
    await page.waitForFunction(() => (document.getElementById('player') as HTMLAudioElement).ended, undefined, { timeout: 15_000 });
    const played = await page.evaluate(() => {
      const audio = document.getElementById('player') as HTMLAudioElement;
      return { duration: audio.duration, seekableEnd: audio.seekable.length > 0 ? audio.seekable.end(0) : 0 };
    });
    expect(played.duration).toBeCloseTo(2.5, 1);
    expect(played.seekableEnd).toBeCloseTo(2.5, 1);
    expect(audioResponses.some((r) => r.status === 206 && r.range !== null && /^bytes \d+-\d+\/40044$/.test(r.contentRange ?? ''))).toBe(true);
    // Seek into the middle and play on from there to the end.
    const resumed = await page.evaluate(async () => {
      const audio = document.getElementById('player') as HTMLAudioElement;
      const seeked = new Promise((resolve) => audio.addEventListener('seeked', resolve, { once: true }));
      audio.currentTime = 1.5;
      await seeked;
      const at = audio.currentTime;
      const ended = new Promise((resolve) => audio.addEventListener('ended', resolve, { once: true }));
      await audio.play();
      await ended;
      return { at, end: audio.currentTime };
    });
    expect(resumed.at).toBeCloseTo(1.5, 1);
    expect(resumed.end).toBeCloseTo(2.5, 1);
    await screenshot('mailbox');
  });

  it('marks the message read and unread, then deletes it: the lamp NOTIFY follows each, and goes out', async () => {
    const row = `#messages tr[data-id="${aliceMessage.id}"]`;
    // The deposit (made through the test's own store connection) lit the lamp first.
    await expect.poll(() => notifiesFor('27000').some((n) => n.includes('Messages-Waiting: yes')), { timeout: 5000 }).toBe(true);
    let from = pbx.received.length;
    await page.click(`${row} button[data-action=read]`);
    await expect.poll(() => notifiesFor('27000', from).some((n) => n.includes('Messages-Waiting: no') && n.includes('Voice-Message: 0/1')), { timeout: 5000 }).toBe(true);
    await page.waitForSelector(`${row} button[data-action=unread]`);
    from = pbx.received.length;
    await page.click(`${row} button[data-action=unread]`);
    await expect.poll(() => notifiesFor('27000', from).some((n) => n.includes('Messages-Waiting: yes') && n.includes('Voice-Message: 1/0')), { timeout: 5000 }).toBe(true);
    await page.waitForSelector(`${row} button[data-action=read]`);
    from = pbx.received.length;
    await page.click(`${row} button[data-action=delete]`);
    await expect.poll(() => notifiesFor('27000', from).some((n) => n.includes('Messages-Waiting: no') && n.includes('Voice-Message: 0/0')), { timeout: 5000 }).toBe(true);
    await page.waitForSelector(row, { state: 'detached' });
    expect((await store.getMessage(aliceMessage.id))?.folder).toBe('deleted');
  });
});

describe('greetings', () => {
  it('uploads a greeting from the page and plays it back', async () => {
    await page.goto(`${base}/web/#/mailbox/27000`);
    const row = page.locator('#greetings tr[data-kind=unavailable]');
    await row.locator('input[type=file]').setInputFiles({ name: 'hello.wav', mimeType: 'audio/wav', buffer: readFileSync(recordingIn(store.tmpDir, 1200)) });
    await expect.poll(async () => (await store.findMailbox('27000'))?.greetings.unavailable !== undefined, { timeout: 10_000 }).toBe(true);
    await row.locator('audio:not([hidden])').waitFor();
    const played = await row.locator('audio').evaluate(async (audio: HTMLAudioElement) => {
      const ended = new Promise((resolve) => audio.addEventListener('ended', resolve, { once: true }));
      await audio.play();
      await ended;
      return audio.duration;
    });
    expect(played).toBeCloseTo(1.2, 1);
    await screenshot('greetings');
  });
});

describe('live calls', () => {
  it('lists a call in progress and hangs it up (the caller receives the BYE)', async () => {
    // The echo test: left alone it would talk for 7 s and more (a prompt, 5 s recorded, the playback).
    const caller = runSipp({ scenario: 'uac-server-bye.xml', transport: 'udp', port: api.ts.port('udp'), service: '*43', timeoutS: 20 });
    await page.goto(`${base}/web/#/calls`);
    const row = page.locator('#calls tbody tr');
    await row.first().waitFor({ timeout: 10_000 });
    const listedAt = Date.now();
    expect(await row.count()).toBe(1);
    expect(await row.first().textContent()).toContain('*43');
    await screenshot('calls');
    await row.first().locator('button[data-action=hangup]').click();
    const result: SippResult = await caller;
    expect(result.successful).toBe(1);
    // Ended by the button, not by the echo test running out.
    expect(Date.now() - listedAt).toBeLessThan(5000);
    await expect.poll(() => page.locator('#calls tbody tr').count()).toBe(0);
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
    await page.goto(`${base}/web/#/signin`);
    await page.evaluate(() => sessionStorage.clear());
    await page.reload();
    await page.fill('#mailbox', '27001');
    await page.fill('#pin', '9999');
    await page.click('#owner-signin button[type=submit]');
    await expect.poll(() => page.textContent('#owner-error')).toContain('not correct');
    expect(await page.context().cookies()).toEqual([]);
  });

  it('refuses a mailbox whose PIN is still the provisioned one (the owner chooses a PIN by phone first)', async () => {
    await store.updateMailbox('30001', { mustChangePin: true });
    const r = await fetch(`${base}/api/me/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mailbox: '30001', pin: PIN }) });
    expect(r.status).toBe(403);
    expect(r.headers.get('set-cookie')).toBeNull();
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
        otherAudio: await get(`/api/me/messages/${ids.other}/audio`),
        otherDelete: (await fetch(`/api/me/messages/${ids.other}`, { method: 'DELETE', headers: { 'x-requested-with': 'test' } })).status,
        ownAudio: await get(`/api/me/messages/${ids.bob}/audio`),
        ownPart: await fetch(`/api/me/messages/${ids.bob}/audio`, { headers: { range: 'bytes=100-199' } }).then(async (r) => `${r.status} ${r.headers.get('content-range')} ${(await r.arrayBuffer()).byteLength}`),
        adminList: await get('/api/mailboxes'),
        adminAudio: await get(`/api/mailboxes/30000/messages/${ids.other}/audio`),
      };
    }, { other: otherMessage.id, bob: bobMessage.id });
    expect(statuses).toEqual({ otherAudio: 404, otherDelete: 404, ownAudio: 200, ownPart: '206 bytes 100-199/16044 100', adminList: 401, adminAudio: 401 });
    expect((await store.getMessage(otherMessage.id))?.folder).toBe('new');
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

describe("the page's files", () => {
  it('are served with their types, a CSP and an ETag (304 when unchanged), and nothing outside them', async () => {
    const index = await fetch(`${base}/web/`);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    const js = await fetch(`${base}/web/js/app.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('no-cache');
    const again = await fetch(`${base}/web/js/app.js`, { headers: { 'if-none-match': js.headers.get('etag')! } });
    expect(again.status).toBe(304);
    // Sent byte for byte (fetch would resolve the dots before sending): only the page's own files are served.
    for (const trick of ['/web/../package.json', '/web/%2e%2e/package.json', '/web/js/..%2f..%2fpackage.json', '/web/..%5cpackage.json', '/web/index.html%00.js', '/web/nope.js']) {
      expect(await statusOf(trick), trick).toBe(404);
    }
  });
});

describe('web voicemail sign-in back-off', () => {
  it('answers 429 with Retry-After once wrong PINs from one address reach the threshold, the PIN unread', async () => {
    const signIn = (pin: string) =>
      fetch(`${base}/api/me/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mailbox: '27000', pin }) });
    // voicemail.pinBackoff.sourceAfter (3 by default): the earlier wrong PIN of this file counted too.
    const statuses: number[] = [];
    let waited: Response | undefined;
    for (let i = 0; i < 4 && !waited; i++) {
      const r = await signIn('0000');
      statuses.push(r.status);
      if (r.status === 429) waited = r;
    }
    expect(statuses.slice(0, -1).every((s) => s === 401)).toBe(true);
    expect(waited?.status).toBe(429);
    expect(Number(waited?.headers.get('retry-after'))).toBeGreaterThan(0);
    // During the delay even the right PIN is not looked at.
    expect((await signIn(PIN)).status).toBe(429);
  });
});
