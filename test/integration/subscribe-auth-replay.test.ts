/**
 * Digest replay protection on SUBSCRIBE (mwi.subscribeAuth) over a real UDP socket against a real server: the
 * server keeps, per nonce it issued, the highest nonce-count a verified request carried (RFC 2617 §3.2.2, RFC
 * 7616 §3.4: "if the same nc-value is seen twice, then the request is a replay"; src/sip/auth/nonce-counts.ts).
 *
 * Covers: the exact bytes of an accepted SUBSCRIBE sent again once its transaction is over (T1 is 25 ms here, so
 * Timer J is 1.6 s) are refused with 401, a fresh nonce and stale=TRUE; the captured Authorization header on a
 * new request (new Call-ID, tags, branch) likewise; the genuine client's next request with the same nonce and
 * a higher nc (a gap too: greater, not "the next") is accepted, and so is its answer to the stale challenge.
 * Not: the table's cap and expiry (unit: nonce-counts.test.ts), credentials without qop (refused before the
 * counts are consulted: digest.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAuthorization, parseChallenge, type DigestChallenge } from '../../src/sip/auth/digest.js';
import { RawUdpPeer } from '../helpers/raw-peer.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const CRED = { username: 'phone', password: 'secret' };
let ts: TestServer;
let peer: RawUdpPeer;
let seq = 0;

beforeAll(async () => {
  ts = await startTestServer(
    [
      'mwi: { subscribeAuth: { realm: "vm.example", username: "phone", password: "secret" } }',
      'mailboxes:',
      '  - { number: "27000", pin: "1234", name: "Alice" }',
      '  - { number: "27001", pin: "1234", name: "Bob" }',
    ].join('\n'),
    '  timers: { t1Ms: 25, t2Ms: 400, t4Ms: 500 }',
  );
  peer = await RawUdpPeer.open();
});

afterAll(async () => {
  peer?.close();
  await ts?.stop();
});

/** A new SUBSCRIBE (no To tag): its own Call-ID, From tag and branch unless given. */
function subscribe(user: string, opts: { callId?: string; cseq?: number; authorization?: string } = {}): string {
  const n = ++seq;
  const callId = opts.callId ?? `replay-${n}-${process.pid}`;
  return [
    `SUBSCRIBE sip:${user}@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKreplay${n}x${process.pid};rport`,
    `From: <sip:phone@127.0.0.1>;tag=ft${n}`,
    `To: <sip:${user}@127.0.0.1>`,
    `Call-ID: ${callId}`,
    `CSeq: ${opts.cseq ?? 1} SUBSCRIBE`,
    `Contact: <sip:phone@127.0.0.1:${peer.port}>`,
    'Max-Forwards: 70',
    'Event: message-summary',
    'Expires: 60',
    ...(opts.authorization ? [`Authorization: ${opts.authorization}`] : []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** Sends `text` and returns the final response to it (matched by its branch). */
async function exchange(text: string): Promise<string> {
  const branch = /branch=([^;\r\n]+)/.exec(text)![1]!;
  const from = peer.received.length;
  await peer.send(ts.port('udp'), text);
  const res = await peer.waitFor((t) => t.startsWith('SIP/2.0 ') && !t.startsWith('SIP/2.0 100') && t.includes(`branch=${branch}`), 3000, from);
  return res.text;
}

const status = (res: string): number => Number(res.slice(8, 11));
const challengeOf = (res: string): DigestChallenge => {
  const value = /^WWW-Authenticate:\s*(.*)$/im.exec(res)?.[1];
  const ch = value ? parseChallenge(value) : undefined;
  if (!ch) throw new Error(`no Digest challenge in:\n${res}`);
  return ch;
};

/** A challenge for a first SUBSCRIBE to `user`. */
async function challenge(user: string): Promise<DigestChallenge> {
  const res = await exchange(subscribe(user));
  expect(status(res)).toBe(401);
  return challengeOf(res);
}

describe('SUBSCRIBE digest: a nonce-count is accepted once (replay protection)', () => {
  it('MUST refuse the exact bytes of an accepted SUBSCRIBE sent again, with 401, a fresh nonce and stale=TRUE', async () => {
    const ch = await challenge('27000');
    const accepted = subscribe('27000', { cseq: 2, authorization: buildAuthorization(ch, CRED, 'SUBSCRIBE', 'sip:27000@127.0.0.1', 1) });
    expect(status(await exchange(accepted))).toBe(200);
    // Past Timer J (64 * T1 = 1.6 s): the server transaction is gone, so the same bytes are a new request to it.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const replayed = await exchange(accepted);
    expect(status(replayed)).toBe(401);
    const fresh = challengeOf(replayed);
    expect(fresh.stale).toBe(true);
    expect(fresh.nonce).not.toBe(ch.nonce);
  });

  it('MUST refuse a captured Authorization header on a new request; the genuine client goes on with a higher nc', async () => {
    const ch = await challenge('27001');
    const uri = 'sip:27001@127.0.0.1';
    const first = buildAuthorization(ch, CRED, 'SUBSCRIBE', uri, 1);
    expect(status(await exchange(subscribe('27001', { authorization: first })))).toBe(200);

    const replayed = await exchange(subscribe('27001', { authorization: first }));
    expect(status(replayed)).toBe(401);
    expect(challengeOf(replayed).stale).toBe(true);

    // nc 3 after 1: greater is enough (the client also counts requests we never saw).
    expect(status(await exchange(subscribe('27001', { authorization: buildAuthorization(ch, CRED, 'SUBSCRIBE', uri, 3) })))).toBe(200);
    // 2 is now below the highest accepted: refused too.
    expect(status(await exchange(subscribe('27001', { authorization: buildAuthorization(ch, CRED, 'SUBSCRIBE', uri, 2) })))).toBe(401);
  });

  it('accepts the genuine client answering the stale challenge with the fresh nonce', async () => {
    const ch = await challenge('27000');
    const uri = 'sip:27000@127.0.0.1';
    const auth = buildAuthorization(ch, CRED, 'SUBSCRIBE', uri, 1);
    expect(status(await exchange(subscribe('27000', { authorization: auth })))).toBe(200);
    const stale = challengeOf(await exchange(subscribe('27000', { authorization: auth })));
    expect(stale.stale).toBe(true);
    expect(status(await exchange(subscribe('27000', { authorization: buildAuthorization(stale, CRED, 'SUBSCRIBE', uri, 1) })))).toBe(200);
  });
});
