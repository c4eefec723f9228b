/**
 * A Session-Expires or Min-SE too large for a Node.js timer (issue 9, item 6): 2,147,516 s is past what
 * setTimeout can hold, and Node fires such a timer after 1 ms, which ended the call right after the ACK.
 *
 * Covers: an INVITE with Session-Expires and Min-SE of 2,147,516 s (the figure) and one of 30 digits;
 * the call is answered, acknowledged, and still up (no BYE, the server still holds it) well after the ACK;
 * the 2xx echoes a plain delta-seconds value (no "1e+29").
 *
 * Does not cover: the session timer firing at its clamped maximum (24.8 days; the clamp is unit-tested in
 * timer-limit.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inDialog, invite, RawUdpPeer } from '../helpers/raw-peer.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/test-server.js';

describe('a Session-Expires longer than any timer can wait', () => {
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

  it.each([
    ['2147516', '2147516'],
    ['999999999999999999999999999999', '90'],
  ])('keeps the call up after the ACK (Session-Expires %s, Min-SE %s)', async (sessionExpires, minSe) => {
    const callId = `se-overflow-${sessionExpires.length}-${process.pid}`;
    const port = ts.port('udp');
    const from = peer.received.length;
    const extra = `Supported: timer\r\nSession-Expires: ${sessionExpires};refresher=uac\r\nMin-SE: ${minSe}`;
    await peer.send(port, invite({ port: peer.port, callId, service: '7000', extra }));
    const ok = (await peer.waitFor((t) => t.startsWith('SIP/2.0 200') && t.includes(`Call-ID: ${callId}`), 3000, from)).text;
    expect(ok).toMatch(/^Session-Expires: *\d+;refresher=uac\r$/im);
    await peer.send(port, inDialog(ok, { method: 'ACK', cseq: 1, port: peer.port, callId }));
    await waitFor(() => [...ts.server.calls].some((c) => c.callId === callId), 'the call to be up');
    // Before the clamp the session timer fired 1 ms after the ACK and the server sent BYE at once.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(peer.received.slice(from).some((r) => r.text.startsWith('BYE ') && r.text.includes(callId))).toBe(false);
    expect([...ts.server.calls].some((c) => c.callId === callId)).toBe(true);

    await peer.send(port, inDialog(ok, { method: 'BYE', cseq: 2, port: peer.port, callId }));
    await peer.waitFor((t) => t.startsWith('SIP/2.0 200') && t.includes(`Call-ID: ${callId}`) && t.includes('CSeq: 2 BYE'), 3000, from);
    await waitFor(() => ![...ts.server.calls].some((c) => c.callId === callId), 'the call to end');
  });
});
