/**
 * Bulk provisioning over the HTTP API (src/http/routes/mailbox-import.ts) against a real server: POST
 * /api/mailboxes/import with a text/csv body (dry run, then for real), bad rows (422 listing every line,
 * nothing applied), a body over 16 MiB (413), a body that is not CSV (415), GET /api/mailboxes/export and the export imported back
 * (nothing changes), without a token (401).
 *
 * Does not cover: the CSV rules in depth and thousands of rows (cli-mailbox-import.test.ts, same code).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../helpers/http-api.js';
import { MAILBOX_CSV_MAX_BYTES } from '../../src/admin/mailbox-import.js';

let api: ApiServer;

beforeAll(async () => {
  api = await startApiServer(
    ['services: { voicemail: ["8000"], attendant: ["8001"] }', 'mailboxes:', '  - { number: "27000", pin: "7391", name: "Alice Example" }'].join('\n'),
  );
});
afterAll(async () => {
  await api?.stop();
});

const csv = (lines: string[]): RequestInit => ({ method: 'POST', body: lines.join('\n'), headers: { 'content-type': 'text/csv' } });
const USERS = ['number,name,pin,email,aliases,attachAudio', '27101,Bob Builder,4826,bob@example.com,+4687270101,on', '27102,Carol Jones,4826,,,off'];

describe('POST /api/mailboxes/import', () => {
  it('?dryRun=true answers what would change and writes nothing', async () => {
    const res = await api.call('/api/mailboxes/import?dryRun=true', csv(USERS));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ dryRun: true, created: ['27101', '27102'], updated: [], unchanged: 0, pinsIgnored: 0 });
    expect((await api.call('/api/mailboxes/27101')).status).toBe(404);
  });

  it('imports: the mailboxes exist with their fields', async () => {
    const res = await api.call('/api/mailboxes/import', csv(USERS));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ dryRun: false, created: ['27101', '27102'], unchanged: 0 });
    const bob = await api.call('/api/mailboxes/+4687270101');
    expect(await bob.json()).toMatchObject({ number: '27101', name: 'Bob Builder', email: 'bob@example.com', attachAudio: true, mustChangePin: true });
  });

  it('bad rows: 422 with every problem by line, nothing applied', async () => {
    const res = await api.call('/api/mailboxes/import', csv(['number,name,pin', '27103,Dave,4826', '27104,,12', '27101,Bob Renamed,', '8000,Pilot,4826']));
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = (await res.json()) as { errors: { path: string; message: string }[] };
    expect(body.errors).toEqual([
      { path: 'line 3', message: 'pin: "12" is not a PIN (4 to 16 digits)' },
      { path: 'line 3', message: 'name: a new mailbox needs a name' },
      { path: 'line 5', message: 'number 8000 is the voicemail pilot number' },
    ]);
    expect((await api.call('/api/mailboxes/27103')).status).toBe(404);
    expect(await (await api.call('/api/mailboxes/27101')).json()).toMatchObject({ name: 'Bob Builder' });
  });

  it('a body over 16 MiB (under http.maxBodyBytes): 413 problem, nothing applied', async () => {
    const row = '27190,Too Many,4826\n';
    const body = `number,name,pin\n${row.repeat(Math.ceil((MAILBOX_CSV_MAX_BYTES + 1) / row.length))}`;
    const res = await api.call('/api/mailboxes/import', { method: 'POST', body, headers: { 'content-type': 'text/csv' } });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await api.call('/api/mailboxes/27190')).status).toBe(404);
  });

  it('a JSON body is not CSV: 415', async () => {
    const res = await api.json('POST', '/api/mailboxes/import', { number: '27105' });
    expect(res.status).toBe(415);
  });

  it('without a token: 401', async () => {
    const res = await fetch(`${api.url}/api/mailboxes/import`, csv(USERS));
    expect(res.status).toBe(401);
  });
});

describe('GET /api/mailboxes/export', () => {
  it('answers the CSV without PINs; importing it back changes nothing', async () => {
    const res = await api.call('/api/mailboxes/export');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const text = await res.text();
    expect(text.split('\r\n').slice(0, 3)).toEqual([
      'number,name,pin,email,aliases,attachAudio,maxMessages,maxMinutes,hidden',
      '27000,Alice Example,,,,off,0,0,off',
      '27101,Bob Builder,,bob@example.com,+4687270101,on,0,0,off',
    ]);
    const again = await api.call('/api/mailboxes/import', { method: 'POST', body: text, headers: { 'content-type': 'text/csv' } });
    expect(await again.json()).toEqual({ dryRun: false, created: [], updated: [], unchanged: 3, pinsIgnored: 0 });
  });
});
