/**
 * Which mailbox a voicemail call is for (src/apps/voicemail/addressing.ts), from INVITEs in the forms MX-ONE,
 * Avaya, Cisco CUCM and Asterisk send, read by the call layer (partiesOf) as a Call reads them.
 *
 * Covers: Diversion (RFC 5806) top-most vs original; History-Info (RFC 7044) with RFC 4458 cause/target, mp/rc
 * indexes, and RFC 4244-style Reason escaped in the retargeted entry; the Request-URI (RFC 4458 target,
 * direct to a mailbox, pilot → log-in); DID aliases and fall-through to the next entry; an anonymous caller.
 * Does not cover: reading the headers themselves (test/unit/call-parties.test.ts), the INVITE parsing
 * (test/unit/parse.test.ts), the store's alias table (store tests), what the caller hears
 * (test/integration/vm-deposit.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { addressCall, mailboxCandidates, type Addressing, type AddressingOptions, type Candidate } from '../../src/apps/voicemail/addressing.js';
import { partiesOf, type InviteView } from '../../src/call/parties.js';
import type { Mailbox } from '../../src/store/types.js';
import { inviteView as invite } from '../helpers/invite-view.js';
import { mailboxFixture } from '../helpers/mailbox-fixture.js';

/** addressCall over the INVITE as a Call from a trusted PBX reads it. */
function address(view: InviteView, opts: AddressingOptions): Promise<Addressing> {
  return addressCall(partiesOf(view, true), opts);
}

function candidates(view: InviteView, pilots: readonly string[], mode: 'top' | 'original'): Candidate[] {
  return mailboxCandidates(partiesOf(view, true), pilots, mode);
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
    findMailbox: async (n) => BOXES.find((b) => b.number === n || b.aliases.includes(n)),
    ...over,
  };
}

const FROM = '"Bob Smith" <sip:27001@192.168.222.10;user=phone>;tag=1928301774';

describe('Diversion (RFC 5806)', () => {
  it('MX-ONE busy: the mailbox is the diverting extension and the reason is busy', async () => {
    const a = await address(
      invite('sip:43334@10.0.0.5;user=phone', {
        from: FROM,
        diversion: '"Alice Example" <sip:27000@192.168.222.10;user=phone>;reason=user-busy;counter=1;screen=no;privacy=off',
      }),
      options(),
    );
    expect(a).toMatchObject({ kind: 'deposit', reason: 'busy', source: 'diversion', mailbox: { number: '27000' } });
  });

  const CHAIN = '<sip:1001@cucm.example.com>;reason=no-answer;privacy=off;screen=no, <sip:2001@cucm.example.com>;reason=unconditional;privacy=off;screen=no';

  it('Cisco chain: the top-most entry (the last diversion) is who sent the call here', async () => {
    const a = await address(invite('sip:8000@vm', { from: FROM, diversion: CHAIN }), options());
    expect(a).toMatchObject({ kind: 'deposit', mailbox: { number: '1001' }, reason: 'no-answer' });
  });

  it("diversion: 'original' takes the bottom-most entry (the party first called)", async () => {
    const a = await address(invite('sip:8000@vm', { from: FROM, diversion: CHAIN }), options({ diversion: 'original' }));
    expect(a).toMatchObject({ kind: 'deposit', mailbox: { number: '2001' }, reason: 'unconditional' });
  });

  it('a tel: URI in public (DID) form reaches the mailbox through its alias, visual separators ignored', async () => {
    const a = await address(invite('sip:43334@vm', { from: FROM, diversion: '<tel:+46-8-700-2700>;reason=unconditional' }), options());
    expect(a).toMatchObject({ kind: 'deposit', mailbox: { number: '27000' }, reason: 'unconditional' });
  });

  it('an entry that is no mailbox (a hunt group) falls through to the next one', async () => {
    const a = await address(
      invite('sip:43334@vm', { from: FROM, diversion: ['<sip:5555@pbx>;reason=no-answer', '<sip:27000@pbx>;reason=unconditional'] }),
      options(),
    );
    expect(a).toMatchObject({ kind: 'deposit', mailbox: { number: '27000' }, reason: 'unconditional' });
  });

  it('numbers that are no mailbox give no-mailbox, not a log-in', async () => {
    const a = await address(invite('sip:43334@vm', { from: FROM, diversion: '<sip:5555@pbx>;reason=no-answer' }), options());
    expect(a).toMatchObject({ kind: 'no-mailbox', numbers: ['5555'] });
  });

  it('an entry naming the pilot itself is ignored', () => {
    expect(candidates(invite('sip:43334@vm', { diversion: '<sip:43334@pbx>;reason=unconditional, <sip:27000@pbx>;reason=user-busy' }), PILOTS, 'top')).toEqual([
      { number: '27000', reason: 'busy', source: 'diversion' },
    ]);
  });

  it('Diversion wins over History-Info when a PBX sends both', () => {
    const c = candidates(
      invite('sip:8000@vm', { diversion: '<sip:1001@pbx>;reason=user-busy', 'history-info': '<sip:2001@pbx>;index=1, <sip:8000@pbx;cause=408>;index=1.1;mp=1' }),
      PILOTS,
      'top',
    );
    expect(c[0]).toEqual({ number: '1001', reason: 'busy', source: 'diversion' });
  });
});

describe('History-Info (RFC 7044, RFC 4458 cause and target)', () => {
  it('CUCM style: the entry the voicemail entry was mapped from (mp) is the mailbox; cause=486 is busy', async () => {
    const a = await address(
      invite('sip:8000@vm', { from: FROM, 'history-info': '<sip:1001@cucm.example.com>;index=1, <sip:8000@cucm.example.com;cause=486>;index=1.1;mp=1' }),
      options(),
    );
    expect(a).toMatchObject({ kind: 'deposit', mailbox: { number: '1001' }, reason: 'busy', source: 'history-info' });
  });

  it('cause=408 is no-answer, 302 unconditional, 404 unavailable', () => {
    const reason = (cause: number) =>
      candidates(invite('sip:8000@vm', { 'history-info': [`<sip:1001@pbx>;index=1`, `<sip:8000@pbx;cause=${cause}>;index=1.1;mp=1`] }), PILOTS, 'top')[0]?.reason;
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
    expect(candidates(invite('sip:8000@vm', { 'history-info': hi }), PILOTS, 'top')[0]).toEqual({ number: '27000', reason: 'busy', source: 'history-info' });
  });

  it('RFC 4244-era Avaya: no cause parameter, the Reason escaped in the entry the call left gives the reason', async () => {
    const a = await address(
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
    expect(candidates(invite('sip:voicemail@vm', { 'history-info': hi }), PILOTS, 'top')[0]).toEqual({
      number: '+4687002700',
      reason: 'no-answer',
      source: 'history-info',
    });
  });

  it("diversion: 'original' takes the first entry of the chain", () => {
    const hi = ['<sip:2001@pbx>;index=1', '<sip:1001@pbx;cause=302>;index=1.1;mp=1', '<sip:8000@pbx;cause=486>;index=1.1.1;mp=1.1'];
    expect(candidates(invite('sip:8000@vm', { 'history-info': hi }), PILOTS, 'top')[0]?.number).toBe('1001');
    expect(candidates(invite('sip:8000@vm', { 'history-info': hi }), PILOTS, 'original')[0]?.number).toBe('2001');
  });

  it('a single entry is not a retargeting: a call to the pilot stays a log-in', async () => {
    const a = await address(invite('sip:8000@vm', { from: '<sip:5555@pbx>;tag=1', 'history-info': '<sip:8000@pbx>;index=1' }), options());
    expect(a).toMatchObject({ kind: 'login' });
    expect(a.kind === 'login' ? a.mailbox : 'x').toBeUndefined();
  });
});

describe('the Request-URI', () => {
  it('RFC 4458: target= and cause= on the Request-URI name the mailbox and the reason', async () => {
    const a = await address(invite('sip:8000@vm.example.com;target=sip:27000%40pbx.example.com;cause=486', { from: FROM }), options());
    expect(a).toMatchObject({ kind: 'deposit', mailbox: { number: '27000' }, reason: 'busy', source: 'request-uri' });
  });

  it('a user that is not a pilot is the mailbox, dialled directly', async () => {
    const a = await address(invite('sip:27000@vm', { from: FROM }), options());
    expect(a).toMatchObject({ kind: 'deposit', mailbox: { number: '27000' }, reason: 'direct', source: 'request-uri' });
  });

  it("the pilot from the owner's own number logs in to that mailbox", async () => {
    const a = await address(invite('sip:43334@vm', { from: '"Alice" <sip:27000@192.168.222.10>;tag=9' }), options());
    expect(a.kind).toBe('login');
    expect(a.kind === 'login' ? a.mailbox?.number : undefined).toBe('27000');
  });

  it('the pilot from a DID alias of a mailbox logs in to that mailbox', async () => {
    const a = await address(invite('sip:43334@vm', { from: '<tel:+4687002700>;tag=9' }), options());
    expect(a.kind === 'login' ? a.mailbox?.number : undefined).toBe('27000');
  });

  it('the pilot from a number that is no mailbox logs in without one ("enter your mailbox")', async () => {
    const a = await address(invite('sip:43334@vm', { from: '<sip:0701234567@gw>;tag=9' }), options());
    expect(a).toMatchObject({ kind: 'login' });
    expect(a.kind === 'login' ? a.mailbox : 'x').toBeUndefined();
  });

  it('the pilot from an anonymous caller logs in without a mailbox', async () => {
    const a = await address(invite('sip:43334@vm', { from: '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=9' }), options());
    expect(a.kind === 'login' ? a.mailbox : 'x').toBeUndefined();
  });
});

describe('the caller of a message', () => {
  it('an anonymous caller of a diverted call still deposits, from \'\'', async () => {
    const a = await address(
      invite('sip:43334@vm', { from: '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=x', diversion: '<sip:27000@pbx>;reason=no-answer' }),
      options(),
    );
    expect(a).toMatchObject({ kind: 'deposit', mailbox: { number: '27000' }, caller: { number: '', name: '', anonymous: true } });
  });
});
