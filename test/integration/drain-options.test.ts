/**
 * OPTIONS while draining (issue 9 item 13): PBXs and load balancers poll OPTIONS to decide where calls go, so a
 * draining server must answer 503 with Retry-After, not 200.
 *
 * Covers: before drain() OPTIONS gets 200; during drain() (a call in progress keeps the server up) OPTIONS
 * gets 503 with a Retry-After, and so does a new INVITE; the call's BYE still gets 200.
 *
 * Does not cover: the drain deadline and process exit (drain.test.ts runs the real CLI with SIGTERM).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inDialog, invite, options, RawUdpPeer } from '../helpers/raw-peer.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/test-server.js';

describe('a draining server', () => {
  let ts: TestServer;
  let peer: RawUdpPeer;
  beforeAll(async () => {
    ts = await startTestServer('services: { echo: ["7000"] }');
    peer = await RawUdpPeer.open('127.0.0.1');
  });
  afterAll(async () => {
    peer.close();
    await ts.stop();
  });

  const ask = async (id: string): Promise<string> => {
    const from = peer.received.length;
    await peer.send(ts.port('udp'), options({ port: peer.port, callId: id, service: '7000' }));
    return (await peer.waitFor((t) => /^SIP\/2\.0 [2-6]\d\d /.test(t) && t.includes(`Call-ID: ${id}\r\n`), 3000, from)).text;
  };

  it('answers OPTIONS 200 before, and 503 with Retry-After while draining', async () => {
    expect(await ask(`opt-before-${process.pid}`)).toMatch(/^SIP\/2\.0 200 /);

    // A call in progress keeps the server draining (rather than closed) while we ask.
    const callId = `drain-call-${process.pid}`;
    const port = ts.port('udp');
    await peer.send(port, invite({ port: peer.port, callId, service: '7000' }));
    const ok = (await peer.waitFor((t) => t.startsWith('SIP/2.0 200') && t.includes(`Call-ID: ${callId}`))).text;
    await peer.send(port, inDialog(ok, { method: 'ACK', cseq: 1, port: peer.port, callId }));
    await waitFor(() => ts.server.calls.size === 1, 'the call to be up');

    const drained = ts.server.drain(10_000);
    const during = await ask(`opt-during-${process.pid}`);
    expect(during).toMatch(/^SIP\/2\.0 503 /);
    expect(during).toMatch(/\r\nRetry-After: *\d+\r\n/i);

    const from = peer.received.length;
    await peer.send(port, inDialog(ok, { method: 'BYE', cseq: 2, port: peer.port, callId }));
    await peer.waitFor((t) => t.startsWith('SIP/2.0 200') && t.includes('CSeq: 2 BYE'), 3000, from);
    await drained;
  });
});
