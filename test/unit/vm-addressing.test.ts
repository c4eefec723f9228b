/**
 * Who a voicemail call is for and who is calling (src/apps/voicemail/addressing.ts), from header samples in
 * the forms MX-ONE, Avaya, Cisco CUCM and Asterisk send.
 *
 * Covers: Diversion (RFC 5806) top-most vs original, comma-separated and repeated headers, display names,
 * tel URIs, quoted and vendor reason spellings, counter; History-Info (RFC 7044) with RFC 4458 cause/target,
 * mp/rc indexes, and RFC 4244-style Reason escaped in the retargeted entry; the Request-URI (RFC 4458 target,
 * direct to a mailbox, pilot → log-in); DID aliases and fall-through to the next entry; the caller from
 * P-Asserted-Identity (trusted only) or From; anonymous callers (anonymous.invalid, Privacy, "Anonymous").
 * Does not cover: the INVITE parsing (test/unit/parse.test.ts), the store's alias table (store tests), what
 * the caller hears (test/integration/vm-deposit.test.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  addressCall,
  callerOf,
  diversionReason,
  mailboxCandidates,
  parseDiversion,
  parseHistoryInfo,
  type AddressingOptions,
  type InviteView,
} from '../../src/apps/voicemail/addressing.js';
import type { Mailbox } from '../../src/store/types.js';
import { mailboxFixture } from '../helpers/mailbox-fixture.js';

function invite(requestUri: string, headers: Record<string, string | string[]> = {}): InviteView {
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v : [v]]));
  return { requestUri, header: (name) => lower.get(name.toLowerCase()) ?? [] };
}

function mailbox(number: string, aliases: string[] = []): Mailbox {
  return mailboxFixture({ number, name: `Owner of ${number}`, aliases });
}

const BOXES = [mailbox('27000', ['+4687002700', '4687002700']), mailbox('27001'), mailbox('2001'), mailbox('1001')];
const PILOTS = ['43334', '8000'];

function options(over: Partial<AddressingOptions> = {}): AddressingOptions {
  return {
    pilots: PILOTS,
    diversion: 'top',
    trustAssertedIdentity: true,
    findMailbox: async (n) => BOXES.find((b) => b.number === n || b.aliases.includes(n)),
    ...over,
  };
}

const FROM = '"Bob Smith" <sip:27001@192.168.222.10;user=phone>;tag=1928301774';

describe('Diversion (RFC 5806)', () => {
  it('MX-ONE busy: the mailbox is the diverting extension and the reason is busy', async () => {
    const a = await addressCall(
      invite('sip:43334@10.0.0.5;user=phone', {
        from: FROM,
        diversion: '"Alice Example" <sip:27000@192.168.222.10;user=phone>;reason=user-busy;counter=1;screen=no;privacy=off',
      }),
      options(),
    );
    expect(a).toMatchObject({ kind: 'deposit', reason: 'busy', source: 'diversion', mailbox: { number: '27000' } });
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

  const CHAIN = '<sip:1001@cucm.example.com>;reason=no-answer;privacy=off;screen=no, <sip:2001@cucm.example.com>;reason=unconditional;privacy=off;screen=no';

  it('Cisco chain: the top-most entry (the last diversion) is who sent the call here', async () => {
    const a = await addressCall(invite('sip:8000@vm', { from: FROM, diversion: CHAIN }), options());
    expect(a).toMatchObject({ kind: 'deposit', mailbox: { number: '1001' }, reason: 'no-answer' });
  });

  it("diversion: 'original' takes the bottom-most entry (the party first called)", async () => {
    const a = await addressCall(invite('sip:8000@vm', { from: FROM, diversion: CHAIN }), options({ diversion: 'original' }));
    expect(a).toMatchObject({ kind: 'deposit', mailbox: { number: '2001' }, reason: 'unconditional' });
  });

  it('repeated Diversion headers read the same as one comma-separated header', () => {
    const repeated = parseDiversion(['<sip:1001@cucm.example.com>;reason=no-answer', '<sip:2001@cucm.example.com>;reason=unconditional']);
    const comma = parseDiversion([CHAIN]);
    expect(repeated.map((d) => d.number)).toEqual(comma.map((d) => d.number));
  });

  it('Asterisk: a display name with a comma inside quotes does not split the entry', () => {
    expect(parseDiversion(['"Smith, Alice" <sip:27000@pbx.example.com>;reason=user-busy;counter=1;privacy=off']).map((d) => d.number)).toEqual(['27000']);
  });

  it('a tel: URI in public (DID) form reaches the mailbox through its alias, visual separators ignored', async () => {
    const a = await addressCall(invite('sip:43334@vm', { from: FROM, diversion: '<tel:+46-8-700-2700>;reason=unconditional' }), options());
    expect(a).toMatchObject({ kind: 'deposit', mailbox: { number: '27000' }, reason: 'unconditional' });
  });

  it('an entry that is no mailbox (a hunt group) falls through to the next one', async () => {
    const a = await addressCall(
      invite('sip:43334@vm', { from: FROM, diversion: ['<sip:5555@pbx>;reason=no-answer', '<sip:27000@pbx>;reason=unconditional'] }),
      options(),
    );
    expect(a).toMatchObject({ kind: 'deposit', mailbox: { number: '27000' }, reason: 'unconditional' });
  });

  it('numbers that are no mailbox give no-mailbox, not a log-in', async () => {
    const a = await addressCall(invite('sip:43334@vm', { from: FROM, diversion: '<sip:5555@pbx>;reason=no-answer' }), options());
    expect(a).toMatchObject({ kind: 'no-mailbox', numbers: ['5555'] });
  });

  it('an entry naming the pilot itself is ignored', () => {
    expect(mailboxCandidates(invite('sip:43334@vm', { diversion: '<sip:43334@pbx>;reason=unconditional, <sip:27000@pbx>;reason=user-busy' }), PILOTS, 'top')).toEqual([
      { number: '27000', reason: 'busy', source: 'diversion' },
    ]);
  });

  it('Diversion wins over History-Info when a PBX sends both', () => {
    const c = mailboxCandidates(
      invite('sip:8000@vm', { diversion: '<sip:1001@pbx>;reason=user-busy', 'history-info': '<sip:2001@pbx>;index=1, <sip:8000@pbx;cause=408>;index=1.1;mp=1' }),
      PILOTS,
      'top',
    );
    expect(c[0]).toEqual({ number: '1001', reason: 'busy', source: 'diversion' });
  });
});

describe('History-Info (RFC 7044, RFC 4458 cause and target)', () => {
  it('CUCM style: the entry the voicemail entry was mapped from (mp) is the mailbox; cause=486 is busy', async () => {
    const a = await addressCall(
      invite('sip:8000@vm', { from: FROM, 'history-info': '<sip:1001@cucm.example.com>;index=1, <sip:8000@cucm.example.com;cause=486>;index=1.1;mp=1' }),
      options(),
    );
    expect(a).toMatchObject({ kind: 'deposit', mailbox: { number: '1001' }, reason: 'busy', source: 'history-info' });
  });

  it('cause=408 is no-answer, 302 unconditional, 404 unavailable', () => {
    const reason = (cause: number) =>
      mailboxCandidates(invite('sip:8000@vm', { 'history-info': [`<sip:1001@pbx>;index=1`, `<sip:8000@pbx;cause=${cause}>;index=1.1;mp=1`] }), PILOTS, 'top')[0]?.reason;
    expect(reason(408)).toBe('no-answer');
    expect(reason(302)).toBe('unconditional');
    expect(reason(404)).toBe('unavailable');
    expect(reason(480)).toBe('no-answer');
  });

  it('the registrar hop (rc) to the phone\'s contact is skipped back to the user the voicemail entry was mapped from', () => {
    const hi = [
      '<sip:bob@example.com>;index=1',
      '<sip:bob@192.0.2.5?Reason=SIP%3Bcause%3D486%3Btext%3D%22Busy%20Here%22>;index=1.1;rc=1',
      '<sip:27000@example.com>;index=1.2;mp=1',
      '<sip:8000@vm.example.com;cause=486>;index=1.2.1;mp=1.2',
    ];
    expect(mailboxCandidates(invite('sip:8000@vm', { 'history-info': hi }), PILOTS, 'top')[0]).toEqual({ number: '27000', reason: 'busy', source: 'history-info' });
  });

  it('RFC 4244-era Avaya: no cause parameter, the Reason escaped in the entry the call left gives the reason', async () => {
    const a = await addressCall(
      invite('sip:8000@avaya.example.com', {
        from: FROM,
        'history-info': '<sip:2001@avaya.example.com>;index=1, <sip:2001@avaya.example.com?Reason=SIP%3Bcause%3D408%3Btext%3D%22Request%20Timeout%22>;index=1.1, <sip:8000@avaya.example.com>;index=1.2',
      }),
      options(),
    );
    expect(a).toMatchObject({ kind: 'deposit', mailbox: { number: '2001' }, reason: 'no-answer' });
  });

  it('the target= of the voicemail entry names the mailbox directly', () => {
    const hi = '<sip:+4687002700@example.com;user=phone>;index=1, <sip:voicemail@vm.example.com;target=sip:%2B4687002700%40example.com;user=phone;cause=408>;index=1.1;mp=1';
    expect(mailboxCandidates(invite('sip:voicemail@vm', { 'history-info': hi }), PILOTS, 'top')[0]).toEqual({
      number: '+4687002700',
      reason: 'no-answer',
      source: 'history-info',
    });
  });

  it("diversion: 'original' takes the first entry of the chain", () => {
    const hi = ['<sip:2001@pbx>;index=1', '<sip:1001@pbx;cause=302>;index=1.1;mp=1', '<sip:8000@pbx;cause=486>;index=1.1.1;mp=1.1'];
    expect(mailboxCandidates(invite('sip:8000@vm', { 'history-info': hi }), PILOTS, 'top')[0]?.number).toBe('1001');
    expect(mailboxCandidates(invite('sip:8000@vm', { 'history-info': hi }), PILOTS, 'original')[0]?.number).toBe('2001');
  });

  it('parses index, mp/rc and the cause of an entry', () => {
    expect(parseHistoryInfo(['<sip:8000@pbx;cause=486>;index=1.1;mp=1'])).toEqual([
      { number: '8000', index: '1.1', from: '1', cause: 486, target: undefined, leftWith: undefined },
    ]);
  });

  it('a single entry is not a retargeting: a call to the pilot stays a log-in', async () => {
    const a = await addressCall(invite('sip:8000@vm', { from: '<sip:5555@pbx>;tag=1', 'history-info': '<sip:8000@pbx>;index=1' }), options());
    expect(a).toMatchObject({ kind: 'login' });
    expect(a.kind === 'login' ? a.mailbox : 'x').toBeUndefined();
  });
});

describe('the Request-URI', () => {
  it('RFC 4458: target= and cause= on the Request-URI name the mailbox and the reason', async () => {
    const a = await addressCall(invite('sip:8000@vm.example.com;target=sip:27000%40pbx.example.com;cause=486', { from: FROM }), options());
    expect(a).toMatchObject({ kind: 'deposit', mailbox: { number: '27000' }, reason: 'busy', source: 'request-uri' });
  });

  it('a user that is not a pilot is the mailbox, dialled directly', async () => {
    const a = await addressCall(invite('sip:27000@vm', { from: FROM }), options());
    expect(a).toMatchObject({ kind: 'deposit', mailbox: { number: '27000' }, reason: 'direct', source: 'request-uri' });
  });

  it("the pilot from the owner's own number logs in to that mailbox", async () => {
    const a = await addressCall(invite('sip:43334@vm', { from: '"Alice" <sip:27000@192.168.222.10>;tag=9' }), options());
    expect(a.kind).toBe('login');
    expect(a.kind === 'login' ? a.mailbox?.number : undefined).toBe('27000');
  });

  it('the pilot from a DID alias of a mailbox logs in to that mailbox', async () => {
    const a = await addressCall(invite('sip:43334@vm', { from: '<tel:+4687002700>;tag=9' }), options());
    expect(a.kind === 'login' ? a.mailbox?.number : undefined).toBe('27000');
  });

  it('the pilot from a number that is no mailbox logs in without one ("enter your mailbox")', async () => {
    const a = await addressCall(invite('sip:43334@vm', { from: '<sip:0701234567@gw>;tag=9' }), options());
    expect(a).toMatchObject({ kind: 'login' });
    expect(a.kind === 'login' ? a.mailbox : 'x').toBeUndefined();
  });

  it('the pilot from an anonymous caller logs in without a mailbox', async () => {
    const a = await addressCall(invite('sip:43334@vm', { from: '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=9' }), options());
    expect(a.kind === 'login' ? a.mailbox : 'x').toBeUndefined();
  });
});

describe('the caller', () => {
  it('From: number and display name', () => {
    expect(callerOf(invite('sip:8000@vm', { from: FROM }), false)).toEqual({ number: '27001', name: 'Bob Smith', anonymous: false });
  });

  it('P-Asserted-Identity wins over From when the PBX is trusted', () => {
    const i = invite('sip:8000@vm', { from: FROM, 'p-asserted-identity': '"Carol" <sip:27005@pbx>' });
    expect(callerOf(i, true)).toEqual({ number: '27005', name: 'Carol', anonymous: false });
  });

  it('P-Asserted-Identity is ignored from an untrusted source', () => {
    const i = invite('sip:8000@vm', { from: FROM, 'p-asserted-identity': '"Carol" <sip:27005@pbx>' });
    expect(callerOf(i, false).number).toBe('27001');
  });

  it('two PAI values (sip and tel, RFC 3325 §9.1): the first number, a name from either', () => {
    const i = invite('sip:8000@vm', { from: FROM, 'p-asserted-identity': ['<tel:+1-201-555-0123>', '"Dave Jones" <sip:+12015550123@gw;user=phone>'] });
    expect(callerOf(i, true)).toEqual({ number: '+12015550123', name: 'Dave Jones', anonymous: false });
  });

  it('a tel: From loses its visual separators', () => {
    expect(callerOf(invite('sip:8000@vm', { from: '<tel:+1-201-555-0123>;tag=x' }), false).number).toBe('+12015550123');
  });

  it('anonymous@anonymous.invalid (RFC 3261 §8.1.1.3) is anonymous: from \'\'', () => {
    expect(callerOf(invite('sip:8000@vm', { from: '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=x' }), false)).toEqual({ number: '', name: '', anonymous: true });
  });

  it('Cisco anonymous: sip:anonymous@<pbx address> is anonymous', () => {
    expect(callerOf(invite('sip:8000@vm', { from: '<sip:anonymous@10.1.1.1>;tag=x' }), false).anonymous).toBe(true);
  });

  it('Privacy: id (RFC 3325) hides the caller even when the PBX asserts an identity', () => {
    const i = invite('sip:8000@vm', { from: FROM, 'p-asserted-identity': '<sip:27005@pbx>', privacy: 'id' });
    expect(callerOf(i, true)).toEqual({ number: '', name: '', anonymous: true });
  });

  it('Privacy: none does not', () => {
    expect(callerOf(invite('sip:8000@vm', { from: FROM, privacy: 'none' }), false).anonymous).toBe(false);
  });

  it('an anonymous From with an asserted identity from a trusted PBX: the asserted number', () => {
    const i = invite('sip:8000@vm', { from: '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=x', 'p-asserted-identity': '<sip:27005@pbx>' });
    expect(callerOf(i, true)).toEqual({ number: '27005', name: '', anonymous: false });
  });

  it('a display name "Anonymous" over a real number keeps the number, drops the name', () => {
    expect(callerOf(invite('sip:8000@vm', { from: '"Anonymous" <sip:27001@pbx>;tag=x' }), false)).toEqual({ number: '27001', name: '', anonymous: false });
  });

  it('an unparseable or missing From is anonymous rather than an error', () => {
    expect(callerOf(invite('sip:8000@vm', { from: '<sip:@>' }), false).anonymous).toBe(true);
    expect(callerOf(invite('sip:8000@vm'), false).anonymous).toBe(true);
  });

  it('an anonymous caller of a diverted call still deposits, from \'\'', async () => {
    const a = await addressCall(
      invite('sip:43334@vm', { from: '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=x', diversion: '<sip:27000@pbx>;reason=no-answer' }),
      options(),
    );
    expect(a).toMatchObject({ kind: 'deposit', mailbox: { number: '27000' }, caller: { number: '', name: '', anonymous: true } });
  });
});
