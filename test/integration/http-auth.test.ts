/**
 * The admin HTTP server's door (src/http/server.ts, auth.ts): what answers without a token (/healthz,
 * /readyz), what a missing or wrong token gets (401 problem details with a Bearer challenge), that every
 * request is logged with the token's name, errors as RFC 9457 problems, and `vmpilot serve` with the
 * `vmpilot http token` line pasted into its config. Resources are in the other http-*.test.ts files.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, TOKEN_NAME, type ApiServer } from '../helpers/http-api.js';
import { freeUdpPort, logLine, logRecords, runCli, serve, stopServing, type Serving } from '../helpers/cli-process.js';
import { hashToken } from '../../src/http/tokens.js';
import { waitFor } from '../helpers/test-server.js';
import { reserveRtpPorts, type RtpRange } from '../helpers/rtp-range.js';

let api: ApiServer;

beforeAll(async () => {
  api = await startApiServer();
});
afterAll(async () => {
  await api?.stop();
});

const noToken = (path: string, headers: Record<string, string> = {}): Promise<Response> => fetch(api.url + path, { headers });

describe('without a token', () => {
  it('/healthz answers 200', async () => {
    const res = await noToken('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz answers 200 with its checks: SIP bound, store reachable, accepting calls', async () => {
    const res = await noToken('/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', checks: { sip: true, store: true, accepting: true } });
  });

  it('anything else is 401 problem details with a Bearer challenge (RFC 6750 §3, RFC 9457)', async () => {
    for (const path of ['/openapi.json', '/api/mailboxes', '/no/such/thing']) {
      const res = await noToken(path);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="vmpilot"');
      expect(await res.json()).toMatchObject({ type: 'about:blank', title: 'Unauthorized', status: 401 });
    }
  });

  it('a wrong token, or another scheme, is 401 too (invalid_token for a bearer token that is not ours)', async () => {
    const wrong = await noToken('/openapi.json', { authorization: 'Bearer vmp_not-a-token-of-this-server' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    expect((await wrong.json()).detail).toBe('the API token is not valid');
    const basic = await noToken('/openapi.json', { authorization: `Basic ${Buffer.from(`x:${api.token}`).toString('base64')}` });
    expect(basic.status).toBe(401);
    // The right token's hash as the token: the config's hash is not a credential.
    const hashed = await noToken('/openapi.json', { authorization: `Bearer ${hashToken(api.token)}` });
    expect(hashed.status).toBe(401);
  });

  it('a refused request is logged with its status and without a token name', async () => {
    await noToken('/openapi.json?refused-probe=1');
    const line = api.logs().find((l) => l.msg === 'http request' && String(l.url).includes('refused-probe'));
    expect(line).toMatchObject({ method: 'GET', status: 401, component: 'http' });
    expect(line).not.toHaveProperty('token');
  });
});

describe('with the token', () => {
  it('answers, and logs the request with the token\'s name', async () => {
    const res = await api.call('/openapi.json?logged-probe=1');
    expect(res.status).toBe(200);
    const line = api.logs().find((l) => l.msg === 'http request' && String(l.url).includes('logged-probe'));
    expect(line).toMatchObject({ method: 'GET', status: 200, token: TOKEN_NAME, remote: '127.0.0.1' });
    expect(typeof line?.ms).toBe('number');
  });

  it('/openapi.json is an OpenAPI 3.1 document naming the probes and the bearer scheme', async () => {
    const doc = (await (await api.call('/openapi.json')).json()) as { openapi: string; paths: Record<string, unknown>; components: { securitySchemes: unknown } };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz']));
    expect(doc.components.securitySchemes).toMatchObject({ token: { type: 'http', scheme: 'bearer' } });
  });

  it('an unknown path is a 404 problem', async () => {
    const res = await api.call('/api/no-such-resource');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ title: 'Not Found', status: 404, detail: 'no such resource: GET /api/no-such-resource' });
  });
});

describe('vmpilot serve with a token from vmpilot http token', () => {
  let serving: Serving | undefined;
  let rtp: RtpRange | undefined;
  afterAll(async () => {
    await stopServing(serving);
    await rtp?.release();
  });

  it('prints a token and a config line; serve takes the line, answers /readyz, and the token opens the API', async () => {
    const made = await runCli('http', 'token', 'nightly-backup');
    expect(made.code).toBe(0);
    const token = /^token: (vmp_\S+)$/m.exec(made.stdout)?.[1];
    const entry = /^ {4}- \{ name: "nightly-backup", hash: "sha256:[0-9a-f]{64}" \}$/m.exec(made.stdout)?.[0];
    expect(token).toBeDefined();
    expect(entry).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'vmpilot-http-cli-'));
    const configFile = join(dir, 'vmpilot.yaml');
    const port = await freeUdpPort();
    rtp = await reserveRtpPorts(20);
    writeFileSync(
      configFile,
      [
        `sip: { listen: ["udp:127.0.0.1:${port}"] }`,
        `rtp: { address: 127.0.0.1, ports: "${rtp.ports}" }`,
        `storage: { dir: ${JSON.stringify(dir)} }`,
        'shutdown: { drainSeconds: 1 }',
        'http:',
        '  listen: "127.0.0.1:0"',
        '  tokens:',
        entry!,
        '',
      ].join('\n'),
    );
    serving = serve(configFile);
    const url = String((await logLine(serving, 'vmpilot http listening')).url);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect((await fetch(`${url}/openapi.json`)).status).toBe(401);
    expect((await fetch(`${url}/openapi.json`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    await logLine(serving, 'vmpilot listening');
    const requestLines = () => logRecords(serving!).filter((r) => r.msg === 'http request');
    await waitFor(() => requestLines().length >= 2, 'two request log lines');
    const logged = requestLines();
    // The probe is logged at debug (not at log.level info); the API calls are, the refused one without a name.
    expect(logged.map((r) => [r.url, r.status, r.token])).toEqual([
      ['/openapi.json', 401, undefined],
      ['/openapi.json', 200, 'nightly-backup'],
    ]);
  });

  it('refuses a name that would not fit a log line', async () => {
    const r = await runCli('http', 'token', 'two words');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the name must be/);
  });
});

describe('/openapi.json (with the token)', () => {
  it('describes every resource, with the request schemas the API validates with', async () => {
    const doc = (await (await api.call('/openapi.json')).json()) as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown>; required?: string[] } }> } }>> };
    for (const path of ['/api/mailboxes', '/api/mailboxes/{number}', '/api/mailboxes/{number}/messages/{id}/audio', '/api/mailboxes/{number}/greetings/{kind}', '/api/mailboxes/{number}/mwi/resend', '/api/live-calls/{callId}', '/api/config/check']) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
    const create = doc.paths['/api/mailboxes']!.post!.requestBody!.content['application/json']!.schema;
    expect(create.required).toEqual(['number', 'pin', 'name']);
    expect(Object.keys(create.properties ?? {})).toEqual(expect.arrayContaining(['email', 'aliases', 'attachAudio']));
    expect(Object.keys(doc.paths['/api/mailboxes/{number}/greetings/{kind}']!.put!.requestBody!.content)).toEqual(['audio/*', 'application/octet-stream']);
  });
});
