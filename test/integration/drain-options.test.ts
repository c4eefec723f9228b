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
import { invite, RawUdpPeer } from '../helpers/raw-peer.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/test-server.js';

function options(peerPort: number, id: string): string {
  return [
    'OPTIONS sip:7000@127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:${peerPort};branch=z9hG4bK${id};rport`,
    `From: <sip:pbx@127.0.0.1>;tag=t${id}`,
    'To: <sip:7000@127.0.0.1>',
    `Call-ID: ${id}`,
    'CSeq: 1 OPTIONS',
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

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
    await peer.send(ts.port('udp'), options(peer.port, id));
    return (await peer.waitFor((t) => /^SIP\/2\.0 [2-6]\d\d /.test(t) && t.includes(`Call-ID: ${id}\r\n`), 3000, from)).text;
  };

  it('answers OPTIONS 200 before, and 503 with Retry-After while draining', async () => {
    expect(await ask(`opt-before-${process.pid}`)).toMatch(/^SIP\/2\.0 200 /);

    // A call in progress keeps the server draining (rather than closed) while we ask.
    const callId = `drain-call-${process.pid}`;
    const port = ts.port('udp');
    await peer.send(port, invite({ port: peer.port, callId, service: '7000' }));
    const ok = (await peer.waitFor((t) => t.startsWith('SIP/2.0 200') && t.includes(`Call-ID: ${callId}`))).text;
    const toLine = ok.match(/^To: *(.*)\r$/im)![1]!;
    const target = ok.match(/^Contact: *<([^>]*)>/im)![1]!;
    const inDialog = (method: string, cseq: number): string =>
      [
        `${method} ${target} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK${callId}-${method};rport`,
        `From: <sip:27000@127.0.0.1>;tag=from-${callId}`,
        `To: ${toLine}`,
        `Call-ID: ${callId}`,
        `CSeq: ${cseq} ${method}`,
        'Max-Forwards: 70',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
    await peer.send(port, inDialog('ACK', 1));
    await waitFor(() => ts.server.calls.size === 1, 'the call to be up');

    const drained = ts.server.drain(10_000);
    const during = await ask(`opt-during-${process.pid}`);
    expect(during).toMatch(/^SIP\/2\.0 503 /);
    expect(during).toMatch(/\r\nRetry-After: *\d+\r\n/i);

    const from = peer.received.length;
    await peer.send(port, inDialog('BYE', 2));
    await peer.waitFor((t) => t.startsWith('SIP/2.0 200') && t.includes('CSeq: 2 BYE'), 3000, from);
    await drained;
  });
});
