/**
 * Who a call is for and who is calling, as the call layer reads them from the INVITE (src/call/parties.ts,
 * redirects.ts, calling-party.ts), from header samples in the forms MX-ONE, Avaya, Cisco CUCM and Asterisk send.
 *
 * Covers: the dialled number; Diversion (RFC 5806) entries, comma-separated and repeated headers, display
 * names, quoted and vendor reason spellings, counter, most recent first; History-Info (RFC 7044) entries, the
 * chain behind the retargeted entry (mp/rc, else the entry before; branches last), RFC 4458 target= on it or
 * on the Request-URI; the caller from P-Asserted-Identity (trusted only) or From; anonymous callers
 * (anonymous.invalid, Privacy, "Anonymous").
 * Does not cover: which mailbox an app picks from these (test/unit/vm-addressing.test.ts), the INVITE parsing
 * (test/unit/parse.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { callingParty } from '../../src/call/calling-party.js';
import { partiesOf } from '../../src/call/parties.js';
import { diversionReason, parseDiversion, parseHistoryInfo } from '../../src/call/redirects.js';
import { inviteView as invite } from '../helpers/invite-view.js';

const FROM = '"Bob Smith" <sip:27001@192.168.222.10;user=phone>;tag=1928301774';
const CHAIN = '<sip:1001@cucm.example.com>;reason=no-answer;privacy=off;screen=no, <sip:2001@cucm.example.com>;reason=unconditional;privacy=off;screen=no';

describe('the dialled number and RFC 4458 target', () => {
  it('dialled is the Request-URI number, visual separators removed', () => {
    expect(partiesOf(invite('sip:27000@vm'), true).dialled).toBe('27000');
    expect(partiesOf(invite('tel:+46-8-700-2700'), true).dialled).toBe('+4687002700');
    expect(partiesOf(invite('sip:vm.example.com'), true).dialled).toBeUndefined();
  });

  it('target= and cause= on the Request-URI give the target and its reason', () => {
    expect(partiesOf(invite('sip:8000@vm.example.com;target=sip:27000%40pbx.example.com;cause=486'), true).target).toEqual({ number: '27000', reason: 'busy', via: 'request-uri' });
  });
});

describe('Diversion (RFC 5806)', () => {
  it('redirects are the entries, top-most (most recent) first, each with its reason', () => {
    expect(partiesOf(invite('sip:8000@vm', { diversion: CHAIN }), true).redirects).toEqual([
      { number: '1001', reason: 'no-answer', via: 'diversion' },
      { number: '2001', reason: 'unconditional', via: 'diversion' },
    ]);
  });

  it('Avaya spellings: "busy" is busy, "fwd-all" is unconditional, "no-answer" is no-answer', () => {
    expect(diversionReason('busy')).toBe('busy');
    expect(diversionReason('fwd-all')).toBe('unconditional');
    expect(diversionReason('no-answer')).toBe('no-answer');
    expect(diversionReason('unconditional')).toBe('unconditional');
    expect(diversionReason('unavailable')).toBe('unavailable');
    expect(diversionReason('time-of-day')).toBe('other');
  });

  it('a quoted reason and an addr-spec without angle brackets are read', () => {
    expect(parseDiversion(['sip:2001@avaya.example.com;reason="no-answer";counter=2'])).toEqual([
      { number: '2001', reasonText: 'no-answer', reason: 'no-answer', counter: 2 },
    ]);
  });


  it('repeated Diversion headers read the same as one comma-separated header', () => {
    const repeated = parseDiversion(['<sip:1001@cucm.example.com>;reason=no-answer', '<sip:2001@cucm.example.com>;reason=unconditional']);
    const comma = parseDiversion([CHAIN]);
    expect(repeated.map((d) => d.number)).toEqual(comma.map((d) => d.number));
  });


  it('Asterisk: a display name with a comma inside quotes does not split the entry', () => {
    expect(parseDiversion(['"Smith, Alice" <sip:27000@pbx.example.com>;reason=user-busy;counter=1;privacy=off']).map((d) => d.number)).toEqual(['27000']);
  });
});

describe('History-Info (RFC 7044, RFC 4458 cause and target)', () => {
  it('parses index, mp/rc and the cause of an entry', () => {
    expect(parseHistoryInfo(['<sip:8000@pbx;cause=486>;index=1.1;mp=1'])).toEqual([
      { number: '8000', index: '1.1', from: '1', cause: 486, target: undefined, leftWith: undefined },
    ]);
  });

  it('the chain follows mp back to the first entry, then the branches that went nowhere', () => {
    // 1 rang 2001; it forked to 1001 (1.1) which failed; the voicemail entry was mapped from 1 (2001).
    const hi = ['<sip:2001@pbx>;index=1', '<sip:1001@pbx>;index=1.1;rc=1', '<sip:8000@pbx;cause=408>;index=1.2;mp=1'];
    expect(partiesOf(invite('sip:8000@vm', { 'history-info': hi }), true).redirects.map((r) => r.number)).toEqual(['2001', '1001']);
  });

  it('target= on the retargeted entry is the target, with that entry\'s cause', () => {
    const hi = '<sip:+4687002700@example.com;user=phone>;index=1, <sip:voicemail@vm.example.com;target=sip:%2B4687002700%40example.com;user=phone;cause=408>;index=1.1;mp=1';
    expect(partiesOf(invite('sip:voicemail@vm', { 'history-info': hi }), true).target).toEqual({ number: '+4687002700', reason: 'no-answer', via: 'history-info' });
  });

  it('a single entry is no retargeting: no redirects', () => {
    expect(partiesOf(invite('sip:8000@vm', { 'history-info': '<sip:8000@pbx>;index=1' }), true).redirects).toEqual([]);
  });

  it('Diversion is used when a PBX sends both', () => {
    const p = partiesOf(invite('sip:8000@vm', { diversion: '<sip:1001@pbx>;reason=user-busy', 'history-info': '<sip:2001@pbx>;index=1, <sip:8000@pbx;cause=408>;index=1.1;mp=1' }), true);
    expect(p.redirects).toEqual([{ number: '1001', reason: 'busy', via: 'diversion' }]);
  });
});

describe('the caller', () => {
  it('From: number and display name', () => {
    expect(callingParty(invite('sip:8000@vm', { from: FROM }), false)).toEqual({ number: '27001', name: 'Bob Smith', asserted: false, anonymous: false });
  });

  it('P-Asserted-Identity wins over From when the PBX is trusted', () => {
    const i = invite('sip:8000@vm', { from: FROM, 'p-asserted-identity': '"Carol" <sip:27005@pbx>' });
    expect(callingParty(i, true)).toEqual({ number: '27005', name: 'Carol', asserted: true, anonymous: false });
  });

  it('P-Asserted-Identity is ignored from an untrusted source', () => {
    const i = invite('sip:8000@vm', { from: FROM, 'p-asserted-identity': '"Carol" <sip:27005@pbx>' });
    expect(callingParty(i, false).number).toBe('27001');
  });

  it('two PAI values (sip and tel, RFC 3325 §9.1): the first number, a name from either', () => {
    const i = invite('sip:8000@vm', { from: FROM, 'p-asserted-identity': ['<tel:+1-201-555-0123>', '"Dave Jones" <sip:+12015550123@gw;user=phone>'] });
    expect(callingParty(i, true)).toEqual({ number: '+12015550123', name: 'Dave Jones', asserted: true, anonymous: false });
  });

  it('a tel: From loses its visual separators', () => {
    expect(callingParty(invite('sip:8000@vm', { from: '<tel:+1-201-555-0123>;tag=x' }), false).number).toBe('+12015550123');
  });

  it('anonymous@anonymous.invalid (RFC 3261 §8.1.1.3) is anonymous: from \'\'', () => {
    expect(callingParty(invite('sip:8000@vm', { from: '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=x' }), false)).toEqual({ number: '', name: '', asserted: false, anonymous: true });
  });

  it('Cisco anonymous: sip:anonymous@<pbx address> is anonymous', () => {
    expect(callingParty(invite('sip:8000@vm', { from: '<sip:anonymous@10.1.1.1>;tag=x' }), false).anonymous).toBe(true);
  });

  it('Privacy: id (RFC 3325) hides the caller even when the PBX asserts an identity', () => {
    const i = invite('sip:8000@vm', { from: FROM, 'p-asserted-identity': '<sip:27005@pbx>', privacy: 'id' });
    expect(callingParty(i, true)).toMatchObject({ number: '', name: '', anonymous: true });
  });

  it('Privacy: none does not', () => {
    expect(callingParty(invite('sip:8000@vm', { from: FROM, privacy: 'none' }), false).anonymous).toBe(false);
  });

  it('an anonymous From with an asserted identity from a trusted PBX: the asserted number', () => {
    const i = invite('sip:8000@vm', { from: '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=x', 'p-asserted-identity': '<sip:27005@pbx>' });
    expect(callingParty(i, true)).toEqual({ number: '27005', name: '', asserted: true, anonymous: false });
  });

  it('a display name "Anonymous" over a real number keeps the number, drops the name', () => {
    expect(callingParty(invite('sip:8000@vm', { from: '"Anonymous" <sip:27001@pbx>;tag=x' }), false)).toEqual({ number: '27001', name: '', asserted: false, anonymous: false });
  });

  it('an unparseable or missing From is anonymous rather than an error', () => {
    expect(callingParty(invite('sip:8000@vm', { from: '<sip:@>' }), false).anonymous).toBe(true);
    expect(callingParty(invite('sip:8000@vm'), false).anonymous).toBe(true);
  });

  it('call.parties.caller is the same reading (trust from the Call)', () => {
    const i = invite('sip:8000@vm', { from: FROM, 'p-asserted-identity': '"Carol" <sip:27005@pbx>' });
    expect(partiesOf(i, true).caller).toEqual(callingParty(i, true));
    expect(partiesOf(i, false).caller.number).toBe('27001');
  });
});
