/**
 * What a new operator sees on a first call, against the real server over real TLS and UDP sockets: the
 * Contact of the 2xx over TLS, and the JSON log line of an incoming call.
 *
 * Covers: Contact scheme of the 2xx for a sip: and a sips: Request-URI over TLS (RFC 3261 §12.1.1); the
 * "call received" log line keeping `service: "vmpilot"` while naming the pilot's application; the o= version
 * of the answer to a hold re-INVITE that follows a refused (488) re-INVITE (RFC 3264 §8).
 * Does not cover: whole calls (sip-calls.test.ts), TLS handshakes and certificates (transport.test.ts),
 * SIPS Record-Route (we are never behind a proxy in these tests).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/admin/log.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { tlsFixture } from '../helpers/tls-fixture.js';
import { DEFAULT_SDP_RTP_PORT, RawUdpPeer, invite } from '../helpers/raw-peer.js';
import { waitFor } from '../helpers/test-server.js';
import { reserveRtpPorts, type RtpRange } from '../helpers/rtp-range.js';

let server: RunningServer;
let rtp: RtpRange | undefined;
const logLines: string[] = [];

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmpilot-first-call-'));
  const tls = tlsFixture();
  rtp = await reserveRtpPorts(100);
  const config = parseConfig(
    `
sip:
  listen: ["udp:127.0.0.1:0", "tls:127.0.0.1:0"]
  tls: { cert: ${JSON.stringify(tls.certFile)}, key: ${JSON.stringify(tls.keyFile)} }
rtp: { address: 127.0.0.1, ports: "${rtp.ports}" }
storage: { dir: ${JSON.stringify(dir)} }
http: false
`,
    dir,
  );
  server = await startServer(config, createLogger('info', { write: (line: string) => void logLines.push(line) }));
});

afterAll(async () => {
  await server.close();
  await rtp?.release();
});

const portOf = (transport: string): number => server.addresses().find((a) => a.transport === transport)!.port;

async function tlsInvite(requestUri: string, callId: string): Promise<string> {
  const socket: TLSSocket = await new Promise((resolve, reject) => {
    const s = connect({ port: portOf('tls'), host: '127.0.0.1', servername: 'localhost', ca: readFileSync(tlsFixture().caFile) });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  });
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  const scheme = requestUri.slice(0, requestUri.indexOf(':'));
  const message = invite({ port: socket.localPort ?? 5061, transport: 'TLS', callId })
    .replace('INVITE sip:8000@127.0.0.1 SIP/2.0', `INVITE ${requestUri} SIP/2.0`)
    .replace(/Contact: <sip:/, `Contact: <${scheme}:`);
  socket.write(message);
  try {
    await waitFor(() => /^SIP\/2\.0 200 /m.test(received), `200 OK to ${requestUri}`);
  } finally {
    socket.destroy();
  }
  const contact = received.slice(received.search(/^SIP\/2\.0 200 /m)).match(/^Contact: *(.*)$/im);
  return contact?.[1]?.trim() ?? '';
}

describe('the Contact of our 2xx over TLS', () => {
  it('MUST be a SIPS URI when the INVITE\'s Request-URI is a SIPS URI (RFC 3261 §12.1.1)', async () => {
    expect(await tlsInvite('sips:8000@127.0.0.1', 'sips-ruri')).toMatch(/^<sips:8000@127\.0\.0\.1:\d+/);
  });

  it('keeps the sip: scheme, with transport=tls, when a sip: INVITE arrives over TLS', async () => {
    // A sips: Contact here made baresip (libre) drop the call with ENOSYS and never send the ACK.
    expect(await tlsInvite('sip:8000@127.0.0.1;transport=tls', 'sip-over-tls')).toMatch(/^<sip:8000@127\.0\.0\.1:\d+;transport=tls>$/);
  });
});

describe('the "call received" log line', () => {
  it('keeps service: "vmpilot" and names the pilot\'s application as app, with the callId', async () => {
    const peer = await RawUdpPeer.open();
    try {
      await peer.send(portOf('udp'), invite({ port: peer.port, callId: 'log-line-1' }));
      await waitFor(() => logLines.some((l) => l.includes('"call received"') && l.includes('log-line-1')), 'the call received line');
    } finally {
      peer.close();
    }
    const line = logLines.find((l) => l.includes('"call received"') && l.includes('log-line-1'))!;
    // A repeated key is legal to emit but JSON.parse (and jq) keep only the last one.
    expect(line.match(/"service":/g)).toHaveLength(1);
    expect(JSON.parse(line)).toMatchObject({ service: 'vmpilot', app: 'voicemail', number: '8000', callId: 'log-line-1' });
  });
});

describe('the SDP version after a refused re-INVITE', () => {
  it('MUST increment by one from the previous SDP we sent, skipping nothing for a 488 (RFC 3264 §8)', async () => {
    const peer = await RawUdpPeer.open();
    const callId = 'sdp-version-1';
    try {
      const port = portOf('udp');
      await peer.send(port, invite({ port: peer.port, callId }));
      const ok = (await peer.waitFor((t) => t.startsWith('SIP/2.0 200') && t.includes('CSeq: 1 INVITE'))).text;
      const toLine = ok.match(/^To: *(.*)$/im)![1]!;
      const target = ok.match(/^Contact: *<([^>]*)>/im)![1]!;
      const versionOf = (text: string): string => text.match(/^o=\S+ \S+ (\d+) /m)![1]!;
      const request = (method: string, cseq: number, branch: string, sdp = ''): string =>
        [
          `${method} ${target} SIP/2.0`,
          `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK${branch};rport`,
          `From: <sip:27000@127.0.0.1>;tag=from-${callId}`,
          `To: ${toLine}`,
          `Call-ID: ${callId}`,
          `CSeq: ${cseq} ${method}`,
          `Contact: <sip:27000@127.0.0.1:${peer.port}>`,
          'Max-Forwards: 70',
          ...(sdp ? ['Content-Type: application/sdp'] : []),
          `Content-Length: ${Buffer.byteLength(sdp)}`,
          '',
          sdp,
        ].join('\r\n');
      const sdp = (media: string[]): string => ['v=0', 'o=raw 1 2 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', ...media, ''].join('\r\n');
      expect(versionOf(ok)).toBe('1');
      await peer.send(port, request('ACK', 1, 'ack1'));

      await peer.send(port, request('INVITE', 2, 'video', sdp(['m=video 40002 RTP/AVP 96', 'a=rtpmap:96 H264/90000'])));
      await peer.waitFor((t) => t.startsWith('SIP/2.0 488') && t.includes('CSeq: 2 INVITE'));
      await peer.send(port, request('ACK', 2, 'video'));

      await peer.send(port, request('INVITE', 3, 'hold', sdp([`m=audio ${DEFAULT_SDP_RTP_PORT} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=sendonly'])));
      const held = (await peer.waitFor((t) => t.startsWith('SIP/2.0 200') && t.includes('CSeq: 3 INVITE'))).text;
      expect(held).toContain('a=recvonly');
      expect(versionOf(held)).toBe('2');
      await peer.send(port, request('ACK', 3, 'ack3'));
      await peer.send(port, request('BYE', 4, 'bye4'));
      await peer.waitFor((t) => t.startsWith('SIP/2.0 200') && t.includes('CSeq: 4 BYE'));
    } finally {
      peer.close();
    }
  });
});
