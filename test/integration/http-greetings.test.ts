/**
 * Greetings and recorded names over the API (src/http/routes/greetings.ts, audio-convert.ts): uploads in
 * other formats (44.1 kHz stereo WAV, FLAC) are stored as 8 kHz mono 16-bit WAV the phone plays; download
 * (whole and a range); delete. Refused, with the stored greeting untouched: a body that is not audio (text
 * sent as audio/wav: 422; as text/plain: 415), a body over http.maxBodyBytes (413, and a 1 GB upload refused
 * from its Content-Length before it is read), a kind that is not one (422), an unknown mailbox (404).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWavHeader } from '../../src/media/wav.js';
import { startApiServer, type ApiServer } from '../helpers/http-api.js';

const MAX_BODY = 256 * 1024;
let api: ApiServer;
let dir: string;

/** A 0.6 s tone made by sox in `format` at 44.1 kHz stereo. */
function tone(format: 'wav' | 'flac'): Buffer {
  const file = join(dir, `tone.${format}`);
  execFileSync('sox', ['-n', '-r', '44100', '-c', '2', '-b', '16', file, 'synth', '0.6', 'sine', '700']);
  return readFileSync(file);
}

const upload = (kind: string, body: Buffer | string, type: string, query = ''): Promise<Response> =>
  api.call(`/api/mailboxes/27000/greetings/${kind}${query}`, { method: 'PUT', body: typeof body === 'string' ? body : new Uint8Array(body), headers: { 'content-type': type } });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vmpilot-greeting-'));
  api = await startApiServer('mailboxes:\n  - { number: "27000", pin: "7391", name: "Alice Example" }', `maxBodyBytes: ${MAX_BODY}`);
});
afterAll(async () => {
  await api?.stop();
});

describe('upload', () => {
  it('converts a 44.1 kHz stereo WAV to 8 kHz mono 16-bit; download gives it back, whole and in ranges', async () => {
    const res = await upload('unavailable', tone('wav'), 'audio/wav');
    expect(res.status).toBe(200);
    const { durationMs } = (await res.json()) as { durationMs: number };
    expect(durationMs).toBeGreaterThanOrEqual(590);
    expect(durationMs).toBeLessThanOrEqual(610);
    const got = await api.call('/api/mailboxes/27000/greetings/unavailable');
    expect(got.headers.get('content-type')).toBe('audio/wav');
    const wav = Buffer.from(await got.arrayBuffer());
    expect(parseWavHeader(wav)).toMatchObject({ encoding: 'pcm16', sampleRate: 8000, channels: 1, bitsPerSample: 16 });
    const part = await api.call('/api/mailboxes/27000/greetings/unavailable', { headers: { range: 'bytes=44-143' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(wav.subarray(44, 144))).toBe(true);
    expect((await (await api.call('/api/mailboxes/27000')).json()).greetings).toEqual(['unavailable']);
  });

  it('takes FLAC as application/octet-stream (the format is read from the bytes) for the recorded name', async () => {
    const res = await upload('name', tone('flac'), 'application/octet-stream');
    expect(res.status).toBe(200);
    const wav = Buffer.from(await (await api.call('/api/mailboxes/27000/greetings/name')).arrayBuffer());
    expect(parseWavHeader(wav)).toMatchObject({ sampleRate: 8000, channels: 1 });
  });

  it('a temporary greeting takes an end time; other kinds refuse one', async () => {
    const until = new Date(Date.now() + 86_400_000).toISOString();
    expect((await upload('temporary', tone('wav'), 'audio/wav', `?until=${until}`)).status).toBe(200);
    expect((await (await api.call('/api/mailboxes/27000')).json()).temporaryGreetingUntil).toBe(until);
    expect((await upload('busy', tone('wav'), 'audio/wav', `?until=${until}`)).status).toBe(422);
  });
});

describe('refused uploads leave the stored greeting as it was', () => {
  let before: Buffer;
  beforeAll(async () => {
    before = Buffer.from(await (await api.call('/api/mailboxes/27000/greetings/unavailable')).arrayBuffer());
  });

  it('text claiming to be audio/wav: 422 saying it is not audio', async () => {
    const res = await upload('unavailable', 'RIFF this is not a recording at all', 'audio/wav');
    expect(res.status).toBe(422);
    expect((await res.json()).detail).toMatch(/^not audio sox can read/);
  });

  it('a text/plain or JSON body: 415', async () => {
    expect((await upload('unavailable', 'hello', 'text/plain')).status).toBe(415);
    expect((await upload('unavailable', '{}', 'application/json')).status).toBe(415);
    expect((await upload('unavailable', 'x', 'image/png')).status).toBe(415);
  });

  it('a body over http.maxBodyBytes: 413', async () => {
    const res = await upload('unavailable', Buffer.alloc(MAX_BODY + 1), 'audio/wav');
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('a 1 GB upload: 413 from its Content-Length, before the body is sent', async () => {
    const url = new URL(`${api.url}/api/mailboxes/27000/greetings/unavailable`);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(url, { method: 'PUT', headers: { authorization: `Bearer ${api.token}`, 'content-type': 'audio/wav', 'content-length': String(1024 ** 3) } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      req.write(Buffer.alloc(64 * 1024));
    });
    expect(status).toBe(413);
  });

  it('a kind that is not one: 422 naming it; an unknown mailbox: 404', async () => {
    const bad = await upload('..%2F..%2Fetc', tone('wav'), 'audio/wav');
    expect(bad.status).toBe(422);
    expect((await bad.json()).errors).toEqual([{ path: 'path.kind', message: expect.any(String) }]);
    const unknown = await api.call('/api/mailboxes/99999/greetings/busy', { method: 'PUT', body: new Uint8Array(tone('wav')), headers: { 'content-type': 'audio/wav' } });
    expect(unknown.status).toBe(404);
  });

  it('the greeting is what it was', async () => {
    expect(Buffer.from(await (await api.call('/api/mailboxes/27000/greetings/unavailable')).arrayBuffer()).equals(before)).toBe(true);
  });
});

describe('delete', () => {
  it('removes the greeting (204); then it is a 404', async () => {
    expect((await api.call('/api/mailboxes/27000/greetings/name', { method: 'DELETE' })).status).toBe(204);
    expect((await api.call('/api/mailboxes/27000/greetings/name')).status).toBe(404);
    expect((await api.call('/api/mailboxes/27000/greetings/name', { method: 'DELETE' })).status).toBe(404);
  });
});
