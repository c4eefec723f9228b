/**
 * RFC 4475 (SIP torture tests) at the wire: each message is sent over UDP to the running server, and the
 * test checks what a PBX's trace would show — the final response (or none) — and that the server still
 * answers afterwards. The parser-level details of each message are in test/unit/rfc4475.test.ts.
 *
 * The torture messages carry Via headers naming hosts like example.com without rport, so by RFC 3261
 * §18.2.2 responses go to the packet's source address and port 5060: the test peer listens on
 * 127.0.0.5:5060 (loopback; trusted by the default config).
 *
 * Does not cover: TCP framing of these messages (the stream framer's own tests), and quotbal.dat's response,
 * which goes to port 5050 (its Via says so); that one is only checked for not harming the server.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawUdpPeer } from '../helpers/raw-peer.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/test-server.js';

const DIR = fileURLToPath(new URL('../fixtures/rfc4475/', import.meta.url));

/** The final status the server must send, a set of acceptable ones, or 'none' (dropped). */
const EXPECTED: Record<string, number | number[] | 'none'> = {
  // §3.1.1 valid messages: parsed and answered on their merits.
  'wsinv.dat': 481, // its To carries a tag: an in-dialog request for a dialog we do not have
  'intmeth.dat': 501, // unknown (but well-formed) method
  'esc01.dat': 404,
  'esc02.dat': 501, // the method is literally RE%47IST%45R, an unknown token
  'escnull.dat': 405, // REGISTER: we are not a registrar
  'lwsdisp.dat': 200,
  'longreq.dat': 404,
  'dblreq.dat': 405, // only the first of the two requests in the datagram counts
  'semiuri.dat': 200,
  'transports.dat': 200,
  'mpart01.dat': 405, // MESSAGE
  'unreason.dat': 'none', // responses with no transaction: dropped
  'noreason.dat': 'none',
  'bcast.dat': 'none',
  'cparam01.dat': 405,
  'cparam02.dat': 405,
  'regescrt.dat': 405,
  'regaut01.dat': 405,
  'inv2543.dat': 404, // RFC 2543 request without branch, matched by the old rules
  'badbranch.dat': 200,
  'baddate.dat': 404, // a bad Date is ignored
  'zeromf.dat': 200, // OPTIONS with Max-Forwards 0 is answered by the UAS it reached
  // §3.3 application-layer semantics.
  'bext01.dat': 420,
  'unkscm.dat': 416,
  'novelsc.dat': 416,
  'invut.dat': 415,
  'sdp01.dat': 406,
  'unksm2.dat': [400, 405, 416],
  'regbadct.dat': [400, 405],
  'escruri.dat': [400, 404],
  'trws.dat': [200, 400],
  // §3.1.2 invalid messages: 400 with a reason naming the fault.
  'badaspec.dat': 400,
  'baddn.dat': 400,
  'badinv01.dat': 'none', // its Via is unreadable, so there is nowhere to send a 400 (§18.2.2)
  'clerr.dat': 400,
  'insuf.dat': 400, // no From, To or Call-ID, but a usable Via: answered (§3.3.1 "Ideally ... 400")
  'ltgtruri.dat': 400,
  'lwsruri.dat': 400,
  'lwsstart.dat': 400,
  'mcl01.dat': 400,
  'mismatch01.dat': 400,
  'mismatch02.dat': 400, // the RFC allows 501 too; the CSeq mismatch is the fault we name
  'multi01.dat': 400,
  'ncl.dat': 400,
  'scalar02.dat': 400,
  'badvers.dat': 505,
  'scalarlg.dat': 'none',
  'bigcode.dat': 'none',
  'quotbal.dat': 'none', // answered to port 5050, see above
  'test.dat': [400], // not from the RFC: no SIP-Version in the request line
};

describe('RFC 4475 torture messages over UDP', () => {
  let ts: TestServer;
  let peer: RawUdpPeer;
  beforeAll(async () => {
    // Several torture messages reuse the same branch and sent-by (cparam01/cparam02, escnull/regescrt), so by
    // §17.2.3 the later one matches the earlier one's transaction while it lingers. A small T1 makes Timer J
    // short, and each message is sent only once the previous transactions are gone.
    ts = await startTestServer('', '  timers: { t1Ms: 10, t2Ms: 40, t4Ms: 50 }');
    peer = await RawUdpPeer.open('127.0.0.5', 5060);
  });
  afterAll(async () => {
    peer.close();
    await ts.stop();
  });

  it('has an expectation for every message file', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.dat')).sort();
    expect(files).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))('%s → %s', async (file, expected) => {
    const data = readFileSync(join(DIR, file));
    // Responses are told apart by Call-ID (by the Via branch when there is none, as in insuf): a slow answer
    // to one message must not count for the next.
    const text = data.toString('latin1');
    const callId = /^(?:call-id|i)[ \t]*:[ \t]*(\S+)/im.exec(text)?.[1] ?? /;branch=(z9hG4bK[^;\s]+)/i.exec(text)?.[1];
    const mine = (received: string): boolean => callId !== undefined && received.includes(callId);
    await waitFor(() => ts.server.stats().serverTransactions === 0, 'earlier transactions to end');
    const from = peer.received.length;
    await peer.send(ts.port('udp'), data);
    const finalsNow = () =>
      peer.received
        .slice(from)
        .filter((r) => mine(r.text))
        .map((r) => /^SIP\/2\.0 (\d{3}) (.*)/.exec(r.text))
        .filter((m): m is RegExpExecArray => m !== null && Number(m[1]) >= 200)
        .map((m) => ({ status: Number(m[1]), reason: m[2] ?? '' }));
    const deadline = Date.now() + (expected === 'none' ? 300 : 2000);
    while (Date.now() < deadline && (expected === 'none' || finalsNow().length === 0)) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Linger a little so that a second (wrong) final would be seen.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const finals = finalsNow();
    if (expected === 'none') {
      if (file !== 'quotbal.dat') expect(finals).toEqual([]);
      return;
    }
    const allowed = Array.isArray(expected) ? expected : [expected];
    if (file === 'test.dat' && finals.length === 0) return; // dropping a message with no SIP-Version is allowed
    // An INVITE's failure response is retransmitted until an ACK we never send (Timer G): count distinct finals.
    expect(new Set(finals.map((f) => `${f.status} ${f.reason}`)).size, `${file}: expected one final response`).toBe(1);
    expect(allowed).toContain(finals[0]?.status);
    if (finals[0]?.status === 400) expect(finals[0].reason, 'a 400 names the fault').not.toBe('Bad Request');
  });

  it('still answers a normal OPTIONS after the whole torture set', async () => {
    const from = peer.received.length;
    await peer.send(
      ts.port('udp'),
      'OPTIONS sip:8000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.5:5060;branch=z9hG4bKafter\r\nFrom: <sip:t@127.0.0.5>;tag=1\r\nTo: <sip:8000@127.0.0.1>\r\nCall-ID: after-torture\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n',
    );
    const res = await peer.waitFor((t) => t.includes('after-torture'), 2000, from);
    expect(res.text).toMatch(/^SIP\/2\.0 200 /);
  });
});
