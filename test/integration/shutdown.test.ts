/**
 * Shutting down (RunningServer.close()) with a call in every state a call can be in when it comes:
 * answered but not yet acknowledged (our 200 OK waiting for the PBX's ACK).
 *
 * Covers: close() ends such a call: it waits briefly for the ACK (RFC 3261 §15 holds a callee's BYE until
 * then), sends BYE anyway when none comes, and releases the call, its RTP ports and its clock subscription.
 * Does not cover: confirmed calls and calls still ringing at shutdown (drain.test.ts, the CLI's SIGTERM), the
 * drain deadline.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RawUdpPeer, invite } from '../helpers/raw-peer.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let ts: TestServer | undefined;
let peer: RawUdpPeer | undefined;

afterEach(async () => {
  peer?.close();
  await ts?.stop();
});

describe('shutdown', () => {
  it('ends a call whose 200 OK was never acknowledged: BYE to the caller, the call and its ports released', async () => {
    ts = await startTestServer('services: { voicemail: ["8000"] }', '  timers: { t1Ms: 100, t2Ms: 400, t4Ms: 500 }');
    peer = await RawUdpPeer.open();
    await peer.send(ts.port('udp'), invite({ port: peer.port, callId: 'unacked-at-shutdown' }));
    await peer.waitFor((t) => t.startsWith('SIP/2.0 200 '));
    expect(ts.server.stats()).toMatchObject({ calls: 1, rtpPortsInUse: 1 });

    const started = Date.now();
    await ts.server.close();
    // Bounded: the ACK is waited for 2*T1 (200 ms here), not Timer H (64*T1).
    expect(Date.now() - started).toBeLessThan(3000);
    const bye = await peer.waitFor((t) => t.startsWith('BYE '), 1000);
    expect(bye.text).toMatch(/^Call-ID: unacked-at-shutdown$/im);
    // The call's own close releases its ports on the next turn (call.ts: after the last RTCP has gone).
    await new Promise((resolve) => setImmediate(resolve));
    expect(ts.server.stats()).toMatchObject({ calls: 0, rtpPortsInUse: 0, clockSubscribers: 0 });
  });
});
