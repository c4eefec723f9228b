/**
 * RFC 3261 §13.3.1.4: the UAS retransmits its 2xx "with an interval that starts at T1 seconds and doubles
 * for each retransmission until it reaches T2 seconds", and "if the server retransmits the 2xx response for
 * 64*T1 seconds without receiving an ACK ... the session SHOULD be terminated ... with a BYE".
 *
 * Measured over a real UDP socket with T1 = 100 ms. Covers the interval sequence and the BYE; an ACK stopping
 * the retransmissions is covered by every SIPp call test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawUdpPeer, invite, okFor } from '../helpers/raw-peer.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/test-server.js';

describe('a 200 OK that is never acknowledged', () => {
  let ts: TestServer;
  let peer: RawUdpPeer;
  beforeAll(async () => {
    ts = await startTestServer('', '  timers: { t1Ms: 100, t2Ms: 400, t4Ms: 500 }');
    peer = await RawUdpPeer.open();
  });
  afterAll(async () => {
    peer.close();
    await ts.stop();
  });

  it('is retransmitted at T1, 2T1, 4T1 capped at T2, then the call is ended with BYE at 64*T1', async () => {
    await peer.send(ts.port('udp'), invite({ port: peer.port, callId: 'lost-ack-1' }));
    const bye = await peer.waitFor((t) => t.startsWith('BYE '), 10_000);
    await peer.send(ts.port('udp'), okFor(bye.text));
    const oks = peer.received.filter((r) => r.text.startsWith('SIP/2.0 200'));
    const first = oks[0]?.at ?? 0;
    const gaps = oks.slice(1).map((r, i) => r.at - (oks[i]?.at ?? 0));
    // Expected gaps: 100, 200, 400, 400, ... until 6400 ms.
    expect(gaps.slice(0, 4).map((g) => Math.round(g / 100) * 100)).toEqual([100, 200, 400, 400]);
    for (const gap of gaps.slice(3)) expect(Math.abs(gap - 400)).toBeLessThan(60);
    expect(bye.at - first).toBeGreaterThanOrEqual(6400 - 30);
    expect(bye.at - first).toBeLessThan(6400 + 300);
    await waitFor(() => ts.server.stats().calls === 0, 'call cleanup');
  });
});
