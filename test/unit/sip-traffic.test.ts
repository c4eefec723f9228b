/**
 * SipTraffic (src/sip/traffic.ts): counts by method and status, unknown methods folded into 'other', and a
 * transaction's resend of the same bytes counted as a retransmission (RFC 3261 §17 timers resend the buffer;
 * the 2xx of §13.3.1.4 is serialized again, equal bytes in a new buffer). Not covered: the stack's call sites
 * (the integration test metrics-call-records.test.ts checks the counts a real call makes).
 */
import { describe, expect, it } from 'vitest';
import { SipTraffic } from '../../src/sip/traffic.js';

describe('SipTraffic', () => {
  it('counts requests by method and responses by method and status, per direction', () => {
    const t = new SipTraffic();
    t.request('in', 'INVITE');
    t.request('in', 'INVITE');
    t.request('out', 'BYE');
    t.response('out', 'INVITE', 200);
    t.response('out', 'INVITE', 100);
    t.response('out', 'INVITE', 200);
    expect([...t.requests.in]).toEqual([['INVITE', 2]]);
    expect([...t.requests.out]).toEqual([['BYE', 1]]);
    expect([...t.responses.out.get('INVITE')!]).toEqual([[200, 2], [100, 1]]);
  });

  it("folds methods that are not standard into 'other', so a peer cannot grow the label set", () => {
    const t = new SipTraffic();
    for (let i = 0; i < 100; i++) t.request('in', `X-${i}`);
    expect([...t.requests.in]).toEqual([['other', 100]]);
  });

  it('counts the same bytes sent again as one retransmission, whether the same buffer or an equal one', () => {
    const t = new SipTraffic();
    const sent: Buffer[] = [];
    const send = t.countingResends((b) => sent.push(b));
    const ok = Buffer.from('SIP/2.0 200 OK\r\n\r\n');
    send(Buffer.from('SIP/2.0 100 Trying\r\n\r\n'));
    send(ok);
    send(ok); // Timer G style: the stored buffer
    send(Buffer.from(ok)); // §13.3.1.4 style: serialized again
    expect(sent).toHaveLength(4);
    expect(t.retransmissions.out).toBe(2);
  });
});
