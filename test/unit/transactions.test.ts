/**
 * The four RFC 3261 §17 transaction state machines, driven with a capturing send function and fake timers so
 * every retransmission instant is exact.
 *
 * Covers: Timer A doubling and Timer B timeout (INVITE client), ACK generation for non-2xx and its
 * retransmission, RFC 6026 Accepted states; Timer E doubling capped at T2 and Timer F (non-INVITE client);
 * Timer G doubling capped at T2, Timer H, Timer I, retransmission absorption (INVITE server); Timer J and
 * last-response retransmission (non-INVITE server); reliable transports skipping retransmissions.
 * Does not cover: matching of messages to transactions (stack.ts, tested through the integration suite).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Headers, createRequest, createResponseMessage, type SipRequest, type SipResponse } from '../../src/sip/message.js';
import { parseMessage } from '../../src/sip/parse.js';
import { timerSet, DEFAULT_TIMERS } from '../../src/sip/transaction/timers.js';
import { InviteClientTransaction, InviteClientState } from '../../src/sip/transaction/invite-client-transaction.js';
import { NonInviteClientTransaction, NonInviteClientState } from '../../src/sip/transaction/non-invite-client-transaction.js';
import { InviteServerTransaction, InviteServerState } from '../../src/sip/transaction/invite-server-transaction.js';
import { NonInviteServerTransaction, NonInviteServerState } from '../../src/sip/transaction/non-invite-server-transaction.js';

const UDP = timerSet(DEFAULT_TIMERS, false);
const TCP = timerSet(DEFAULT_TIMERS, true);

function request(method: string): SipRequest {
  const h = new Headers();
  h.set('via', 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKtest1');
  h.set('from', '<sip:alice@example.com>;tag=abc');
  h.set('to', '<sip:8000@example.com>');
  h.set('call-id', 'tx-test@example.com');
  h.set('cseq', `1 ${method}`);
  h.set('max-forwards', '70');
  return createRequest(method, 'sip:8000@example.com', h);
}

function response(req: SipRequest, status: number): SipResponse {
  const h = new Headers();
  h.set('via', req.headers.getAll('via'));
  h.set('from', req.headers.get('from') ?? '');
  h.set('to', `${req.headers.get('to') ?? ''};tag=srv`);
  h.set('call-id', req.headers.get('call-id') ?? '');
  h.set('cseq', req.headers.get('cseq') ?? '');
  return createResponseMessage(status, 'X', h);
}

/** Records each send with the fake-clock time it happened at. */
function recorder(): { sent: { at: number; data: Buffer }[]; send: (d: Buffer) => void } {
  const sent: { at: number; data: Buffer }[] = [];
  return { sent, send: (data) => sent.push({ at: Date.now(), data }) };
}

function firstLine(b: Buffer): string {
  return b.toString('latin1').split('\r\n')[0] ?? '';
}

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('INVITE client transaction (§17.1.1)', () => {
  it('MUST retransmit on UDP at T1, 2T1, 4T1... (Timer A) and time out at 64*T1 (Timer B)', () => {
    const { sent, send } = recorder();
    const onTimeout = vi.fn();
    const tx = new InviteClientTransaction('k', request('INVITE'), send, UDP, false, { onResponse: vi.fn(), onTimeout, onTransportError: vi.fn() });
    tx.start();
    vi.advanceTimersByTime(64 * 500 - 1);
    expect(sent.map((s) => s.at)).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(onTimeout).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onTimeout).toHaveBeenCalledOnce();
    expect(tx.state).toBe(InviteClientState.Terminated);
  });

  it('MUST NOT retransmit over a reliable transport', () => {
    const { sent, send } = recorder();
    const tx = new InviteClientTransaction('k', request('INVITE'), send, TCP, true, { onResponse: vi.fn(), onTimeout: vi.fn(), onTransportError: vi.fn() });
    tx.start();
    vi.advanceTimersByTime(10_000);
    expect(sent).toHaveLength(1);
  });

  it('stops retransmitting on a provisional and moves to Proceeding', () => {
    const { sent, send } = recorder();
    const req = request('INVITE');
    const onResponse = vi.fn();
    const tx = new InviteClientTransaction('k', req, send, UDP, false, { onResponse, onTimeout: vi.fn(), onTransportError: vi.fn() });
    tx.start();
    tx.receiveResponse(response(req, 180));
    vi.advanceTimersByTime(5000);
    expect(sent).toHaveLength(1);
    expect(tx.state).toBe(InviteClientState.Proceeding);
    expect(onResponse).toHaveBeenCalledOnce();
  });

  it('MUST generate an ACK for a non-2xx final, resend it for each retransmission, and pass the response up once', () => {
    const { sent, send } = recorder();
    const req = request('INVITE');
    const onResponse = vi.fn();
    const tx = new InviteClientTransaction('k', req, send, UDP, false, { onResponse, onTimeout: vi.fn(), onTransportError: vi.fn() });
    tx.start();
    const busy = response(req, 486);
    tx.receiveResponse(busy);
    tx.receiveResponse(busy);
    expect(tx.state).toBe(InviteClientState.Completed);
    expect(onResponse).toHaveBeenCalledOnce();
    const acks = sent.slice(1).map((s) => parseMessage(s.data));
    expect(acks).toHaveLength(2);
    const ack = acks[0];
    if (!ack?.ok || ack.message.kind !== 'request') throw new Error('ACK did not parse');
    expect(ack.message.method).toBe('ACK');
    expect(ack.message.uri).toBe(req.uri);
    expect(ack.message.headers.get('cseq')).toBe('1 ACK');
    expect(ack.message.headers.get('to')).toContain('tag=srv');
    expect(ack.message.headers.getAll('via')).toEqual(['SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKtest1']);
    // Timer D: at least 32 s on UDP.
    vi.advanceTimersByTime(31_999);
    expect(tx.state).toBe(InviteClientState.Completed);
    vi.advanceTimersByTime(1);
    expect(tx.state).toBe(InviteClientState.Terminated);
  });

  it('RFC 6026: passes retransmitted 2xx responses up while Accepted, then terminates on Timer M', () => {
    const { send } = recorder();
    const req = request('INVITE');
    const onResponse = vi.fn();
    const tx = new InviteClientTransaction('k', req, send, UDP, false, { onResponse, onTimeout: vi.fn(), onTransportError: vi.fn() });
    tx.start();
    tx.receiveResponse(response(req, 200));
    tx.receiveResponse(response(req, 200));
    expect(onResponse).toHaveBeenCalledTimes(2);
    expect(tx.state).toBe(InviteClientState.Accepted);
    vi.advanceTimersByTime(64 * 500);
    expect(tx.state).toBe(InviteClientState.Terminated);
  });
});

describe('non-INVITE client transaction (§17.1.2)', () => {
  it('MUST retransmit with Timer E doubling up to T2 and time out at 64*T1 (Timer F)', () => {
    const { sent, send } = recorder();
    const onTimeout = vi.fn();
    const tx = new NonInviteClientTransaction('k', request('OPTIONS'), send, UDP, false, { onResponse: vi.fn(), onTimeout, onTransportError: vi.fn() });
    tx.start();
    vi.advanceTimersByTime(15_000);
    // 0, 0.5, 1.5, 3.5, then every T2 = 4 s: 7.5, 11.5
    expect(sent.map((s) => s.at)).toEqual([0, 500, 1500, 3500, 7500, 11500]);
    vi.advanceTimersByTime(32_000 - 15_000);
    expect(onTimeout).toHaveBeenCalledOnce();
    expect(tx.state).toBe(NonInviteClientState.Terminated);
  });

  it('retransmits every T2 once a provisional arrived', () => {
    const { sent, send } = recorder();
    const req = request('OPTIONS');
    const tx = new NonInviteClientTransaction('k', req, send, UDP, false, { onResponse: vi.fn(), onTimeout: vi.fn(), onTransportError: vi.fn() });
    tx.start();
    vi.advanceTimersByTime(100);
    tx.receiveResponse(response(req, 100));
    vi.advanceTimersByTime(10_000 - 100);
    expect(sent.map((s) => s.at)).toEqual([0, 500, 4500, 8500]);
  });

  it('passes one final response up and absorbs its retransmissions until Timer K', () => {
    const { send } = recorder();
    const req = request('BYE');
    const onResponse = vi.fn();
    const tx = new NonInviteClientTransaction('k', req, send, UDP, false, { onResponse, onTimeout: vi.fn(), onTransportError: vi.fn() });
    tx.start();
    tx.receiveResponse(response(req, 200));
    tx.receiveResponse(response(req, 200));
    expect(onResponse).toHaveBeenCalledOnce();
    vi.advanceTimersByTime(5000);
    expect(tx.state).toBe(NonInviteClientState.Terminated);
  });
});

describe('INVITE server transaction (§17.2.1, RFC 6026)', () => {
  function ist(reliable = false) {
    const rec = recorder();
    const user = { onTerminated: vi.fn(), onAckTimeout: vi.fn() };
    const req = request('INVITE');
    const tx = new InviteServerTransaction('k', rec.send, reliable ? TCP : UDP, reliable, user);
    return { ...rec, user, req, tx };
  }

  it('resends the latest provisional when the INVITE is retransmitted in Proceeding', () => {
    const { sent, tx, req } = ist();
    tx.respond(response(req, 100));
    tx.respond(response(req, 180));
    tx.receiveInvite();
    expect(sent.map((s) => firstLine(s.data))).toEqual(['SIP/2.0 100 X', 'SIP/2.0 180 X', 'SIP/2.0 180 X']);
  });

  it('MUST retransmit a non-2xx final with Timer G doubling up to T2, until Timer H', () => {
    const { sent, tx, req, user } = ist();
    tx.respond(response(req, 486));
    vi.advanceTimersByTime(64 * 500 - 1);
    expect(sent.map((s) => s.at)).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    vi.advanceTimersByTime(1);
    expect(user.onAckTimeout).toHaveBeenCalledOnce();
    expect(tx.state).toBe(InviteServerState.Terminated);
  });

  it('stops retransmitting on ACK, absorbs ACKs in Confirmed, terminates after Timer I (T4)', () => {
    const { sent, tx, req, user } = ist();
    tx.respond(response(req, 486));
    vi.advanceTimersByTime(600);
    expect(tx.receiveAck()).toBe(true);
    expect(tx.state).toBe(InviteServerState.Confirmed);
    expect(tx.receiveAck()).toBe(true);
    vi.advanceTimersByTime(4999);
    expect(tx.state).toBe(InviteServerState.Confirmed);
    vi.advanceTimersByTime(1);
    expect(tx.state).toBe(InviteServerState.Terminated);
    expect(sent).toHaveLength(2);
    expect(user.onAckTimeout).not.toHaveBeenCalled();
  });

  it('RFC 6026: after a 2xx it is Accepted, absorbs INVITE retransmissions without resending, and ends on Timer L', () => {
    const { sent, tx, req } = ist();
    tx.respond(response(req, 200));
    tx.receiveInvite();
    expect(sent).toHaveLength(1);
    tx.respond(response(req, 200)); // the TU's own 2xx retransmission passes through
    expect(sent).toHaveLength(2);
    vi.advanceTimersByTime(64 * 500);
    expect(tx.state).toBe(InviteServerState.Terminated);
  });

  it('does not retransmit a final over a reliable transport', () => {
    const { sent, tx, req } = ist(true);
    tx.respond(response(req, 486));
    vi.advanceTimersByTime(10_000);
    expect(sent).toHaveLength(1);
  });
});

describe('non-INVITE server transaction (§17.2.2)', () => {
  it('discards retransmissions in Trying, resends the final in Completed, and ends after Timer J', () => {
    const { sent, send } = recorder();
    const req = request('OPTIONS');
    const onTerminated = vi.fn();
    const tx = new NonInviteServerTransaction('k', send, UDP, onTerminated);
    tx.receiveRequest();
    expect(sent).toHaveLength(0);
    tx.respond(response(req, 200));
    tx.receiveRequest();
    expect(sent).toHaveLength(2);
    expect(tx.state).toBe(NonInviteServerState.Completed);
    vi.advanceTimersByTime(64 * 500);
    expect(onTerminated).toHaveBeenCalledOnce();
  });

  it('Timer J is zero on reliable transports', () => {
    const { send } = recorder();
    const req = request('OPTIONS');
    const onTerminated = vi.fn();
    const tx = new NonInviteServerTransaction('k', send, TCP, onTerminated);
    tx.respond(response(req, 200));
    vi.advanceTimersByTime(0);
    expect(onTerminated).toHaveBeenCalledOnce();
  });
});
