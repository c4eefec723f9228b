/**
 * parse.ts (parseMessage) and serialize.ts (serializeMessage): the wire format of RFC 3261 §7 and §18.3.
 *
 * Covers: request and response start lines; header names (compact, any case, whitespace before ":");
 * folded lines; list headers split into getAll order across lines, and non-list headers never split;
 * datagram framing by Content-Length (extra bytes ignored, missing = rest, too large, negative, repeated);
 * body bytes kept exactly (NULs, non-UTF-8); validation faults with their status, reason and whether a
 * request comes back to answer; size limit; garbage and keep-alives; serialize → parse round trips.
 * Does not cover: the RFC 4475 messages (rfc4475.test.ts), structured header and URI details
 * (headers.test.ts, uri.test.ts), TCP stream framing (the transport's job).
 */
import { describe, expect, it } from 'vitest';
import { parseMessage, type ParseOutcome } from '../../src/sip/parse.js';
import { serializeMessage } from '../../src/sip/serialize.js';
import { Headers, createRequest, createResponseMessage, type SipMessage, type SipRequest, type SipResponse } from '../../src/sip/message.js';

const BASE_HEADERS = [
  'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1;rport',
  'Max-Forwards: 70',
  'From: "Alice" <sip:alice@example.com>;tag=a1',
  'To: <sip:43334@vm.example.com>',
  'Call-ID: c1@192.0.2.10',
  'CSeq: 1 INVITE',
  'Contact: <sip:alice@192.0.2.10:5060>',
];

function wire(startLine: string, headers: string[], body = ''): Buffer {
  return Buffer.from(`${startLine}\r\n${headers.join('\r\n')}\r\n\r\n${body}`, 'utf8');
}

function invite(headers: string[] = BASE_HEADERS, body = ''): Buffer {
  return wire('INVITE sip:43334@vm.example.com SIP/2.0', headers, body);
}

function replaced(name: string, line: string | undefined): string[] {
  const out = BASE_HEADERS.filter((h) => !h.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line === undefined ? out : [...out, line];
}

function request(outcome: ParseOutcome): SipRequest {
  if (!outcome.ok) throw new Error(`expected a message, got ${outcome.status} ${outcome.reason}`);
  if (outcome.message.kind !== 'request') throw new Error('expected a request');
  return outcome.message;
}

function response(outcome: ParseOutcome): SipResponse {
  if (!outcome.ok) throw new Error(`expected a message, got ${outcome.status} ${outcome.reason}`);
  if (outcome.message.kind !== 'response') throw new Error('expected a response');
  return outcome.message;
}

function fault(outcome: ParseOutcome): Extract<ParseOutcome, { ok: false }> {
  if (outcome.ok) throw new Error('expected the message to be rejected');
  return outcome;
}

describe('parseMessage: requests', () => {
  it('reads method, Request-URI, headers and body', () => {
    const req = request(parseMessage(invite([...BASE_HEADERS, 'Content-Type: application/sdp', 'Content-Length: 4'], 'v=0\n')));
    expect(req.method).toBe('INVITE');
    expect(req.uri).toBe('sip:43334@vm.example.com');
    expect(req.headers.get('call-id')).toBe('c1@192.0.2.10');
    expect(req.headers.get('Content-Type')).toBe('application/sdp');
    expect(req.body.toString()).toBe('v=0\n');
  });

  it('maps compact header names to their long forms (§7.3.3)', () => {
    const req = request(
      parseMessage(
        invite([
          'v: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-2',
          'f: <sip:alice@example.com>;tag=a1',
          't: <sip:43334@vm.example.com>',
          'i: compact@x',
          'CSeq: 1 INVITE',
          'm: <sip:alice@192.0.2.10>',
          'k: timer',
          's: hello',
          'c: application/sdp',
          'l: 0',
        ]),
      ),
    );
    expect(req.headers.get('via')).toBe('SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-2');
    expect(req.headers.get('from')).toBe('<sip:alice@example.com>;tag=a1');
    expect(req.headers.get('to')).toBe('<sip:43334@vm.example.com>');
    expect(req.headers.get('call-id')).toBe('compact@x');
    expect(req.headers.get('contact')).toBe('<sip:alice@192.0.2.10>');
    expect(req.headers.get('supported')).toBe('timer');
    expect(req.headers.get('subject')).toBe('hello');
    expect(req.headers.get('content-type')).toBe('application/sdp');
    expect(req.headers.get('content-length')).toBe('0');
  });

  it('treats header names case-insensitively and allows whitespace before and after ":" (HCOLON)', () => {
    const req = request(parseMessage(invite([...replaced('Max-Forwards', 'mAx-FoRwArDs  \t:   69'), 'X-Custom :value '])));
    expect(req.headers.get('max-forwards')).toBe('69');
    expect(req.headers.get('x-custom')).toBe('value');
  });

  it('joins folded lines with one space (§7.3.1)', () => {
    const req = request(parseMessage(invite([...BASE_HEADERS, 'Subject: I know you\'re there,', '   pick up the phone', '\tand talk to me!'])));
    expect(req.headers.get('subject')).toBe("I know you're there, pick up the phone and talk to me!");
  });

  it('reads a value that starts on the next line', () => {
    const req = request(parseMessage(invite([...replaced('To', 'To:'), ' <sip:43334@vm.example.com>'])));
    expect(req.headers.get('to')).toBe('<sip:43334@vm.example.com>');
  });

  it('splits list headers into one value each, in wire order across lines (§7.3.1)', () => {
    const req = request(
      parseMessage(
        invite([
          'Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bK-a, SIP/2.0/TCP p2.example.com;branch=z9hG4bK-b',
          ...BASE_HEADERS.slice(1, 6),
          'Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-c',
          'Allow: INVITE, ACK,BYE',
          'Allow: CANCEL',
        ]),
      ),
    );
    expect(req.headers.getAll('via')).toEqual([
      'SIP/2.0/UDP p1.example.com;branch=z9hG4bK-a',
      'SIP/2.0/TCP p2.example.com;branch=z9hG4bK-b',
      'SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-c',
    ]);
    expect(req.headers.getAll('allow')).toEqual(['INVITE', 'ACK', 'BYE', 'CANCEL']);
  });

  it('does not split at commas inside quotes or <>', () => {
    const req = request(parseMessage(invite([...replaced('Contact', 'Contact: "Doe, John" <sip:j@192.0.2.1;x=a,b>, <sip:k@192.0.2.2>')])));
    expect(req.headers.getAll('contact')).toEqual(['"Doe, John" <sip:j@192.0.2.1;x=a,b>', '<sip:k@192.0.2.2>']);
  });

  it('never splits headers that are not lists (Date, Authorization, Subject)', () => {
    const req = request(
      parseMessage(
        invite([
          ...BASE_HEADERS,
          'Date: Sat, 13 Nov 2010 23:29:00 GMT',
          'Authorization: Digest username="alice", realm="example.com", nonce="x", uri="sip:vm", response="y"',
          'Subject: one, two',
        ]),
      ),
    );
    expect(req.headers.getAll('date')).toEqual(['Sat, 13 Nov 2010 23:29:00 GMT']);
    expect(req.headers.getAll('authorization')).toHaveLength(1);
    expect(req.headers.get('subject')).toBe('one, two');
  });

  it('decodes header values as UTF-8', () => {
    const req = request(parseMessage(invite(replaced('From', 'From: "Jörg Ström" <sip:j@example.com>;tag=9'))));
    expect(req.headers.get('from')).toBe('"Jörg Ström" <sip:j@example.com>;tag=9');
  });

  it('accepts bare LF line endings', () => {
    const data = Buffer.from(`INVITE sip:43334@vm.example.com SIP/2.0\n${BASE_HEADERS.join('\n')}\nContent-Length: 2\n\nhi`);
    expect(request(parseMessage(data)).body.toString()).toBe('hi');
  });

  it('ignores CRLFs before the start line (§7.5)', () => {
    expect(request(parseMessage(Buffer.concat([Buffer.from('\r\n\r\n'), invite()]))).method).toBe('INVITE');
  });

  it('accepts a CSeq method equal to the request method for ACK and extension methods', () => {
    const ack = wire('ACK sip:43334@vm.example.com SIP/2.0', replaced('CSeq', 'CSeq: 1 ACK'));
    expect(request(parseMessage(ack)).method).toBe('ACK');
    const ext = wire('FOO sip:43334@vm.example.com SIP/2.0', replaced('CSeq', 'CSeq: 1 FOO'));
    expect(request(parseMessage(ext)).method).toBe('FOO');
  });

  it('accepts a tel Request-URI', () => {
    expect(request(parseMessage(wire('INVITE tel:+4643334 SIP/2.0', BASE_HEADERS))).uri).toBe('tel:+4643334');
  });
});

describe('parseMessage: framing of datagrams (§18.3)', () => {
  it('keeps body bytes exactly, NULs and non-UTF-8 bytes included', () => {
    const body = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x80, 0x41]);
    const data = Buffer.concat([invite([...BASE_HEADERS, `Content-Length: ${body.length}`]), body]);
    expect(Buffer.compare(request(parseMessage(data)).body, body)).toBe(0);
  });

  it('ignores bytes after Content-Length', () => {
    const req = request(parseMessage(invite([...BASE_HEADERS, 'Content-Length: 3'], 'abcJUNK')));
    expect(req.body.toString()).toBe('abc');
  });

  it('takes the rest of the datagram as body when Content-Length is missing', () => {
    expect(request(parseMessage(invite(BASE_HEADERS, 'v=0\r\n'))).body.toString()).toBe('v=0\r\n');
  });

  it('rejects a Content-Length larger than the data with 400, request included', () => {
    const out = fault(parseMessage(invite([...BASE_HEADERS, 'Content-Length: 50'], 'short')));
    expect(out).toMatchObject({ status: 400, reason: 'Content-Length exceeds body' });
    expect(out.request?.headers.get('call-id')).toBe('c1@192.0.2.10');
  });

  it('rejects a non-numeric Content-Length', () => {
    expect(fault(parseMessage(invite([...BASE_HEADERS, 'Content-Length: ten'])))).toMatchObject({ status: 400, reason: 'Bad Content-Length' });
  });

  it('rejects two Content-Length headers, even when they agree', () => {
    const out = fault(parseMessage(invite([...BASE_HEADERS, 'Content-Length: 0', 'l: 0'])));
    expect(out).toMatchObject({ status: 400, reason: 'Multiple Content-Length headers' });
  });
});

describe('parseMessage: validation faults', () => {
  it('rejects a request without Via and returns no request to answer (nowhere to send it, §18.2.2)', () => {
    const out = fault(parseMessage(invite(replaced('Via', undefined))));
    expect(out).toMatchObject({ status: 400, reason: 'Missing Via' });
    expect(out.request).toBeUndefined();
  });

  it.each([
    ['From', 'Missing From'],
    ['To', 'Missing To'],
    ['Call-ID', 'Missing Call-ID'],
    ['CSeq', 'Missing CSeq'],
  ])('rejects a request without %s and returns the request for a 400 (its Via is usable)', (name, reason) => {
    const out = fault(parseMessage(invite(replaced(name, undefined))));
    expect(out).toMatchObject({ status: 400, reason });
    expect(out.request).toBeDefined();
  });

  it.each([
    ['Via: SIP/2.0/UDP', 'Bad Via'],
    ['From: alice@example.com', 'Bad From'],
    ['To: "unterminated <sip:43334@vm.example.com>', 'Bad To'],
    ['Call-ID: two words', 'Bad Call-ID'],
    ['CSeq: x INVITE', 'Bad CSeq'],
  ])('rejects a malformed header: %s', (line, reason) => {
    const name = line.slice(0, line.indexOf(':'));
    expect(fault(parseMessage(invite(replaced(name, line))))).toMatchObject({ status: 400, reason });
  });

  it('returns the request for a 400 when only a non-Via required header is malformed', () => {
    const out = fault(parseMessage(invite(replaced('To', 'To: "unterminated <sip:43334@vm.example.com>'))));
    expect(out.request?.method).toBe('INVITE');
  });

  it('rejects a malformed Via further down the list', () => {
    const out = fault(parseMessage(invite([...BASE_HEADERS, 'Via: garbage'])));
    expect(out).toMatchObject({ status: 400, reason: 'Bad Via' });
    expect(out.request).toBeDefined();
  });

  it('rejects a CSeq method that differs from the request method', () => {
    const out = fault(parseMessage(invite(replaced('CSeq', 'CSeq: 1 BYE'))));
    expect(out).toMatchObject({ status: 400, reason: 'Bad CSeq: method mismatch' });
    expect(out.request?.method).toBe('INVITE');
  });

  it.each(['From', 'To', 'Call-ID', 'CSeq', 'Max-Forwards', 'Content-Type'])('rejects %s appearing twice', (name) => {
    const line = BASE_HEADERS.find((h) => h.startsWith(`${name}:`)) ?? `${name}: application/sdp`;
    const headers = name === 'Content-Type' ? [...BASE_HEADERS, line, line] : [...BASE_HEADERS, line];
    expect(fault(parseMessage(invite(headers)))).toMatchObject({ status: 400, reason: `Multiple ${name} headers` });
  });

  it.each(['256', '-1', 'seventy', ''])('rejects Max-Forwards "%s"', (value) => {
    expect(fault(parseMessage(invite(replaced('Max-Forwards', `Max-Forwards: ${value}`))))).toMatchObject({
      status: 400,
      reason: 'Bad Max-Forwards',
    });
  });

  it('accepts Max-Forwards 0 and 255 (483 is the application layer\'s answer, not the parser\'s)', () => {
    expect(parseMessage(invite(replaced('Max-Forwards', 'Max-Forwards: 0'))).ok).toBe(true);
    expect(parseMessage(invite(replaced('Max-Forwards', 'Max-Forwards: 255'))).ok).toBe(true);
  });

  it('rejects a malformed Contact', () => {
    expect(fault(parseMessage(invite(replaced('Contact', 'Contact: <sip:alice@192.0.2.10'))))).toMatchObject({ status: 400, reason: 'Bad Contact' });
  });

  it('accepts Contact: * (§10.2.2)', () => {
    const reg = wire('REGISTER sip:vm.example.com SIP/2.0', [...replaced('Contact', 'Contact: *').filter((h) => !h.startsWith('CSeq')), 'CSeq: 2 REGISTER', 'Expires: 0']);
    expect(parseMessage(reg).ok).toBe(true);
  });

  it('answers another SIP version with 505 and returns the request', () => {
    const out = fault(parseMessage(wire('INVITE sip:43334@vm.example.com SIP/3.0', BASE_HEADERS)));
    expect(out).toMatchObject({ status: 505 });
    expect(out.request?.uri).toBe('sip:43334@vm.example.com');
  });

  it('accepts the version in any case (§25.1: literals are case-insensitive)', () => {
    expect(parseMessage(wire('INVITE sip:43334@vm.example.com sip/2.0', BASE_HEADERS)).ok).toBe(true);
  });

  it('answers an unknown Request-URI scheme with 416 (§8.2.2.1)', () => {
    expect(fault(parseMessage(wire('INVITE mailto:a@example.com SIP/2.0', BASE_HEADERS)))).toMatchObject({
      status: 416,
      reason: 'Unsupported URI Scheme',
    });
  });

  it('rejects a malformed sip Request-URI with 400', () => {
    expect(fault(parseMessage(wire('INVITE sip:43334@ SIP/2.0', BASE_HEADERS)))).toMatchObject({ status: 400, reason: 'Bad Request-URI' });
  });

  it('rejects a header line without a colon but still returns the request', () => {
    const out = fault(parseMessage(invite([...BASE_HEADERS, 'Foobar roobar'])));
    expect(out).toMatchObject({ status: 400, reason: 'Malformed header line' });
    expect(out.request?.headers.get('call-id')).toBe('c1@192.0.2.10');
  });

  it('rejects a header name that is not a token', () => {
    expect(fault(parseMessage(invite([...BASE_HEADERS, 'Bad Name: x'])))).toMatchObject({ reason: 'Malformed header line' });
  });

  it('refuses messages over 64 KiB with 413, request included', () => {
    const big = 'x'.repeat(70 * 1024);
    const out = fault(parseMessage(invite([...BASE_HEADERS, `Content-Length: ${big.length}`], big)));
    expect(out).toMatchObject({ status: 413, reason: 'Message Too Large' });
    expect(out.request?.method).toBe('INVITE');
  });

  it.each([
    ['an empty datagram', Buffer.alloc(0)],
    ['a CRLF keep-alive', Buffer.from('\r\n\r\n')],
    ['binary noise', Buffer.from([0x80, 0x00, 0x13, 0x37, 0xff])],
    ['a STUN-like packet', Buffer.from('\x00\x01\x00\x00!\x12\xa4B', 'latin1')],
    ['a lone word', Buffer.from('HELLO\r\n\r\n')],
  ])('drops %s: not ok and no request', (_label, data) => {
    const out = fault(parseMessage(data));
    expect(out.request).toBeUndefined();
  });
});

describe('parseMessage: responses', () => {
  const resHeaders = [...BASE_HEADERS.filter((h) => !h.startsWith('Max-Forwards')), 'Content-Length: 0'];

  it('reads status, reason and headers', () => {
    const res = response(parseMessage(wire('SIP/2.0 486 Busy Here', resHeaders)));
    expect(res.status).toBe(486);
    expect(res.reason).toBe('Busy Here');
    expect(res.headers.get('cseq')).toBe('1 INVITE');
  });

  it('keeps spaces and UTF-8 in the reason phrase, and accepts an empty one', () => {
    expect(response(parseMessage(wire('SIP/2.0 200 Très  bien', resHeaders))).reason).toBe('Très  bien');
    expect(response(parseMessage(wire('SIP/2.0 100 ', resHeaders))).reason).toBe('');
  });

  it.each(['SIP/2.0 099 Low', 'SIP/2.0 700 High', 'SIP/2.0 2000 Long', 'SIP/2.0 20 Short', 'SIP/2.0 abc Text'])(
    'rejects the status line "%s" without a request to answer',
    (line) => {
      const out = fault(parseMessage(wire(line, resHeaders)));
      expect(out.request).toBeUndefined();
    },
  );

  it('rejects a response without Via (it cannot be matched)', () => {
    expect(fault(parseMessage(wire('SIP/2.0 200 OK', resHeaders.slice(1)))).reason).toBe('Missing Via');
  });

  it('drops a response of another SIP version', () => {
    expect(fault(parseMessage(wire('SIP/3.0 200 OK', resHeaders))).request).toBeUndefined();
  });
});

describe('serializeMessage', () => {
  it('writes start line, canonical header names in stored order, Content-Length and body', () => {
    const headers = new Headers()
      .append('via', 'SIP/2.0/UDP 192.0.2.20;branch=z9hG4bK-9')
      .append('call-id', 'x@y')
      .append('cseq', '1 OPTIONS')
      .append('www-authenticate', 'Digest realm="vm"')
      .append('x-extra', 'v');
    const text = serializeMessage(createRequest('OPTIONS', 'sip:pbx.example.com', headers)).toString();
    expect(text).toBe(
      'OPTIONS sip:pbx.example.com SIP/2.0\r\n' +
        'Via: SIP/2.0/UDP 192.0.2.20;branch=z9hG4bK-9\r\n' +
        'Call-ID: x@y\r\n' +
        'CSeq: 1 OPTIONS\r\n' +
        'WWW-Authenticate: Digest realm="vm"\r\n' +
        'X-Extra: v\r\n' +
        'Content-Length: 0\r\n' +
        '\r\n',
    );
  });

  it('replaces a stale Content-Length with the body length, in its place', () => {
    const headers = new Headers().append('content-length', '999').append('content-type', 'text/plain');
    const text = serializeMessage(createResponseMessage(200, 'OK', headers, Buffer.from('hello'))).toString();
    expect(text).toBe('SIP/2.0 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello');
  });

  it('writes an empty reason phrase after the status code and its SP', () => {
    expect(serializeMessage(createResponseMessage(100, '')).toString().startsWith('SIP/2.0 100 \r\n')).toBe(true);
  });

  it('turns CR and LF inside a value into spaces so that no header can be injected', () => {
    const headers = new Headers().append('subject', 'hi\r\nVia: SIP/2.0/UDP evil');
    const text = serializeMessage(createRequest('MESSAGE', 'sip:a@b', headers)).toString();
    expect(text).toContain('Subject: hi Via: SIP/2.0/UDP evil\r\n');
    expect(text.match(/^Via:/m)).toBeNull();
  });

  it('round-trips through parseMessage: headers, list order, UTF-8 and binary body', () => {
    const body = Buffer.from([0x76, 0x3d, 0x30, 0x00, 0xfe, 0x0d, 0x0a]);
    const data = invite(
      [
        'Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bK-a, SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-b',
        ...BASE_HEADERS.slice(1),
        'Subject: Grüße',
        'c: application/octet-stream',
        `l: ${body.length}`,
      ],
    );
    const first = request(parseMessage(Buffer.concat([data, body])));
    const again = request(parseMessage(serializeMessage(first)));
    expect(again.method).toBe(first.method);
    expect(again.uri).toBe(first.uri);
    expect([...again.headers.entries()]).toEqual([...first.headers.entries()]);
    expect(Buffer.compare(again.body, body)).toBe(0);
  });

  it('round-trips a response', () => {
    const msg: SipMessage = createResponseMessage(
      180,
      'Ringing',
      new Headers()
        .append('via', 'SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-1')
        .append('from', '<sip:a@example.com>;tag=1')
        .append('to', '<sip:b@example.com>;tag=2')
        .append('call-id', 'r@x')
        .append('cseq', '1 INVITE'),
    );
    const back = response(parseMessage(serializeMessage(msg)));
    expect(back.status).toBe(180);
    expect(back.reason).toBe('Ringing');
    expect(back.headers.get('to')).toBe('<sip:b@example.com>;tag=2');
    expect(back.headers.get('content-length')).toBe('0');
  });
});
