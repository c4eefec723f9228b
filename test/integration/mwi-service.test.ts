/**
 * The MWI service as startServer() wires it (mwi/service.ts): whether a server runs it or not.
 *
 * Covers: a server started with `mwi: false` (a cluster worker) owns no SUBSCRIBE dialogs (405, no SUBSCRIBE
 * in Allow); the default server answers SUBSCRIBE with 200 and a NOTIFY. Does not cover: the SUBSCRIBE/NOTIFY protocol itself (mwi.test.ts), changes made
 * by another process (store-change-feed tests).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { RawUdpPeer } from '../helpers/raw-peer.js';

let ts: TestServer | undefined;
let peer: RawUdpPeer | undefined;
afterEach(async () => {
  peer?.close();
  peer = undefined;
  await ts?.stop();
  ts = undefined;
});

function subscribe(port: number, peerPort: number): string {
  return [
    `SUBSCRIBE sip:27000@127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peerPort};branch=z9hG4bK-svc-${Date.now()}`,
    'Max-Forwards: 70',
    `From: <sip:27000@127.0.0.1>;tag=phone1`,
    `To: <sip:27000@127.0.0.1>`,
    `Call-ID: svc-${Date.now()}@127.0.0.1`,
    'CSeq: 1 SUBSCRIBE',
    `Contact: <sip:27000@127.0.0.1:${peerPort}>`,
    'Event: message-summary',
    'Accept: application/simple-message-summary',
    'Expires: 600',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

async function serverWith(peerPort: number, mwi: boolean): Promise<TestServer> {
  return startTestServer(
    `
pbx:
  - name: pbx
    addresses: ["127.0.0.1"]
    mwi: { targets: ["sip:127.0.0.1:${peerPort}"] }
mailboxes:
  - { number: "27000", pin: "1234", name: "Alice Example" }
`,
    '',
    { mwi },
  );
}

/** Starts the server, sends one SUBSCRIBE from the peer, and returns the final response. */
async function subscribeTo(mwi: boolean): Promise<string> {
  peer = await RawUdpPeer.open();
  ts = await serverWith(peer.port, mwi);
  await peer.send(ts.port('udp'), subscribe(ts.port('udp'), peer.port));
  return (await peer.waitFor((t) => t.startsWith('SIP/2.0 ') && !t.startsWith('SIP/2.0 100'))).text;
}

describe('startServer({ mwi })', () => {
  it('with mwi: false, a SUBSCRIBE gets 405 without SUBSCRIBE in Allow (the front door owns subscriptions)', async () => {
    const res = await subscribeTo(false);
    expect(res).toMatch(/^SIP\/2\.0 405/);
    expect(res).not.toMatch(/^Allow:.*SUBSCRIBE/im);
  });

  it('by default, a SUBSCRIBE for a mailbox gets 200 and a NOTIFY', async () => {
    const res = await subscribeTo(true);
    expect(res).toMatch(/^SIP\/2\.0 200/);
    await peer?.waitFor((t) => t.startsWith('NOTIFY '));
  });
});
