/**
 * The API's mailboxes (src/http/routes/mailboxes.ts) against a real server: create (201 with Location),
 * list with search and paging, get with counts, change fields (email removed with null, aliases), PIN reset,
 * lock and unlock, renumber, delete; a mailbox of the config file keeps what the config sets. Bad input: wrong types and unknown keys (422 naming each path), malformed JSON
 * (400), a number or alias that is taken or a pilot's (409), an unknown mailbox (404); nothing changes.
 * Deleting a mailbox with messages (and its lamp) is in http-messages.test.ts's store; the store's deletion
 * itself in the store tests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../helpers/http-api.js';

let api: ApiServer;

beforeAll(async () => {
  api = await startApiServer(
    ['services: { voicemail: ["8000"], attendant: ["8001"] }', 'mailboxes:', '  - { number: "27000", pin: "7391", name: "Alice Example", email: alice@example.com }'].join('\n'),
  );
});
afterAll(async () => {
  await api?.stop();
});

const get = async (path: string): Promise<{ status: number; body: Record<string, unknown> }> => {
  const res = await api.call(path);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('POST /api/mailboxes', () => {
  it('creates a mailbox: 201, Location, the owner must change the PIN', async () => {
    const res = await api.json('POST', '/api/mailboxes', { number: '27100', pin: '4826', name: 'Carol Jones', email: 'carol@example.com', aliases: ['+4687270100'], attachAudio: true });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/api/mailboxes/27100');
    expect(await res.json()).toMatchObject({ number: '27100', name: 'Carol Jones', email: 'carol@example.com', aliases: ['+4687270100'], attachAudio: true, mustChangePin: true, locked: false, greetings: [] });
  });

  it('refuses a taken number, a taken alias and a pilot number with 409', async () => {
    for (const body of [
      { number: '27000', pin: '4826', name: 'Again' },
      { number: '27101', pin: '4826', name: 'Alias thief', aliases: ['+4687270100'] },
      { number: '8001', pin: '4826', name: 'Pilot' },
    ]) {
      const res = await api.json('POST', '/api/mailboxes', body);
      expect(res.status, JSON.stringify(body)).toBe(409);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    expect((await get('/api/mailboxes/27101')).status).toBe(404);
  });

  it('refuses bad fields with 422 naming each path, as the config would', async () => {
    const res = await api.json('POST', '/api/mailboxes', { number: 'abc', pin: '12', name: '', email: 'not-an-email', aliases: 'x', colour: 'blue' });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { title: string; errors: { path: string; message: string }[] };
    expect(body.title).toBe('Unprocessable Entity');
    expect(body.errors.map((e) => e.path).sort()).toEqual(['body', 'body.aliases', 'body.email', 'body.name', 'body.number', 'body.pin']);
    expect(body.errors.find((e) => e.path === 'body.pin')?.message).toMatch(/PIN/);
  });

  it('refuses a name over 200 characters or with control characters (422), as the config would', async () => {
    for (const name of ['a'.repeat(201), 'Alice\nEvil: header', 'Alice\u0000']) {
      const res = await api.json('POST', '/api/mailboxes', { number: '27090', pin: '482613', name });
      expect(res.status).toBe(422);
      const body = (await res.json()) as { errors: { path: string }[] };
      expect(body.errors.map((e) => e.path)).toEqual(['body.name']);
    }
    expect((await api.json('POST', '/api/mailboxes', { number: '27090', pin: '482613', name: `Ann ${'é'.repeat(196)}` })).status).toBe(201);
    expect((await api.call('/api/mailboxes/27090', { method: 'DELETE' })).status).toBe(200);
  });

  it('refuses a JSON body over 1 MiB with 413 (JSON is parsed on the loop that paces RTP)', async () => {
    const res = await api.json('POST', '/api/mailboxes', { number: '27300', pin: '4826', name: 'x'.repeat(1024 * 1024) });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('refuses malformed JSON with 400, a missing body with 422, and a form body with 415', async () => {
    const malformed = await api.call('/api/mailboxes', { method: 'POST', body: '{"number": "27200",', headers: { 'content-type': 'application/json' } });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ status: 400, title: 'Bad Request' });
    const empty = await api.call('/api/mailboxes', { method: 'POST' });
    expect(empty.status).toBe(422);
    const form = await api.call('/api/mailboxes', { method: 'POST', body: 'number=27200', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(415);
    expect((await get('/api/mailboxes/27200')).status).toBe(404);
  });
});

describe('GET /api/mailboxes', () => {
  beforeAll(async () => {
    for (let i = 0; i < 12; i++) expect((await api.json('POST', '/api/mailboxes', { number: `2730${String(i).padStart(2, '0')}`, pin: '4826', name: `Sales Person ${i}` })).status).toBe(201);
  });

  it('pages in number order with the total', async () => {
    const page = (await get('/api/mailboxes?offset=2&limit=5')).body as { total: number; items: { number: string }[] };
    expect(page.total).toBe(14);
    expect(page.items.map((m) => m.number)).toEqual(['273000', '273001', '273002', '273003', '273004']);
  });

  it('searches number, alias, name and email, case-insensitively', async () => {
    const numbers = async (q: string): Promise<string[]> => ((await get(`/api/mailboxes?search=${encodeURIComponent(q)}`)).body as { items: { number: string }[] }).items.map((m) => m.number);
    expect(await numbers('ALICE')).toEqual(['27000']);
    expect(await numbers('8727010')).toEqual(['27100']);
    expect(await numbers('carol@')).toEqual(['27100']);
    expect((await numbers('sales person 1')).sort()).toEqual(['273001', '273010', '273011']);
  });

  it('refuses a bad page (422 naming the query parameter)', async () => {
    const res = await api.call('/api/mailboxes?limit=0&offset=-1');
    expect(res.status).toBe(422);
    expect(((await res.json()) as { errors: { path: string }[] }).errors.map((e) => e.path).sort()).toEqual(['query.limit', 'query.offset']);
  });
});

describe('one mailbox', () => {
  it('GET by number or alias, with counts; never the PIN hash', async () => {
    const { status, body } = await get('/api/mailboxes/%2B4687270100');
    expect(status).toBe(200);
    expect(body).toMatchObject({ number: '27100', counts: { new: 0, saved: 0, urgentNew: 0, urgentSaved: 0 } });
    expect(JSON.stringify(body)).not.toMatch(/pinHash|scrypt/);
  });

  it('PATCH changes the fields given; email null removes it', async () => {
    const res = await api.json('PATCH', '/api/mailboxes/27100', { name: 'Carol Smith', email: null, aliases: ['+4687270101', '27199'], hideFromDirectory: true, maxMessages: 20 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ name: 'Carol Smith', aliases: ['+4687270101', '27199'], hideFromDirectory: true, maxMessages: 20, attachAudio: true });
    expect(body).not.toHaveProperty('email');
    expect((await get('/api/mailboxes/%2B4687270100')).status).toBe(404);
  });

  it('PATCH refuses an alias that is another mailbox\'s (409) and wrong types (422); nothing changes', async () => {
    expect((await api.json('PATCH', '/api/mailboxes/27100', { aliases: ['27000'] })).status).toBe(409);
    expect((await api.json('PATCH', '/api/mailboxes/27100', { name: 42, maxMessages: -1 })).status).toBe(422);
    expect((await get('/api/mailboxes/27100')).body).toMatchObject({ name: 'Carol Smith', aliases: ['+4687270101', '27199'], maxMessages: 20 });
  });

  it('locks (PATCH locked), unlocks (POST unlock), resets the PIN (the owner must change it)', async () => {
    expect(await (await api.json('PATCH', '/api/mailboxes/27000', { locked: true })).json()).toMatchObject({ locked: true });
    expect(await (await api.call('/api/mailboxes/27000/unlock', { method: 'POST' })).json()).toMatchObject({ locked: false });
    const reset = await api.json('PUT', '/api/mailboxes/27000/pin', { pin: '5550123' });
    expect(reset.status).toBe(204);
    expect((await get('/api/mailboxes/27000')).body).toMatchObject({ mustChangePin: true, locked: false });
    const weak = await api.json('PUT', '/api/mailboxes/27000/pin', { pin: '12a4' });
    expect(weak.status).toBe(422);
  });

  it('PATCH number renumbers (the old number is gone); a taken number is 409', async () => {
    const res = await api.json('PATCH', '/api/mailboxes/273000', { number: '273999', name: 'Renumbered' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ number: '273999', name: 'Renumbered' });
    expect((await get('/api/mailboxes/273000')).status).toBe(404);
    expect((await api.json('PATCH', '/api/mailboxes/273999', { number: '273001' })).status).toBe(409);
  });

  it("a mailbox of the config file: its fields and number are the config's (409 naming the key), and so is deleting it", async () => {
    const res = await api.json('PATCH', '/api/mailboxes/27000', { name: 'Changed', number: '27009', maxMessages: 5 });
    expect(res.status).toBe(409);
    const body = (await res.json()) as { errors: { path: string; message: string }[] };
    expect(body.errors).toEqual([
      { path: 'body.number', message: 'mailbox 27000 is in the config file (mailboxes[0].number): renumber it there' },
      { path: 'body.name', message: 'set by the config file (mailboxes[0].name): change it there' },
    ]);
    const del = await api.call('/api/mailboxes/27000', { method: 'DELETE' });
    expect(del.status).toBe(409);
    expect((await get('/api/mailboxes/27000')).body).toMatchObject({ name: 'Alice Example', maxMessages: 0 });
  });

  it('MWI resend with no PBX MWI target is a 409 saying why', async () => {
    const res = await api.call('/api/mailboxes/27000/mwi/resend', { method: 'POST' });
    expect(res.status).toBe(409);
    expect((await res.json()).detail).toMatch(/no pbx has mwi\.targets/);
  });

  it('an unknown mailbox is a 404 problem for every method', async () => {
    for (const [method, path, body] of [
      ['GET', '/api/mailboxes/99999', undefined],
      ['PATCH', '/api/mailboxes/99999', { name: 'X' }],
      ['PUT', '/api/mailboxes/99999/pin', { pin: '4826' }],
      ['POST', '/api/mailboxes/99999/unlock', undefined],
      ['DELETE', '/api/mailboxes/99999', undefined],
    ] as const) {
      const res = body === undefined ? await api.call(path, { method }) : await api.json(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(await res.json()).toMatchObject({ status: 404, detail: 'mailbox 99999 not found' });
    }
  });

  it('DELETE removes it with its messages and greetings, and frees its number and aliases', async () => {
    const res = await api.call('/api/mailboxes/27100', { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ number: '27100', messages: 0, greetings: 0 });
    expect((await get('/api/mailboxes/27100')).status).toBe(404);
    expect((await api.json('POST', '/api/mailboxes', { number: '27199', pin: '4826', name: 'Reused alias' })).status).toBe(201);
  });
});
