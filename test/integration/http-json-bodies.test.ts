/**
 * JSON request bodies are small and shallow (src/http/json-body.ts), on every route that takes JSON, since they
 * are parsed on the loop that paces calls' RTP: over 64 KiB is a 413 problem, nesting deeper than 32 levels a
 * 400 problem (counted before JSON.parse, so a body of nested brackets under the size limit is refused at once),
 * and nothing is changed. An ordinary body at its largest still works; brackets inside strings are not nesting;
 * uploads keep their own, larger limit (a CSV import over 64 KiB is taken).
 * Not here: malformed JSON and validation (http-mailboxes.test.ts), the owner's 4 KiB routes (http-access).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../helpers/http-api.js';
import { JSON_BODY_LIMIT, JSON_MAX_DEPTH, nestsDeeperThan } from '../../src/http/json-body.js';

let api: ApiServer;

beforeAll(async () => {
  api = await startApiServer('services: { voicemail: ["8000"], attendant: ["8001"] }');
});
afterAll(async () => {
  await api?.stop();
});

const post = (path: string, body: string, method = 'POST'): Promise<Response> => api.call(path, { method, body, headers: { 'content-type': 'application/json' } });
const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

async function expectProblem(res: Response, status: number, detail: RegExp): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(await res.json()).toMatchObject({ type: 'about:blank', status, detail: expect.stringMatching(detail) });
}

describe('the size of a JSON body', () => {
  it('over 64 KiB: 413, nothing created', async () => {
    const body = JSON.stringify({ number: '27300', pin: '4826', name: 'Big', pad: 'x'.repeat(JSON_BODY_LIMIT) });
    await expectProblem(await post('/api/mailboxes', body), 413, /too large/);
    expect((await api.call('/api/mailboxes/27300')).status).toBe(404);
  });

  it('a megabyte of nested brackets: 413 on every route that takes JSON', async () => {
    const body = nested(512 * 1024);
    for (const [method, path] of [
      ['POST', '/api/mailboxes'],
      ['PATCH', '/api/mailboxes/27000'],
      ['PUT', '/api/mailboxes/27000/pin'],
      ['POST', '/api/web/media-links'],
    ] as const) {
      const res = await post(path, body, method);
      expect(res.status, `${method} ${path}`).toBe(413);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
  });

  it('a body just under the limit is parsed as usual (a 422 naming the extra key)', async () => {
    const body = JSON.stringify({ number: '27301', pin: '4826', name: 'Big', pad: 'x'.repeat(JSON_BODY_LIMIT - 100) });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(JSON_BODY_LIMIT);
    const res = await post('/api/mailboxes', body);
    expect(res.status).toBe(422);
  });

  it('a CSV import keeps http.maxBodyBytes: 180 KiB is taken', async () => {
    const rows = Array.from({ length: 4000 }, (_, i) => `${28000 + i},Imported Person ${i} ${'x'.repeat(20)},482613`);
    const csv = ['number,name,pin', ...rows].join('\n');
    expect(csv.length).toBeGreaterThan(2 * JSON_BODY_LIMIT);
    const res = await api.call('/api/mailboxes/import?dryRun=true', { method: 'POST', body: csv, headers: { 'content-type': 'text/csv' } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { created: string[] }).created).toHaveLength(4000);
  });
});

describe('the nesting of a JSON body', () => {
  it(`deeper than ${JSON_MAX_DEPTH} levels within the size limit: 400, unparsed, nothing created`, async () => {
    const deep = `{"number":"27302","pin":"4826","name":"Deep","x":${nested(30 * 1024)}}`;
    expect(deep.length).toBeLessThan(JSON_BODY_LIMIT);
    await expectProblem(await post('/api/mailboxes', deep), 400, /deeper than 32/);
    const oneTooDeep = `{"number":"27302","pin":"4826","name":"Deep","x":${nested(JSON_MAX_DEPTH)}}`;
    await expectProblem(await post('/api/mailboxes', oneTooDeep), 400, /deeper than 32/);
    expect((await api.call('/api/mailboxes/27302')).status).toBe(404);
  });

  it('at the limit, or with brackets inside strings, the body is parsed and validated as usual', async () => {
    const atLimit = `{"number":"27303","pin":"4826","name":"Deep","x":${nested(JSON_MAX_DEPTH - 1)}}`;
    const res = await post('/api/mailboxes', atLimit);
    expect(res.status).toBe(422);
    expect(((await res.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(['body']);
    const brackets = JSON.stringify({ number: '27304', pin: '4826', name: `[{ "\\"${'['.repeat(100)}` });
    expect((await post('/api/mailboxes', brackets)).status).toBe(201);
  });

  it('the count skips strings and their escapes', () => {
    expect(nestsDeeperThan('[[["]]]]]]]]"]]]', 2)).toBe(true);
    expect(nestsDeeperThan('[["\\"[[[[[["]]', 2)).toBe(false);
    expect(nestsDeeperThan('[[]][[]][[]]', 2)).toBe(false);
    expect(nestsDeeperThan('[[[]]]', 2)).toBe(true);
  });
});
