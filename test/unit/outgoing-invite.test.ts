/**
 * The UAC INVITE usage (src/sip/outgoing-invite.ts) on a real SIP stack over loopback UDP, with a raw UDP
 * peer as the PBX so every byte and every instant can be checked; the UA core routes the dialog's requests
 * (its dialog table), as in the server.
 *
 * Covers: the INVITE (offer, Contact, From tag, no To tag); the ACK for a 2xx (§13.2.2.4: INVITE's CSeq
 * number, new branch, Request-URI = Contact, Route = Record-Route reversed, the INVITE's credentials) and
 * the same ACK for a retransmitted 2xx; BYE from the far end (200, usage over) and from us (in-dialog
 * CSeq, tags, route set); CANCEL (§9.1: not before a provisional, then with the INVITE's Via/CSeq number/
 * tags; 487 ends it; a 2xx that crosses it is ACKed and ended with BYE; no final 64*T1 after it → 487;
 * no response at all → Timer B 408);
 * 3xx (§8.1.3.4: Request-URI from the Contact without method/header parameters, same Call-ID and From tag,
 * CSeq + 1, q order, next contact after a failure, no loop back to a URI already tried, maxRedirects);
 * 407 answered once with verifiable Proxy-Authorization, a second 407 final; the far end's re-INVITE
 * answered with our SDP answer and the 2xx retransmitted until its ACK (§13.3.1.4); the far end's in-dialog
 * requests pass the UA core's §8.2 checks like any other (Max-Forwards 0: 483, an unknown Require: 420).
 * Does not cover: TCP/TLS (the usage does not depend on the transport; the stack's tests do), forked 2xx
 * from two far ends, UPDATE (same path as re-INVITE without the ACK), media (outgoing-leg, integration).
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TransportLayer } from '../../src/sip/transport/transport-layer.js';
import { SipStack } from '../../src/sip/stack.js';
import { UserAgentCore } from '../../src/sip/user-agent-core.js';
import { timerSet } from '../../src/sip/transaction/timers.js';
import { OutgoingInvite, OutgoingInviteState, type OutgoingInviteOptions } from '../../src/sip/outgoing-invite.js';
import { createChallenge, verifyAuthorization } from '../../src/sip/auth/digest.js';
import { RawUdpPeer } from '../helpers/raw-peer.js';
import { headerOf } from '../helpers/sip-client.js';

const logger = pino({ level: process.env.VMPILOT_TEST_LOG ?? 'silent' });
/** T1 = 20 ms: Timer B (64*T1) is 1.28 s, so timeouts are testable in real time. */
const TIMERS = { t1Ms: 20, t2Ms: 80, t4Ms: 100 };
const OFFER = Buffer.from('v=0\r\no=vmpilot 1 1 IN IP4 127.0.0.1\r\ns=vmpilot\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n');
const ANSWER = 'v=0\r\no=phone 7 7 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 41000 RTP/AVP 0\r\n';
const SECRET = Buffer.alloc(32, 7);

let transport: TransportLayer;
let stack: SipStack;
let core: UserAgentCore;
let peer: RawUdpPeer;

beforeEach(async () => {
  transport = new TransportLayer({ logger });
  await transport.listen([{ transport: 'udp', host: '127.0.0.1', port: 0 }]);
  stack = new SipStack(transport, { logger, timers: TIMERS, userAgent: 'vmpilot-test', isTrusted: () => true, admit: () => true });
  core = new UserAgentCore(stack, {
    logger,
    timers: (reliable) => timerSet(TIMERS, reliable),
    sessionExpiresS: 1800,
    contactFor: () => '<sip:127.0.0.1>',
    draining: () => false,
    drainRetryAfterS: 1,
  });
  peer = await RawUdpPeer.open();
});

afterEach(async () => {
  peer.close();
  stack.close();
  await transport.close();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
async function until(predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}
const ourPort = (): number => transport.bound()[0]!.port;
const firstLine = (text: string): string => text.split('\r\n')[0]!;
const allHeaders = (text: string, name: string): string[] =>
  text.split('\r\n\r\n')[0]!.split('\r\n').slice(1).filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`)).map((l) => l.slice(l.indexOf(':') + 1).trim());
const branchOf = (text: string): string => /branch=([^;\s]+)/.exec(headerOf(text, 'via') ?? '')?.[1] ?? '';
const tagIn = (value: string | undefined): string | undefined => /;tag=([^;\s]+)/.exec(value ?? '')?.[1];

function invite(overrides: Partial<OutgoingInviteOptions> = {}): OutgoingInvite {
  return new OutgoingInvite({
    stack,
    dialogs: core,
    requestUri: `sip:2001@127.0.0.1:${peer.port}`,
    from: '"Alice Example" <sip:27000@127.0.0.1>',
    offer: OFFER,
    logger,
    ...overrides,
  });
}

/** The peer's response to `req`: Via, From, Call-ID, CSeq copied; To with `toTag` (when given). */
function reply(req: string, status: number, o: { toTag?: string; headers?: string[]; body?: string } = {}): string {
  const to = headerOf(req, 'to')!;
  return [
    `SIP/2.0 ${status} Whatever`,
    ...allHeaders(req, 'via').map((v) => `Via: ${v}`),
    `From: ${headerOf(req, 'from')}`,
    `To: ${o.toTag && !tagIn(to) ? `${to};tag=${o.toTag}` : to}`,
    `Call-ID: ${headerOf(req, 'call-id')}`,
    `CSeq: ${headerOf(req, 'cseq')}`,
    ...(o.headers ?? []),
    ...(o.body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(o.body ?? '')}`,
    '',
    o.body ?? '',
  ].join('\r\n');
}

/** A request from the peer inside the dialog the 2xx `ok` (to our INVITE `inv`) made. */
function peerRequest(method: string, inv: string, ok: string, cseq: number, extra: string[] = [], body = ''): string {
  return [
    `${method} ${/<([^>]+)>/.exec(headerOf(inv, 'contact')!)![1]} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKpeer${method}${cseq};rport`,
    `From: ${headerOf(ok, 'to')}`,
    `To: ${headerOf(inv, 'from')}`,
    `Call-ID: ${headerOf(inv, 'call-id')}`,
    `CSeq: ${cseq} ${method}`,
    `Contact: <sip:2001@127.0.0.1:${peer.port}>`,
    'Max-Forwards: 70',
    ...extra,
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

const isRequest = (method: string) => (t: string): boolean => t.startsWith(`${method} `);
const count = (method: string): number => peer.received.filter((r) => r.text.startsWith(`${method} `)).length;

/** Starts a call and answers it 200 with a Contact and two Record-Routes; returns the texts. */
async function answered(uac = invite()): Promise<{ uac: OutgoingInvite; inv: string; ok: string; ack: string; outcome: Awaited<ReturnType<OutgoingInvite['start']>> }> {
  const started = uac.start();
  const inv = (await peer.waitFor(isRequest('INVITE'))).text;
  const ok = reply(inv, 200, {
    toTag: 'far1',
    headers: [
      `Contact: <sip:2001@127.0.0.1:${peer.port};ob>`,
      'Record-Route: <sip:127.0.0.1:9;lr>',
      `Record-Route: <sip:127.0.0.1:${peer.port};lr>`,
    ],
    body: ANSWER,
  });
  await peer.send(ourPort(), ok);
  const ack = (await peer.waitFor(isRequest('ACK'))).text;
  return { uac, inv, ok, ack, outcome: await started };
}

describe('OutgoingInvite: the INVITE and its 2xx (RFC 3261 §13.2)', () => {
  it('sends the offer with our Contact, a From tag and no To tag', async () => {
    void invite().start();
    const inv = (await peer.waitFor(isRequest('INVITE'))).text;
    expect(firstLine(inv)).toBe(`INVITE sip:2001@127.0.0.1:${peer.port} SIP/2.0`);
    expect(tagIn(headerOf(inv, 'from'))).toBeDefined();
    expect(headerOf(inv, 'from')).toContain('"Alice Example" <sip:27000@127.0.0.1>');
    expect(tagIn(headerOf(inv, 'to'))).toBeUndefined();
    expect(headerOf(inv, 'contact')).toBe(`<sip:27000@127.0.0.1:${ourPort()}>`);
    expect(headerOf(inv, 'content-type')).toBe('application/sdp');
    expect(inv.split('\r\n\r\n')[1]).toBe(OFFER.toString());
  });

  it('MUST ACK a 2xx with the INVITE CSeq number, a new branch, the Contact as Request-URI and the reversed Record-Route (§13.2.2.4, §12.1.2)', async () => {
    const { inv, ack, outcome, uac } = await answered();
    expect(outcome.status).toBe(200);
    expect(outcome.answer?.toString()).toBe(ANSWER);
    expect(uac.state).toBe(OutgoingInviteState.Confirmed);
    expect(firstLine(ack)).toBe(`ACK sip:2001@127.0.0.1:${peer.port};ob SIP/2.0`);
    expect(headerOf(ack, 'cseq')).toBe(`${headerOf(inv, 'cseq')!.split(' ')[0]} ACK`);
    expect(branchOf(ack)).not.toBe(branchOf(inv));
    expect(tagIn(headerOf(ack, 'to'))).toBe('far1');
    expect(allHeaders(ack, 'route')).toEqual([`<sip:127.0.0.1:${peer.port};lr>`, '<sip:127.0.0.1:9;lr>']);
  });

  it('MUST send the same ACK again for each retransmission of the 2xx', async () => {
    const { ok, ack } = await answered();
    await peer.send(ourPort(), ok);
    await until(() => count('ACK') === 2);
    const acks = peer.received.filter((r) => isRequest('ACK')(r.text)).map((r) => r.text);
    expect(acks).toEqual([ack, ack]);
  });

  it('answers the far end BYE with 200 and ends the usage (remote-bye)', async () => {
    const { uac, inv, ok } = await answered();
    await peer.send(ourPort(), peerRequest('BYE', inv, ok, 1));
    const res = await peer.waitFor((t) => t.startsWith('SIP/2.0 ') && / BYE$/m.test(t));
    expect(firstLine(res.text)).toBe('SIP/2.0 200 OK');
    expect(tagIn(headerOf(res.text, 'to'))).toBe(tagIn(headerOf(inv, 'from')));
    expect(await uac.whenEnded()).toBe('remote-bye');
    expect(core.dialogCount).toBe(0);
  });

  it('runs the far end in-dialog requests through the §8.2 checks: Max-Forwards 0 gets 483, an unknown Require 420, and the call stays up', async () => {
    const { uac, inv, ok } = await answered();
    const responseTo = async (request: string, cseq: number): Promise<string> => {
      await peer.send(ourPort(), request);
      return firstLine((await peer.waitFor((t) => t.startsWith('SIP/2.0 ') && new RegExp(`^CSeq: ${cseq} BYE$`, 'mi').test(t))).text);
    };
    expect(await responseTo(peerRequest('BYE', inv, ok, 1).replace('Max-Forwards: 70', 'Max-Forwards: 0'), 1)).toBe('SIP/2.0 483 Too Many Hops');
    expect(await responseTo(peerRequest('BYE', inv, ok, 2, ['Require: 100rel-of-the-future']), 2)).toMatch(/^SIP\/2\.0 420 /);
    expect(uac.state).toBe(OutgoingInviteState.Confirmed);
    expect(core.dialogCount).toBe(1);
    // A well-formed BYE still ends it.
    expect(await responseTo(peerRequest('BYE', inv, ok, 3), 3)).toBe('SIP/2.0 200 OK');
    expect(await uac.whenEnded()).toBe('remote-bye');
  });

  it('sends BYE inside the dialog on hangup(): a higher CSeq, both tags, the route set (§15.1.1)', async () => {
    const { uac, inv } = await answered();
    const hangup = uac.hangup();
    const bye = (await peer.waitFor(isRequest('BYE'))).text;
    expect(firstLine(bye)).toBe(`BYE sip:2001@127.0.0.1:${peer.port};ob SIP/2.0`);
    expect(Number(headerOf(bye, 'cseq')!.split(' ')[0])).toBeGreaterThan(Number(headerOf(inv, 'cseq')!.split(' ')[0]));
    expect(tagIn(headerOf(bye, 'from'))).toBe(tagIn(headerOf(inv, 'from')));
    expect(tagIn(headerOf(bye, 'to'))).toBe('far1');
    expect(allHeaders(bye, 'route')).toHaveLength(2);
    await peer.send(ourPort(), reply(bye, 200));
    await hangup;
    expect(await uac.whenEnded()).toBe('local-bye');
  });

  it('answers the far end re-INVITE with our SDP answer and retransmits the 200 until the ACK (§13.3.1.4)', async () => {
    const uac = invite();
    const offers: string[] = [];
    uac.handler = { onOffer: (sdp) => (offers.push(sdp.toString()), { ok: true, answer: Buffer.from('v=0\r\nour-answer\r\n') }) };
    const { inv, ok } = await answered(uac);
    const reinvite = peerRequest('INVITE', inv, ok, 2, [], ANSWER.replace('41000', '41002'));
    await peer.send(ourPort(), reinvite);
    await peer.waitFor((t) => t.startsWith('SIP/2.0 200') && / INVITE$/m.test(t) && t.includes('our-answer'));
    // T1 = 20 ms: by 70 ms the 200 has been sent again at least twice (T1, then 2*T1 later).
    await sleep(70);
    const oks = (): number => peer.received.filter((r) => r.text.startsWith('SIP/2.0 200') && r.text.includes('CSeq: 2 INVITE')).length;
    expect(oks()).toBeGreaterThanOrEqual(3);
    expect(offers).toHaveLength(1);
    await peer.send(ourPort(), peerRequest('ACK', inv, ok, 2).replace(/branch=[^;]+/, 'branch=z9hG4bKpeerACK2'));
    await sleep(20);
    const settled = oks();
    await sleep(200);
    expect(oks()).toBe(settled);
    expect(uac.state).toBe(OutgoingInviteState.Confirmed);
  });
});

describe('OutgoingInvite: CANCEL (RFC 3261 §9.1)', () => {
  it('MUST NOT send CANCEL before a provisional; after the 180 sends it with the INVITE Via, CSeq number and tags', async () => {
    const uac = invite();
    const started = uac.start();
    const inv = (await peer.waitFor(isRequest('INVITE'))).text;
    uac.cancel();
    await sleep(100);
    expect(count('CANCEL')).toBe(0);
    await peer.send(ourPort(), reply(inv, 180, { toTag: 'ring1' }));
    const cancel = (await peer.waitFor(isRequest('CANCEL'))).text;
    expect(firstLine(cancel)).toBe(firstLine(inv).replace('INVITE', 'CANCEL'));
    expect(allHeaders(cancel, 'via')).toEqual([allHeaders(inv, 'via')[0]]);
    expect(headerOf(cancel, 'cseq')).toBe(`${headerOf(inv, 'cseq')!.split(' ')[0]} CANCEL`);
    expect(headerOf(cancel, 'from')).toBe(headerOf(inv, 'from'));
    expect(headerOf(cancel, 'to')).toBe(headerOf(inv, 'to'));
    expect(headerOf(cancel, 'call-id')).toBe(headerOf(inv, 'call-id'));
    await peer.send(ourPort(), reply(cancel, 200, { toTag: 'ring1' }));
    await peer.send(ourPort(), reply(inv, 487, { toTag: 'ring1' }));
    // The ACK for the 487 is the transaction's (§17.1.1.3): the INVITE's branch.
    const ack = (await peer.waitFor(isRequest('ACK'))).text;
    expect(branchOf(ack)).toBe(branchOf(inv));
    expect((await started).status).toBe(487);
    expect(await uac.whenEnded()).toBe('cancelled');
  });

  it('ACKs a 2xx that crosses the CANCEL and ends that call with BYE', async () => {
    const uac = invite();
    const started = uac.start();
    const inv = (await peer.waitFor(isRequest('INVITE'))).text;
    await peer.send(ourPort(), reply(inv, 180, { toTag: 'x1' }));
    await sleep(20);
    uac.cancel();
    await peer.waitFor(isRequest('CANCEL'));
    await peer.send(ourPort(), reply(inv, 200, { toTag: 'x1', headers: [`Contact: <sip:2001@127.0.0.1:${peer.port}>`], body: ANSWER }));
    const ack = (await peer.waitFor(isRequest('ACK'))).text;
    expect(tagIn(headerOf(ack, 'to'))).toBe('x1');
    const bye = (await peer.waitFor(isRequest('BYE'))).text;
    expect(tagIn(headerOf(bye, 'to'))).toBe('x1');
    expect((await started).status).toBe(487);
    expect(await uac.whenEnded()).toBe('cancelled');
  });

  it('considers the INVITE cancelled 64*T1 after a CANCEL that brought no final response', async () => {
    const uac = invite();
    const started = uac.start();
    const inv = (await peer.waitFor(isRequest('INVITE'))).text;
    await peer.send(ourPort(), reply(inv, 180, { toTag: 'q1' }));
    await sleep(20);
    const t0 = Date.now();
    uac.cancel();
    await peer.waitFor(isRequest('CANCEL'));
    const outcome = await started;
    expect(outcome.status).toBe(487);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(64 * TIMERS.t1Ms - 5);
    expect(await uac.whenEnded()).toBe('cancelled');
  });

  it('ends with 408 at Timer B when nothing at all answers, having sent no CANCEL', async () => {
    const uac = invite();
    const t0 = Date.now();
    const started = uac.start();
    await peer.waitFor(isRequest('INVITE'));
    uac.cancel();
    const outcome = await started;
    expect(outcome.status).toBe(408);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(64 * TIMERS.t1Ms - 5);
    expect(count('CANCEL')).toBe(0);
  });
});

describe('OutgoingInvite: redirects (RFC 3261 §8.1.3.4)', () => {
  it('MUST copy the Contact URI into the Request-URI (without method and header parameters); same Call-ID and From tag, CSeq + 1', async () => {
    const uac = invite();
    const started = uac.start();
    const inv = (await peer.waitFor(isRequest('INVITE'))).text;
    await peer.send(ourPort(), reply(inv, 302, { toTag: 'r1', headers: [`Contact: <sip:2002@127.0.0.1:${peer.port};method=INVITE?Subject=x>`] }));
    await peer.waitFor(isRequest('ACK'));
    const second = (await peer.waitFor((t) => isRequest('INVITE')(t) && t !== inv)).text;
    expect(firstLine(second)).toBe(`INVITE sip:2002@127.0.0.1:${peer.port} SIP/2.0`);
    expect(headerOf(second, 'call-id')).toBe(headerOf(inv, 'call-id'));
    expect(headerOf(second, 'from')).toBe(headerOf(inv, 'from'));
    expect(headerOf(second, 'to')).toBe(headerOf(inv, 'to'));
    expect(headerOf(second, 'cseq')).toBe('2 INVITE');
    expect(branchOf(second)).not.toBe(branchOf(inv));
    await peer.send(ourPort(), reply(second, 200, { toTag: 'a2', headers: [`Contact: <sip:2002@127.0.0.1:${peer.port}>`], body: ANSWER }));
    const outcome = await started;
    expect(outcome.status).toBe(200);
    expect(outcome.uri).toBe(`sip:2002@127.0.0.1:${peer.port}`);
  });

  it('tries the contacts in decreasing q order and moves to the next after a failure', async () => {
    const started = invite().start();
    const inv = (await peer.waitFor(isRequest('INVITE'))).text;
    await peer.send(ourPort(), reply(inv, 302, {
      toTag: 'r1',
      headers: [`Contact: <sip:low@127.0.0.1:${peer.port}>;q=0.2, <sip:high@127.0.0.1:${peer.port}>;q=0.9`],
    }));
    const high = (await peer.waitFor((t) => t.startsWith('INVITE sip:high@'))).text;
    await peer.send(ourPort(), reply(high, 486, { toTag: 'b1' }));
    const low = (await peer.waitFor((t) => t.startsWith('INVITE sip:low@'))).text;
    expect(headerOf(low, 'cseq')).toBe('3 INVITE');
    await peer.send(ourPort(), reply(low, 200, { toTag: 'a3', headers: [`Contact: <sip:low@127.0.0.1:${peer.port}>`], body: ANSWER }));
    expect((await started).uri).toBe(`sip:low@127.0.0.1:${peer.port}`);
  });

  it('does not follow a redirect back to a URI already tried (a loop), nor more than maxRedirects', async () => {
    const loop = invite().start();
    const inv = (await peer.waitFor(isRequest('INVITE'))).text;
    await peer.send(ourPort(), reply(inv, 302, { toTag: 'r1', headers: [`Contact: <sip:2001@127.0.0.1:${peer.port}>`] }));
    expect((await loop).status).toBe(302);
    expect(count('INVITE')).toBe(1);

    const capped = invite({ maxRedirects: 0 }).start();
    const inv2 = (await peer.waitFor((t) => isRequest('INVITE')(t) && t !== inv)).text;
    await peer.send(ourPort(), reply(inv2, 301, { toTag: 'r2', headers: [`Contact: <sip:elsewhere@127.0.0.1:${peer.port}>`] }));
    expect((await capped).status).toBe(301);
    await sleep(100);
    expect(count('INVITE')).toBe(2);
  });
});

describe('OutgoingInvite: digest challenges (RFC 3261 §22.2)', () => {
  const credentials = { username: 'vmpilot', password: 'secret' };

  it('answers a 407 once: Proxy-Authorization that verifies, CSeq + 1, same Call-ID and tags; the ACK carries it too', async () => {
    const uac = invite({ credentials });
    const started = uac.start();
    const inv = (await peer.waitFor(isRequest('INVITE'))).text;
    await peer.send(ourPort(), reply(inv, 407, { toTag: 'c1', headers: [`Proxy-Authenticate: ${createChallenge('pbx.example', 'MD5', SECRET)}`] }));
    const second = (await peer.waitFor((t) => isRequest('INVITE')(t) && t !== inv)).text;
    const auth = headerOf(second, 'proxy-authorization')!;
    expect(verifyAuthorization(auth, 'INVITE', (u) => (u === 'vmpilot' ? 'secret' : undefined), SECRET)).toEqual({ ok: true, username: 'vmpilot' });
    expect(auth).toContain(`uri="sip:2001@127.0.0.1:${peer.port}"`);
    expect(headerOf(second, 'cseq')).toBe('2 INVITE');
    expect(headerOf(second, 'call-id')).toBe(headerOf(inv, 'call-id'));
    expect(headerOf(second, 'from')).toBe(headerOf(inv, 'from'));
    await peer.send(ourPort(), reply(second, 200, { toTag: 'a1', headers: [`Contact: <sip:2001@127.0.0.1:${peer.port}>`], body: ANSWER }));
    expect((await started).status).toBe(200);
    const ack = (await peer.waitFor((t) => isRequest('ACK')(t) && / 2 ACK/.test(t))).text;
    expect(headerOf(ack, 'proxy-authorization')).toBe(auth);
  });

  it('returns a second challenge as the final answer (wrong credentials)', async () => {
    const started = invite({ credentials }).start();
    const inv = (await peer.waitFor(isRequest('INVITE'))).text;
    const challenge = [`Proxy-Authenticate: ${createChallenge('pbx.example', 'MD5', SECRET)}`];
    await peer.send(ourPort(), reply(inv, 407, { toTag: 'c1', headers: challenge }));
    const second = (await peer.waitFor((t) => isRequest('INVITE')(t) && t !== inv)).text;
    await peer.send(ourPort(), reply(second, 407, { toTag: 'c2', headers: challenge }));
    expect((await started).status).toBe(407);
    await sleep(100);
    expect(count('INVITE')).toBe(2);
  });

  it('without credentials, a 401 is the final answer', async () => {
    const started = invite().start();
    const inv = (await peer.waitFor(isRequest('INVITE'))).text;
    await peer.send(ourPort(), reply(inv, 401, { toTag: 'c1', headers: [`WWW-Authenticate: ${createChallenge('pbx.example', 'MD5', SECRET)}`] }));
    expect((await started).status).toBe(401);
  });
});
