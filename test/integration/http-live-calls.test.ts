/**
 * Live calls over the API (src/http/live-calls.ts, routes/live-calls.ts): a SIPp call in progress is listed
 * with its app, number, caller and start; DELETE hangs it up (SIPp receives the BYE and answers it) and it
 * leaves the list; an unknown call id is a 404. Once in a single server, once through a cluster's front door
 * whose worker holds the call (the front door asks its worker over IPC).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { hashToken, newToken } from '../../src/http/tokens.js';
import { logLine } from '../helpers/cli-process.js';
import { startCluster, workerPort, type Cluster } from '../helpers/cluster.js';
import { startApiServer, type ApiServer } from '../helpers/http-api.js';
import { runSipp } from '../helpers/sipp.js';

interface Listed {
  items: { callId: string; app: string; number: string; from: string; fromName: string; startedAt: string; worker?: number }[];
}

/** Places a call to the echo pilot that stays up until the server sends BYE; resolves with SIPp's result. */
const heldCall = (port: number): ReturnType<typeof runSipp> => runSipp({ scenario: 'uac-server-bye.xml', transport: 'udp', port, service: '*43', timeoutS: 30 });

/** Lists until one call is up, hangs it up over the API, and checks SIPp got the BYE. */
async function hangUpOverApi(call: (path: string, init?: RequestInit) => Promise<Response>, sipp: ReturnType<typeof runSipp>): Promise<Listed['items'][number]> {
  let listed: Listed = { items: [] };
  const end = Date.now() + 15_000;
  while (listed.items.length === 0 && Date.now() < end) {
    listed = (await (await call('/api/live-calls')).json()) as Listed;
    if (listed.items.length === 0) await new Promise((r) => setTimeout(r, 100));
  }
  expect(listed.items).toHaveLength(1);
  const live = listed.items[0]!;
  // The ACK has arrived by now in practice; the BYE then goes at once.
  await new Promise((r) => setTimeout(r, 300));
  const res = await call(`/api/live-calls/${encodeURIComponent(live.callId)}`, { method: 'DELETE' });
  expect(res.status).toBe(204);
  const result = await sipp;
  expect(result.successful, result.stderr).toBe(1);
  const after = (await (await call('/api/live-calls')).json()) as Listed;
  expect(after.items).toEqual([]);
  expect((await call(`/api/live-calls/${encodeURIComponent(live.callId)}`, { method: 'DELETE' })).status).toBe(404);
  return live;
}

describe('a single server', () => {
  let api: ApiServer | undefined;
  afterAll(async () => {
    await api?.stop();
  });

  it('lists the call and hangs it up: SIPp receives the BYE', async () => {
    api = await startApiServer();
    const sipp = heldCall(api.ts.port('udp'));
    const live = await hangUpOverApi(api.call, sipp);
    expect(live).toMatchObject({ app: 'echo', number: '*43', from: '27000', fromName: 'SIPp Caller' });
    expect(live.worker).toBeUndefined();
    expect(Date.parse(live.startedAt)).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe("a cluster's front door", () => {
  let cluster: Cluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  it("lists the worker's call and hangs it up through the worker", async () => {
    const token = newToken();
    cluster = await startCluster({ workers: 1, extraYaml: `http: { listen: "127.0.0.1:0", tokens: [{ name: ops, hash: "${hashToken(token)}" }] }` });
    const url = String((await logLine(cluster.serving, 'vmpilot http listening')).url);
    const call = (path: string, init: RequestInit = {}): Promise<Response> => fetch(url + path, { ...init, headers: { authorization: `Bearer ${token}` } });
    const sipp = heldCall(workerPort(cluster, 0));
    const live = await hangUpOverApi(call, sipp);
    expect(live).toMatchObject({ app: 'echo', worker: 0 });
  });
});
