/**
 * Hostile and broken input on the wire: the server answers what it can with 400 and a reason naming the
 * fault, drops what it cannot answer, never dies, and serves the next good call normally.
 *
 * Covers: garbage and binary datagrams, truncated messages, oversized messages, a bad Content-Length over
 * UDP and TCP, a TCP stream that loses framing, an in-dialog request for an unknown dialog (481), an unknown
 * method (501), Require with an unknown option (420), Max-Forwards 0 (483), an unreadable body type (415),
 * a merged request (482); then SIPp calls over UDP and TCP still succeed.
 * Does not cover: the RFC 4475 messages (rfc4475-wire.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawTcpPeer, RawUdpPeer, invite } from '../helpers/raw-peer.js';
import { runSipp } from '../helpers/sipp.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/test-server.js';

function request(method: string, peerPort: number, id: string, extra: string[] = [], to = '<sip:8000@127.0.0.1>'): string {
  return [
    `${method} sip:8000@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peerPort};branch=z9hG4bK${id};rport`,
    `From: <sip:27000@127.0.0.1>;tag=f${id}`,
    `To: ${to}`,
    `Call-ID: ${id}`,
    `CSeq: 1 ${method}`,
    'Max-Forwards: 70',
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('malformed and unusual requests', () => {
  let ts: TestServer;
  let peer: RawUdpPeer;
  beforeAll(async () => {
    ts = await startTestServer();
    peer = await RawUdpPeer.open();
  });
  afterAll(async () => {
    peer.close();
    await ts.stop();
  });

  async function exchange(data: string | Buffer): Promise<string> {
    const from = peer.received.length;
    await peer.send(ts.port('udp'), data);
    return (await peer.waitFor(() => true, 2000, from)).text;
  }

  async function noAnswer(data: string | Buffer): Promise<void> {
    const from = peer.received.length;
    await peer.send(ts.port('udp'), data);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(peer.received.slice(from).map((r) => r.text.split('\r\n')[0])).toEqual([]);
  }

  it('drops garbage, binary and truncated datagrams without answering', async () => {
    await noAnswer('hello world\r\n\r\n');
    await noAnswer(Buffer.from([0xff, 0x00, 0x13, 0x37, 0x80, 0x81, 0x82]));
    await noAnswer('INVITE sip:8000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0');
    await noAnswer('SIP/2.0 200 OK\r\n\r\n');
  });

  it('answers a request whose Content-Length exceeds its body with 400 naming the fault', async () => {
    const text = request('OPTIONS', peer.port, 'cl1').replace('Content-Length: 0', 'Content-Length: 500');
    const res = await exchange(text);
    expect(res).toMatch(/^SIP\/2\.0 400 .*Content-Length/i);
  });

  it('answers a request with a CSeq method that differs from the request method with 400', async () => {
    const res = await exchange(request('OPTIONS', peer.port, 'cs1').replace('CSeq: 1 OPTIONS', 'CSeq: 1 INVITE'));
    expect(res).toMatch(/^SIP\/2\.0 400 .*CSeq/i);
  });

  it('answers an unknown method with 501 and Allow', async () => {
    const res = await exchange(request('FROBNICATE', peer.port, 'm1'));
    expect(res).toMatch(/^SIP\/2\.0 501 /);
    expect(res).toMatch(/\r\nAllow: .*INVITE/);
  });

  it('answers Require with an unknown option with 420 and Unsupported', async () => {
    const res = await exchange(request('OPTIONS', peer.port, 'r1', ['Require: 100rel, frobs']));
    expect(res).toMatch(/^SIP\/2\.0 420 /);
    expect(res).toMatch(/\r\nUnsupported: 100rel, frobs\r\n/);
  });

  it('answers Max-Forwards: 0 on an INVITE with 483', async () => {
    const res = await exchange(invite({ port: peer.port, callId: 'mf0', extra: 'Max-Forwards: 0' }).replace('Max-Forwards: 70\r\n', ''));
    expect(res).toMatch(/^SIP\/2\.0 (100|483) /);
    await peer.waitFor((t) => t.startsWith('SIP/2.0 483'));
  });

  it('answers an in-dialog request for an unknown dialog with 481', async () => {
    const res = await exchange(request('BYE', peer.port, 'd1', [], '<sip:8000@127.0.0.1>;tag=nosuchdialog'));
    expect(res).toMatch(/^SIP\/2\.0 481 /);
  });

  it('answers an INVITE whose body it cannot read with 415 and Accept', async () => {
    const text = invite({ port: peer.port, callId: 'ct1', sdp: 'hello' }).replace('Content-Type: application/sdp', 'Content-Type: application/x-unknown');
    await peer.send(ts.port('udp'), text);
    const res = await peer.waitFor((t) => t.startsWith('SIP/2.0 415'));
    expect(res.text).toMatch(/\r\nAccept: application\/sdp/);
  });

  it('answers a merged request (same From tag, Call-ID and CSeq, another branch) with 482', async () => {
    const first = invite({ port: peer.port, callId: 'merge1', service: '99999', branch: 'z9hG4bKmergeA' });
    const second = invite({ port: peer.port, callId: 'merge1', service: '99999', branch: 'z9hG4bKmergeB' });
    await peer.send(ts.port('udp'), first);
    await peer.send(ts.port('udp'), second);
    await peer.waitFor((t) => t.startsWith('SIP/2.0 482') && t.includes('mergeB'));
  });

  it('refuses an oversized datagram and stays up', async () => {
    const huge = request('OPTIONS', peer.port, 'big1', [`X-Padding: ${'a'.repeat(70_000)}`]);
    await noAnswer(huge).catch(() => undefined);
    const res = await exchange(request('OPTIONS', peer.port, 'after-big'));
    expect(res).toMatch(/^SIP\/2\.0 200 /);
  });

  it('closes a TCP connection that sends a message without Content-Length, and keeps serving others', async () => {
    const tcp = await RawTcpPeer.open(ts.port('tcp'));
    tcp.write(request('OPTIONS', tcp.localPort, 'tcp1').replace('Content-Length: 0\r\n', '').replace('SIP/2.0/UDP', 'SIP/2.0/TCP'));
    await waitFor(() => tcp.closed, 'the server to close the connection');
    const good = await RawTcpPeer.open(ts.port('tcp'));
    good.write(request('OPTIONS', good.localPort, 'tcp2').replace('SIP/2.0/UDP', 'SIP/2.0/TCP'));
    await waitFor(() => good.text.startsWith('SIP/2.0 200'), 'a 200 on a fresh connection');
    good.close();
  });

  it('answers a CRLF keep-alive ping on TCP with a pong (RFC 5626 §3.5.1)', async () => {
    const tcp = await RawTcpPeer.open(ts.port('tcp'));
    tcp.write('\r\n\r\n');
    await waitFor(() => tcp.text === '\r\n', 'the pong');
    tcp.close();
  });

  it.each(['udp', 'tcp'] as const)('still completes a SIPp call over %s after all that', async (transport) => {
    const result = await runSipp({ scenario: 'uac-basic-call.xml', transport, port: ts.port(transport) });
    expect(result.code, result.stdout.slice(-2000)).toBe(0);
  });
});
