/**
 * buildResponse (sip/response.ts) and Record-Route, RFC 3261 §12.1.1: a response that establishes a dialog
 * copies every Record-Route value of the request, in order; other responses do not. Found when calls went
 * through Kamailio (examples/kamailio): without the copy, the PBX's BYE had no route back to the host.
 */
import { describe, expect, it } from 'vitest';
import { Headers, createRequest } from '../../src/sip/message.js';
import { buildResponse } from '../../src/sip/response.js';

function request(method: string, to = '<sip:8000@vm>'): ReturnType<typeof createRequest> {
  const h = new Headers();
  h.set('via', 'SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKp1');
  h.set('record-route', ['<sip:10.0.0.2;lr;ftag=a>', '<sip:10.0.0.9;lr>']);
  h.set('from', '<sip:27000@pbx>;tag=a');
  h.set('to', to);
  h.set('call-id', 'c1');
  h.set('cseq', `1 ${method}`);
  return createRequest(method, 'sip:8000@vm', h);
}

describe('Record-Route in responses (RFC 3261 §12.1.1)', () => {
  it('MUST copy every Record-Route value, in order, into a 2xx to INVITE and to SUBSCRIBE', () => {
    for (const method of ['INVITE', 'SUBSCRIBE']) {
      const res = buildResponse(request(method), 200, { toTag: 't' });
      expect(res.headers.getAll('record-route')).toEqual(['<sip:10.0.0.2;lr;ftag=a>', '<sip:10.0.0.9;lr>']);
    }
  });

  it('MUST copy them into a 1xx that establishes an early dialog (180 with a To tag)', () => {
    expect(buildResponse(request('INVITE'), 180, { toTag: 't' }).headers.getAll('record-route')).toHaveLength(2);
  });

  it('leaves them out of 100 Trying, error responses, responses to OPTIONS and to in-dialog requests', () => {
    expect(buildResponse(request('INVITE'), 100).headers.getAll('record-route')).toEqual([]);
    expect(buildResponse(request('INVITE'), 486, { toTag: 't' }).headers.getAll('record-route')).toEqual([]);
    expect(buildResponse(request('OPTIONS'), 200, { toTag: 't' }).headers.getAll('record-route')).toEqual([]);
    expect(buildResponse(request('INVITE', '<sip:8000@vm>;tag=x'), 200).headers.getAll('record-route')).toEqual([]);
  });
});
