/**
 * The API's messages (src/http/routes/messages.ts) against a real server with one real deposit (SIPp leaves
 * a message for 27000): list, get, the audio whole and in ranges (206 Content-Range, seeking, 416), heard and
 * unheard, folders, delete; the MWI state and its resend (one mailbox, every mailbox); and that the PBX's lamp follows an API change (a raw UDP peer as the PBX's MWI
 * target answers each NOTIFY). Bad input: unknown mailbox or message, another mailbox's message id, path
 * tricks in the id, a body of the wrong shape.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../helpers/http-api.js';
import { okFor, RawUdpPeer } from '../helpers/raw-peer.js';
import { runSipp } from '../helpers/sipp.js';
import { waitFor } from '../helpers/test-server.js';

const BOB = '"Bob Smith" <sip:27001@127.0.0.1>';
const DIVERSION = 'Diversion: "Alice Example" <sip:27000@127.0.0.1;user=phone>;reason=no-answer;counter=1';

let api: ApiServer;
let pbx: RawUdpPeer;
let answering: NodeJS.Timeout;
let id: string;

/** The Voice-Message lines the PBX received so far. */
const lamp = (): string[] => pbx.received.filter((r) => r.text.startsWith('NOTIFY ')).map((r) => /Voice-Message: *([^\r\n]*)/i.exec(r.text)?.[1] ?? '');

beforeAll(async () => {
  pbx = await RawUdpPeer.open();
  // The PBX answers every NOTIFY (else the server would retransmit it).
  let answered = 0;
  answering = setInterval(() => {
    for (const r of pbx.received.slice(answered)) {
      const via = /^Via: SIP\/2\.0\/UDP [^:]+:(\d+)/im.exec(r.text);
      if (r.text.startsWith('NOTIFY ') && via) void pbx.send(Number(via[1]), okFor(r.text));
    }
    answered = pbx.received.length;
  }, 10);
  api = await startApiServer(
    [
      'pbx:',
      `  - { name: sipp, addresses: ["127.0.0.1"], mwi: { targets: ["sip:127.0.0.1:${pbx.port}"] } }`,
      'mwi: { resendOnStart: false }',
      'voicemail: { reviewMenu: false }',
      'mailboxes:',
      '  - { number: "27000", pin: "7391", name: "Alice Example" }',
      '  - { number: "27001", pin: "7391", name: "Bob Smith" }',
    ].join('\n'),
  );
  const call = await runSipp({ scenario: 'uac-vm-deposit.xml', transport: 'udp', port: api.ts.port('udp'), timeoutS: 30, extra: ['-key', 'vm_from', BOB, '-key', 'vm_header', DIVERSION] });
  expect(call.failed, call.stderr).toBe(0);
  await waitFor(() => lamp().some((l) => l.startsWith('1/0')), 'the lamp on after the deposit', 10_000);
  const listed = (await (await api.call('/api/mailboxes/27000/messages')).json()) as { items: { id: string }[] };
  id = listed.items[0]!.id;
}, 60_000);

afterAll(async () => {
  clearInterval(answering);
  await api?.stop();
  pbx?.close();
});

describe('GET messages', () => {
  it('lists the deposit with who called, when, how long, and its audio URL', async () => {
    const res = await api.call('/api/mailboxes/27000/messages');
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: Record<string, unknown>[] };
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ id, mailbox: '27000', folder: 'new', from: '27001', fromName: 'Bob Smith', heard: false, urgent: false, reason: 'no-answer', audio: `/api/mailboxes/27000/messages/${id}/audio` });
    expect(Date.parse(String(items[0]!.receivedAt))).toBeGreaterThan(Date.now() - 120_000);
    expect(items[0]!.durationMs).toBeGreaterThan(2000);
    expect(items[0]).not.toHaveProperty('audioPath');
  });

  it('filters by folder, and refuses a folder that does not exist (422 naming query.folder)', async () => {
    expect(((await (await api.call('/api/mailboxes/27000/messages?folder=saved')).json()) as { items: unknown[] }).items).toEqual([]);
    const bad = await api.call('/api/mailboxes/27000/messages?folder=inbox');
    expect(bad.status).toBe(422);
    expect((await bad.json()).errors).toEqual([{ path: 'query.folder', message: expect.any(String) }]);
  });

  it('an unknown mailbox, an unknown id, another mailbox\'s id and a path trick are 404 problems', async () => {
    for (const path of ['/api/mailboxes/99999/messages', '/api/mailboxes/27000/messages/nope', `/api/mailboxes/27001/messages/${id}`, `/api/mailboxes/27000/messages/..%2F..%2Fvmpilot.sqlite/audio`]) {
      const res = await api.call(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type'), path).toMatch(/^application\/problem\+json/);
    }
  });
});

describe('the audio', () => {
  let whole: Buffer;

  it('is the WAV, whole, with Accept-Ranges', async () => {
    const res = await api.call(`/api/mailboxes/27000/messages/${id}/audio`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/wav');
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    whole = Buffer.from(await res.arrayBuffer());
    expect(Number(res.headers.get('content-length'))).toBe(whole.length);
    expect(whole.subarray(0, 4).toString()).toBe('RIFF');
    expect(whole.subarray(8, 12).toString()).toBe('WAVE');
  });

  it('answers a range with 206, Content-Range and exactly those bytes (a player seeking)', async () => {
    const res = await api.call(`/api/mailboxes/27000/messages/${id}/audio`, { headers: { range: 'bytes=1000-1999' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes 1000-1999/${whole.length}`);
    expect(Buffer.from(await res.arrayBuffer()).equals(whole.subarray(1000, 2000))).toBe(true);
    const open = await api.call(`/api/mailboxes/27000/messages/${id}/audio`, { headers: { range: `bytes=${whole.length - 100}-` } });
    expect(open.status).toBe(206);
    expect(Buffer.from(await open.arrayBuffer()).equals(whole.subarray(whole.length - 100))).toBe(true);
    const suffix = await api.call(`/api/mailboxes/27000/messages/${id}/audio`, { headers: { range: 'bytes=-44' } });
    expect(suffix.headers.get('content-range')).toBe(`bytes ${whole.length - 44}-${whole.length - 1}/${whole.length}`);
  });

  it('answers a range past the end with 416 and the size', async () => {
    const res = await api.call(`/api/mailboxes/27000/messages/${id}/audio`, { headers: { range: `bytes=${whole.length}-` } });
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe(`bytes */${whole.length}`);
  });
});

describe('changing a message', () => {
  it('heard: true saves it and the lamp goes off; heard: false brings it back and the lamp on', async () => {
    const before = lamp().length;
    const heard = await api.json('PATCH', `/api/mailboxes/27000/messages/${id}`, { heard: true });
    expect(heard.status).toBe(200);
    expect(await heard.json()).toMatchObject({ folder: 'saved', heard: true });
    await waitFor(() => lamp().slice(before).some((l) => l.startsWith('0/1')), 'NOTIFY 0/1');
    const unheard = await api.json('PATCH', `/api/mailboxes/27000/messages/${id}`, { heard: false });
    expect(await unheard.json()).toMatchObject({ folder: 'new', heard: false });
    await waitFor(() => lamp().slice(before).some((l) => l.startsWith('1/0')), 'NOTIFY 1/0');
  });

  it('refuses a body of the wrong shape (422 naming each field) and malformed JSON (400)', async () => {
    const wrong = await api.json('PATCH', `/api/mailboxes/27000/messages/${id}`, { heard: 'yes', folder: 'trash', colour: 1 });
    expect(wrong.status).toBe(422);
    const paths = ((await wrong.json()) as { errors: { path: string }[] }).errors.map((e) => e.path).sort();
    expect(paths).toEqual(['body', 'body.folder', 'body.heard']);
    const malformed = await api.call(`/api/mailboxes/27000/messages/${id}`, { method: 'PATCH', body: '{"heard": tru', headers: { 'content-type': 'application/json' } });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    // Nothing changed.
    expect(await (await api.call(`/api/mailboxes/27000/messages/${id}`)).json()).toMatchObject({ folder: 'new', heard: false });
  });

  it('GET mwi says the lamp is on with the counts the NOTIFY carries', async () => {
    const res = await api.call('/api/mailboxes/27000/mwi');
    expect(await res.json()).toEqual({ mailbox: '27000', waiting: true, voiceMessage: '1/0 (0/0)', counts: { new: 1, saved: 0, urgentNew: 0, urgentSaved: 0 }, subscriptions: 0 });
  });

  it('POST mwi/resend sends the PBX the current state again (202), with no message changed', async () => {
    const before = lamp().length;
    const res = await api.call('/api/mailboxes/27000/mwi/resend', { method: 'POST' });
    expect(res.status).toBe(202);
    await waitFor(() => lamp().length > before, 'a resent NOTIFY');
    expect(lamp().slice(before)).toEqual(['1/0 (0/0)']);
    expect((await api.call('/api/mailboxes/99999/mwi/resend', { method: 'POST' })).status).toBe(404);
  });

  it('POST /api/mwi/resend sends every mailbox\'s state again (202), though the PBX acknowledged them', async () => {
    const before = lamp().length;
    const res = await api.call('/api/mwi/resend', { method: 'POST' });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ mailboxes: 2 });
    await waitFor(() => lamp().length >= before + 2, 'a NOTIFY for each mailbox');
    expect(lamp().slice(before).sort()).toEqual(['0/0 (0/0)', '1/0 (0/0)']);
  });

  it('DELETE moves it to deleted and the PBX gets the lamp-off NOTIFY', async () => {
    const before = lamp().length;
    const res = await api.call(`/api/mailboxes/27000/messages/${id}`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    await waitFor(() => lamp().slice(before).some((l) => l.startsWith('0/0')), 'NOTIFY 0/0 after the delete');
    expect(await (await api.call(`/api/mailboxes/27000/messages/${id}`)).json()).toMatchObject({ folder: 'deleted' });
  });
});
