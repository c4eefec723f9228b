/**
 * The out-of-dialog NOTIFY message-summary sent to a PBX's MWI target (unsolicited-notify.ts).
 *
 * Covers: Request-URI = target with the mailbox as user (port and transport parameter kept), From/To naming
 * the mailbox, From tag, Contact with our address and transport, Event, Subscription-State active without
 * expires, Content-Type and body, a new Call-ID per NOTIFY, IPv6 addresses, a '#' in a mailbox number.
 * Does not cover: Via and Max-Forwards (added by the stack), sending and retries (mwi-delivery.test.ts,
 * integration/mwi.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { buildUnsolicitedNotify, notifyRequestUri } from '../../src/mwi/unsolicited-notify.js';
import { parseUri, type SipUri } from '../../src/sip/uri.js';
import { parseMessageSummary } from '../../src/mwi/message-summary.js';
import { tagOf } from '../../src/sip/response.js';

const target = (text: string): SipUri => parseUri(text) as SipUri;
const COUNTS = { new: 1, saved: 2, urgentNew: 0, urgentSaved: 1 };

describe('buildUnsolicitedNotify', () => {
  const req = buildUnsolicitedNotify({
    target: target('sip:192.168.222.10:5060'),
    mailbox: '27000',
    counts: COUNTS,
    local: { address: '192.168.222.20', port: 5070 },
    transport: 'udp',
  });

  it('MUST address the PBX target with the mailbox number as Request-URI user', () => {
    expect(req.method).toBe('NOTIFY');
    expect(req.uri).toBe('sip:27000@192.168.222.10:5060');
  });

  it('names the mailbox in To (at the PBX) and From (at us, with a tag)', () => {
    expect(req.headers.get('to')).toBe('<sip:27000@192.168.222.10:5060>');
    expect(req.headers.get('from')).toMatch(/^<sip:27000@192\.168\.222\.20>;tag=/);
    expect(tagOf(req.headers.get('from')!)).toMatch(/^[0-9a-f]{16}$/);
    expect(req.headers.get('contact')).toBe('<sip:27000@192.168.222.20:5070>');
  });

  it('MUST carry Event: message-summary and Subscription-State: active without expires', () => {
    expect(req.headers.get('event')).toBe('message-summary');
    expect(req.headers.get('subscription-state')).toBe('active');
    expect(req.headers.get('cseq')).toBe('1 NOTIFY');
  });

  it('carries the mailbox summary with the Request-URI as Message-Account', () => {
    expect(req.headers.get('content-type')).toBe('application/simple-message-summary');
    expect(parseMessageSummary(req.body)).toEqual({ waiting: true, account: 'sip:27000@192.168.222.10:5060', voice: COUNTS });
  });

  it('uses a new Call-ID and tag for every NOTIFY', () => {
    const again = buildUnsolicitedNotify({ target: target('sip:192.168.222.10'), mailbox: '27000', counts: COUNTS, local: { address: '10.0.0.1', port: 5060 }, transport: 'udp' });
    expect(again.headers.get('call-id')).not.toBe(req.headers.get('call-id'));
    expect(tagOf(again.headers.get('from')!)).not.toBe(tagOf(req.headers.get('from')!));
  });

  it('keeps the target transport in the Request-URI and puts ours in Contact', () => {
    const tcp = buildUnsolicitedNotify({ target: target('sip:pbx.example.com;transport=tcp'), mailbox: '27000', counts: COUNTS, local: { address: '10.0.0.1', port: 5060 }, transport: 'tcp' });
    expect(tcp.uri).toBe('sip:27000@pbx.example.com;transport=tcp');
    expect(tcp.headers.get('to')).toBe('<sip:27000@pbx.example.com>');
    expect(tcp.headers.get('contact')).toBe('<sip:27000@10.0.0.1:5060;transport=tcp>');
  });

  it('brackets IPv6 addresses and escapes "#" in a mailbox number', () => {
    const v6 = buildUnsolicitedNotify({ target: target('sip:[2001:db8::10]:5060'), mailbox: '27#1', counts: COUNTS, local: { address: '2001:db8::20', port: 5060 }, transport: 'udp' });
    expect(v6.uri).toBe('sip:27%231@[2001:db8::10]:5060');
    expect(v6.headers.get('from')).toMatch(/^<sip:27%231@\[2001:db8::20\]>;tag=/);
  });
});

describe('notifyRequestUri', () => {
  it('replaces a user already in the target URI with the mailbox', () => {
    expect(notifyRequestUri(target('sip:mwi@192.0.2.1'), '27000')).toBe('sip:27000@192.0.2.1');
  });
});
