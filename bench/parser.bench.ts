/**
 * Parser and serializer throughput: messages per second on one core for a typical ~900-byte INVITE with an
 * SDP body (as a PBX trunk sends it) and for a 200 OK with SDP. Target: 100,000 INVITE/s parsed.
 *
 * Run: npx tsx bench/parser.bench.ts        (prints figures; never part of the test run)
 */
import { parseMessage } from '../src/sip/parse.js';
import { serializeMessage } from '../src/sip/serialize.js';

const sdp = [
  'v=0',
  'o=MX-ONE 1716211111 1716211111 IN IP4 192.168.222.10',
  's=-',
  'c=IN IP4 192.168.222.10',
  't=0 0',
  'm=audio 40012 RTP/AVP 8 0 101',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=ptime:20',
  'a=sendrecv',
  '',
].join('\r\n');

function message(startLine: string, headers: string[]): Buffer {
  return Buffer.from(`${startLine}\r\n${headers.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(sdp)}\r\n\r\n${sdp}`);
}

const invite = message('INVITE sip:43334@192.168.222.20:5060;user=phone SIP/2.0', [
  'Via: SIP/2.0/UDP 192.168.222.10:5060;branch=z9hG4bK-524287-1---4f1e2d3c4b5a6978;rport',
  'Max-Forwards: 70',
  'Contact: <sip:27000@192.168.222.10:5060;transport=udp>',
  'To: <sip:43334@192.168.222.20;user=phone>',
  'From: "Alice Example" <sip:27000@192.168.222.10;user=phone>;tag=8f2a71c3',
  'Call-ID: 5a1f3e7c9b2d4e6f8a0c1b3d5e7f9a1c@192.168.222.10',
  'CSeq: 1 INVITE',
  'Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, OPTIONS, INFO, UPDATE, PRACK',
  'Supported: replaces, timer, 100rel',
  'Diversion: <sip:27000@192.168.222.10;user=phone>;reason=no-answer;counter=1;privacy=off',
  'User-Agent: MX-ONE/7.4 SP2',
  'Session-Expires: 1800;refresher=uac',
  'Content-Type: application/sdp',
]);

const ok200 = message('SIP/2.0 200 OK', [
  'Via: SIP/2.0/UDP 192.168.222.20:5060;branch=z9hG4bK7d3f9a2c1e;rport=5060;received=192.168.222.20',
  'Contact: <sip:43334@192.168.222.20:5060>',
  'To: <sip:27000@192.168.222.10>;tag=a94c2e1f',
  'From: <sip:43334@192.168.222.20>;tag=3b7e91d0',
  'Call-ID: 7c2e9f1a3b5d7e9f@192.168.222.20',
  'CSeq: 1 INVITE',
  'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY',
  'Supported: replaces',
  'Server: vmpilot/0.1',
  'Content-Type: application/sdp',
]);

function rate(label: string, bytes: number, seconds: number, fn: () => void): void {
  // Warm up so the JIT has compiled the hot path before timing.
  for (let i = 0; i < 20_000; i++) fn();
  let count = 0;
  const start = process.hrtime.bigint();
  const stopAt = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < stopAt) {
    for (let i = 0; i < 1000; i++) fn();
    count += 1000;
    now = process.hrtime.bigint();
  }
  const perSecond = count / (Number(now - start) / 1e9);
  process.stdout.write(`${label.padEnd(34)} ${String(bytes).padStart(5)} bytes  ${Math.round(perSecond).toLocaleString('en-US').padStart(10)} msg/s\n`);
}

function mustParse(data: Buffer) {
  const outcome = parseMessage(data);
  if (!outcome.ok) throw new Error(`benchmark message does not parse: ${outcome.reason}`);
  return outcome.message;
}

const seconds = Number(process.argv[2] ?? 2);
const inviteMsg = mustParse(invite);
const okMsg = mustParse(ok200);
rate('parse INVITE with SDP', invite.length, seconds, () => parseMessage(invite));
rate('parse 200 OK with SDP', ok200.length, seconds, () => parseMessage(ok200));
rate('serialize INVITE with SDP', invite.length, seconds, () => serializeMessage(inviteMsg));
rate('serialize 200 OK with SDP', ok200.length, seconds, () => serializeMessage(okMsg));
