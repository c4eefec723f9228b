/**
 * The HTTP server over a server's life (src/http/server.ts, routes/health.ts): /readyz turns 503 (accepting:
 * false) when a drain starts while the API still answers (a held call is hung up over it, which lets the
 * drain end), and the listener closes with the server. HTTPS with http.tls: the certificate is presented
 * and plain HTTP is not spoken.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { afterAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../helpers/http-api.js';
import { runSipp } from '../helpers/sipp.js';
import { tlsFixture } from '../helpers/tls-fixture.js';

const servers: ApiServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
});

describe('while draining', () => {
  it('/readyz is 503 with accepting false, the API still answers, and the listener closes with the server', async () => {
    const api = await startApiServer('shutdown: { drainSeconds: 20 }');
    servers.push(api);
    const sipp = runSipp({ scenario: 'uac-server-bye.xml', transport: 'udp', port: api.ts.port('udp'), service: '*43', timeoutS: 30 });
    let calls: { items: { callId: string }[] } = { items: [] };
    for (let i = 0; i < 150 && calls.items.length === 0; i++) {
      calls = (await (await api.call('/api/live-calls')).json()) as typeof calls;
      if (calls.items.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(calls.items).toHaveLength(1);
    const drained = api.ts.server.drain(20_000);
    const ready = await fetch(`${api.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'not ready', checks: { sip: true, store: true, accepting: false } });
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect((await api.call(`/api/live-calls/${encodeURIComponent(calls.items[0]!.callId)}`, { method: 'DELETE' })).status).toBe(204);
    expect((await sipp).successful).toBe(1);
    await drained;
    await expect(fetch(`${api.url}/healthz`)).rejects.toThrow();
  });
});

describe('http.tls', () => {
  it('serves HTTPS with the configured certificate', async () => {
    const tls = tlsFixture();
    const api = await startApiServer('', `tls: { cert: ${JSON.stringify(tls.certFile)}, key: ${JSON.stringify(tls.keyFile)} }`);
    servers.push(api);
    expect(api.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${api.url}/readyz`, { ca: readFileSync(tls.caFile) }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
    expect(JSON.parse(body)).toMatchObject({ status: 'ready' });
    await expect(fetch(api.url.replace('https:', 'http:') + '/healthz')).rejects.toThrow();
  });
});
