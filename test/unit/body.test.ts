/**
 * Finding the SDP in a request body (body.ts): a plain application/sdp body, SDP as one part of a
 * multipart/mixed body (RFC 4475 mpart01 style, RFC 5621), no body, and a body type we cannot read.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Headers, createRequest } from '../../src/sip/message.js';
import { parseMessage } from '../../src/sip/parse.js';
import { findSdp } from '../../src/sip/body.js';

function withBody(contentType: string | undefined, body: string) {
  const h = new Headers();
  if (contentType) h.set('content-type', contentType);
  return createRequest('INVITE', 'sip:8000@127.0.0.1', h, Buffer.from(body, 'latin1'));
}

describe('findSdp', () => {
  it('returns an application/sdp body as it is', () => {
    const out = findSdp(withBody('application/sdp', 'v=0\r\n'));
    expect(out.kind === 'sdp' && out.sdp.toString()).toBe('v=0\r\n');
  });

  it('reports no body', () => {
    expect(findSdp(withBody(undefined, '')).kind).toBe('none');
  });

  it('finds the SDP part of a multipart/mixed body', () => {
    const body = [
      '--unique-boundary-1',
      'Content-Type: text/plain',
      '',
      'hello',
      '--unique-boundary-1',
      'Content-Type: application/SDP',
      '',
      'v=0',
      'o=- 1 1 IN IP4 192.0.2.1',
      '--unique-boundary-1--',
      '',
    ].join('\r\n');
    const out = findSdp(withBody('multipart/mixed;boundary="unique-boundary-1"', body));
    expect(out.kind).toBe('sdp');
    if (out.kind === 'sdp') expect(out.sdp.toString()).toBe('v=0\r\no=- 1 1 IN IP4 192.0.2.1');
  });

  it('finds nothing usable in the RFC 4475 mpart01 message (text and a binary part, no SDP)', () => {
    const parsed = parseMessage(readFileSync(fileURLToPath(new URL('../fixtures/rfc4475/mpart01.dat', import.meta.url))));
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(findSdp(parsed.message).kind).toBe('unsupported');
  });

  it('reports a body type it cannot read', () => {
    expect(findSdp(withBody('application/x-unknown', 'xyz'))).toEqual({ kind: 'unsupported', contentType: 'application/x-unknown' });
  });
});
