/**
 * Who may call which route (src/http/auth.ts): every operation of /openapi.json says it, and the server
 * enforces exactly that. A mailbox owner's session cookie and a signed media link are refused (401/403) on
 * every administrator's route the document lists (iterated, not picked), with every method it names, and
 * still work on their own routes; a signed link's signature never reaches the request log; the owner's routes
 * (the sign-in is open to anyone) take small bodies only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../helpers/http-api.js';
import { recordingIn } from '../helpers/store-fixture.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';

const PIN = '7391';
let api: ApiServer;
let store: SqliteStore;
let messageId: string;
let audioPath: string;
let ownerCookie: string;
/** A link signed for audioPath: "/api/…/audio?by=…&exp=…&sig=…". */
let mediaLink: string;

type Operation = { security?: Record<string, string[]>[] };
let doc: { paths: Record<string, Record<string, Operation>> };

beforeAll(async () => {
  api = await startApiServer(['mwi: { resendOnStart: false }', 'mailboxes:', '  - { number: "27000", pin: "1111", name: "Alice Example" }'].join('\n'));
  store = await openSqliteStore(api.ts.dir);
  await store.setPin('27000', PIN);
  messageId = (await store.deposit({ mailbox: '27000', from: '4455', fromName: 'Carol', durationMs: 1000, urgent: false, reason: 'no-answer', audioFile: recordingIn(store.tmpDir, 1000) })).id;
  audioPath = `/api/mailboxes/27000/messages/${encodeURIComponent(messageId)}/audio`;

  const signIn = await fetch(`${api.url}/api/me/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mailbox: '27000', pin: PIN }) });
  expect(signIn.status).toBe(200);
  ownerCookie = signIn.headers.get('set-cookie')!.split(';')[0]!;

  const link = await api.json('POST', '/api/web/media-links', { path: audioPath });
  expect(link.status).toBe(200);
  mediaLink = ((await link.json()) as { url: string }).url;
  expect(mediaLink).toMatch(/\?.*sig=/);

  doc = (await (await api.call('/openapi.json')).json()) as typeof doc;
}, 30_000);

afterAll(async () => {
  await store?.close();
  await api?.stop();
});

/** The document's path with its parameters filled with things that exist (so a refusal is not a 404). */
function concrete(path: string): string {
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, (_m, name: string) => {
    if (name === 'number') return '27000';
    if (name === 'id') return encodeURIComponent(messageId);
    if (name === 'kind') return 'unavailable';
    return 'x';
  });
}

/** Every operation of the document, with the schemes that may call it ([] for anyone; undefined: the default, a token). */
function operations(): { method: string; path: string; schemes: string[] | undefined }[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ method: method.toUpperCase(), path, schemes: op.security?.flatMap((s) => Object.keys(s)) })),
  );
}

describe('the OpenAPI document', () => {
  it("names who may call each operation: owners' routes, signed-link audio, public probes, tokens by default", () => {
    const by = new Map(operations().map((o) => [`${o.method} ${o.path}`, o.schemes]));
    expect(by.get('GET /api/me')).toEqual(['ownerSession']);
    expect(by.get('PATCH /api/me/messages/{id}')).toEqual(['ownerSession']);
    expect(by.get('GET /api/mailboxes/{number}/messages/{id}/audio')).toEqual(['token', 'mediaLink']);
    expect(by.get('GET /api/mailboxes/{number}/greetings/{kind}')).toEqual(['token', 'mediaLink']);
    expect(by.get('GET /healthz')).toEqual([]);
    expect(by.get('POST /api/me/session')).toEqual([]);
    expect(by.get('DELETE /api/mailboxes/{number}')).toBeUndefined();
    expect(by.get('GET /metrics')).toBeUndefined();
  });
});

describe("an owner's session cookie and a signed media link on the administrators' routes", () => {
  it('are refused (401/403) on every operation of /openapi.json that does not name them, and nothing changes', async () => {
    const guarded = operations().filter((o) => o.schemes === undefined || o.schemes.length > 0);
    // The whole admin API, not a handful: mailboxes, messages, greetings, live calls, MWI, calls, import, metrics…
    expect(guarded.filter((o) => o.schemes === undefined).length).toBeGreaterThan(20);
    const linkQuery = mediaLink.slice(mediaLink.indexOf('?'));
    const refusals: string[] = [];
    for (const op of guarded) {
      const path = concrete(op.path);
      const methods = op.method === 'GET' ? ['GET', 'HEAD'] : [op.method];
      for (const method of methods) {
        const body = method === 'GET' || method === 'HEAD' ? undefined : '{}';
        const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json', 'x-requested-with': 'test' };
        const tries: [string, () => Promise<Response>][] = [];
        if (!op.schemes?.includes('ownerSession')) tries.push(['owner cookie', () => fetch(api.url + path, { method, body, headers: { ...headers, cookie: ownerCookie } })]);
        if (!op.schemes?.includes('mediaLink')) tries.push(['media link', () => fetch(api.url + path + linkQuery, { method, body, headers })]);
        for (const [how, attempt] of tries) {
          const res = await attempt();
          await res.arrayBuffer();
          if (res.status !== 401 && res.status !== 403) refusals.push(`${how}: ${method} ${path} answered ${res.status}`);
        }
      }
    }
    expect(refusals).toEqual([]);
    // DELETE /api/mailboxes/{number}, PATCH/DELETE of the message, the PIN reset…: none happened.
    const mailbox = await store.findMailbox('27000');
    expect(mailbox?.locked).toBe(false);
    expect((await store.getMessage(messageId))?.folder).toBe('new');
  });

  it('a signed link opens no other audio than the one it was signed for', async () => {
    const query = mediaLink.slice(mediaLink.indexOf('?'));
    const res = await fetch(`${api.url}/api/mailboxes/27000/greetings/unavailable${query}`);
    expect(res.status).toBe(401);
  });
});

describe('on their own routes', () => {
  it("the owner's cookie opens the owner's mailbox; an administrator's token does not (403)", async () => {
    const me = await fetch(`${api.url}/api/me`, { headers: { cookie: ownerCookie } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ number: '27000' });
    const audio = await fetch(`${api.url}/api/me/messages/${encodeURIComponent(messageId)}/audio`, { headers: { cookie: ownerCookie, range: 'bytes=0-99' } });
    expect(audio.status).toBe(206);
    expect((await audio.arrayBuffer()).byteLength).toBe(100);
    const asAdmin = await api.call('/api/me');
    expect(asAdmin.status).toBe(403);
  });

  it('the signed link plays its audio, with ranges', async () => {
    const res = await fetch(api.url + mediaLink, { headers: { range: 'bytes=44-143' } });
    expect(res.status).toBe(206);
    expect((await res.arrayBuffer()).byteLength).toBe(100);
  });
});

describe("the owner's routes' bodies", () => {
  it('a sign-in (open to anyone) or an owner request over 4 KiB is refused with 413, unparsed', async () => {
    // Nested brackets: the JSON a client could send to hold the server's loop while it is parsed.
    const nested = JSON.stringify({ mailbox: '27000', pin: PIN, x: JSON.parse('['.repeat(3000) + ']'.repeat(3000)) as unknown });
    const signIn = await fetch(`${api.url}/api/me/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: nested });
    expect(signIn.status).toBe(413);
    const patch = await fetch(`${api.url}/api/me/messages/${encodeURIComponent(messageId)}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', cookie: ownerCookie },
      body: JSON.stringify({ heard: true, pad: 'x'.repeat(5000) }),
    });
    expect(patch.status).toBe(413);
  });
});

describe('the request log', () => {
  it("logs a signed link's request without its signature, with who asked for it", async () => {
    const sig = new URLSearchParams(mediaLink.slice(mediaLink.indexOf('?') + 1)).get('sig')!;
    const res = await fetch(`${api.url}${mediaLink}&logged=1`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    await expect.poll(() => api.logs().some((l) => l.msg === 'http request' && String(l.url).includes('logged=1'))).toBe(true);
    const line = api.logs().find((l) => l.msg === 'http request' && String(l.url).includes('logged=1'))!;
    expect(line.url).toContain('sig=REDACTED');
    expect(line['media-link']).toBe('ops-test');
    expect(JSON.stringify(api.logs())).not.toContain(sig);
  });
});

describe('a Prometheus scrape', () => {
  it('is logged at debug, not info (one every 15 s would fill the log)', async () => {
    const res = await api.call('/metrics?scrape-probe=1');
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    await expect.poll(() => api.logs().some((l) => l.msg === 'http request' && String(l.url).includes('scrape-probe'))).toBe(true);
    const line = api.logs().find((l) => l.msg === 'http request' && String(l.url).includes('scrape-probe'))!;
    expect(line.level).toBe('debug');
  });
});
