/**
 * http.trustProxy: the admin HTTP server behind a reverse proxy. X-Forwarded-For names the client only when
 * the peer that sent it is a listed proxy; otherwise the client is the socket's peer, whatever the header says.
 * Real servers on loopback (the test process plays both proxy and clients: the peer is always 127.0.0.1).
 *
 * Covers: with 127.0.0.1 listed, the request log's `remote` is the forwarded client and the web sign-in's
 * back-off counts each forwarded client on its own (client A's wrong PINs do not slow client B); with another
 * proxy listed (and with the key absent) the header is ignored: `remote` is 127.0.0.1 and a client cannot
 * escape the back-off by writing a new X-Forwarded-For on each try; `trustProxy: true` and bad addresses are
 * config errors.
 * Does not cover: X-Forwarded-Proto/Host (fastify's, unused by vmpilot's routes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startApiServer, type ApiServer } from '../helpers/http-api.js';

const MAILBOXES = ['mwi: { resendOnStart: false }', 'voicemail: { pinBackoff: { sourceAfter: 3 }, lockAfter: 50 }', 'mailboxes:', '  - { number: "27000", pin: "1111", name: "Alice Example" }'].join('\n');

/** A wrong-PIN sign-in as the client `forwardedFor` (X-Forwarded-For); its status. */
async function wrongSignIn(api: ApiServer, forwardedFor: string): Promise<number> {
  const r = await fetch(`${api.url}/api/me/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
    body: JSON.stringify({ mailbox: '27000', pin: '0000' }),
  });
  await r.arrayBuffer();
  return r.status;
}

/** The `remote` of the request log line for a GET of `marker` (as a query) sent with X-Forwarded-For. */
async function loggedRemote(api: ApiServer, forwardedFor: string, marker: string): Promise<unknown> {
  await (await api.call(`/openapi.json?m=${marker}`, { headers: { 'x-forwarded-for': forwardedFor } })).arrayBuffer();
  for (let i = 0; i < 50; i++) {
    const line = api.logs().find((l) => l.msg === 'http request' && String(l.url).includes(`m=${marker}`));
    if (line) return line.remote;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no request log line for ${marker}`);
}

describe('with the local proxy listed (http.trustProxy: ["127.0.0.1"])', () => {
  let api: ApiServer;
  beforeAll(async () => {
    api = await startApiServer(MAILBOXES, 'trustProxy: ["127.0.0.1", "10.0.0.0/8"]');
  });
  afterAll(async () => api?.stop());

  it('logs the forwarded client as the remote (the nearest untrusted hop)', async () => {
    expect(await loggedRemote(api, '198.51.100.7', 'a')).toBe('198.51.100.7');
    // A client-written hop left of a trusted one is not believed past the first untrusted address.
    expect(await loggedRemote(api, '203.0.113.9, 198.51.100.7, 10.1.2.3', 'b')).toBe('198.51.100.7');
  });

  it("counts each forwarded client's wrong PINs on its own", async () => {
    for (let i = 0; i < 3; i++) expect(await wrongSignIn(api, '198.51.100.20')).toBe(401);
    expect(await wrongSignIn(api, '198.51.100.20')).toBe(429);
    expect(await wrongSignIn(api, '198.51.100.21')).toBe(401);
  });
});

describe('with a proxy listed that is not the peer, and by default', () => {
  let other: ApiServer;
  let plain: ApiServer;
  beforeAll(async () => {
    other = await startApiServer(MAILBOXES, 'trustProxy: ["192.0.2.1"]');
    plain = await startApiServer(MAILBOXES);
  });
  afterAll(async () => {
    await other?.stop();
    await plain?.stop();
  });

  it('ignores X-Forwarded-For: the remote is the peer', async () => {
    expect(await loggedRemote(other, '198.51.100.7', 'c')).toBe('127.0.0.1');
    expect(await loggedRemote(plain, '198.51.100.7', 'd')).toBe('127.0.0.1');
  });

  it('a client writing a new X-Forwarded-For on each try is still one source to the back-off', async () => {
    for (const api of [other, plain]) {
      for (let i = 0; i < 3; i++) expect(await wrongSignIn(api, `198.51.100.${30 + i}`)).toBe(401);
      expect(await wrongSignIn(api, '198.51.100.99')).toBe(429);
    }
  });
});

describe('config', () => {
  it('takes false or a list of addresses and CIDR blocks, and refuses true and bad entries', () => {
    expect(parseConfig('http: { trustProxy: ["127.0.0.1", "2001:db8::/32"] }', '/tmp').http.trustProxy).toEqual(['127.0.0.1', '2001:db8::/32']);
    expect(parseConfig('', '/tmp').http.trustProxy).toBe(false);
    expect(() => parseConfig('http: { trustProxy: true }', '/tmp')).toThrow(/trustProxy/);
    expect(() => parseConfig('http: { trustProxy: ["proxy.example"] }', '/tmp')).toThrow(/trustProxy/);
  });
});
