/**
 * Structured header parsers: Via (§20.42, RFC 3581 rport), name-addr/addr-spec (§20.10), CSeq (§20.16),
 * generic parameters (§25.1) and list splitting (§7.3.1).
 *
 * Covers: whitespace wherever SWS/LWS allow it, quoted strings with escapes, parameters with and without
 * values, header parameters vs URI parameters in addr-spec form, IPv6 sent-by and received, format
 * functions and their round trips, and the malformed forms each parser must refuse.
 * Does not cover: finding these headers in a message (parse.test.ts) or URI internals (uri.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { formatVia, parseVia } from '../../src/sip/headers/via.js';
import { formatNameAddr, parseNameAddr } from '../../src/sip/headers/name-addr.js';
import { parseCSeq, formatCSeq } from '../../src/sip/headers/cseq.js';
import { formatParams, paramText, parseParams } from '../../src/sip/headers/params.js';
import { splitList } from '../../src/sip/headers/tokens.js';

describe('parseVia', () => {
  it('reads transport, sent-by and the branch', () => {
    const via = parseVia('SIP/2.0/udp pc33.Atlanta.com:5066;branch=z9hG4bK776asdhds');
    expect(via).toMatchObject({ transport: 'UDP', host: 'pc33.atlanta.com', port: 5066, branch: 'z9hG4bK776asdhds' });
    expect(via?.rport).toBeUndefined();
    expect(via?.received).toBeUndefined();
  });

  it('allows whitespace around "/", ":", ";" and "=" (SLASH, COLON, SEMI, EQUAL)', () => {
    const via = parseVia('SIP  / 2.0  / TCP     spindle.example.com : 5070  ;  branch  =   z9hG4bK9ikj8  ');
    expect(via).toMatchObject({ transport: 'TCP', host: 'spindle.example.com', port: 5070, branch: 'z9hG4bK9ikj8' });
  });

  it('reports rport without a value as null and with a value as a number (RFC 3581 §4)', () => {
    expect(parseVia('SIP/2.0/UDP h;rport;branch=z9hG4bKa')?.rport).toBeNull();
    expect(parseVia('SIP/2.0/UDP h;rport=5061;received=192.0.2.4;branch=z9hG4bKa')).toMatchObject({
      rport: 5061,
      received: '192.0.2.4',
    });
  });

  it('reads an IPv6 sent-by without brackets and an IPv6 received (RFC 5118 §4.6)', () => {
    const via = parseVia('SIP/2.0/UDP [2001:DB8::9:1]:5070;received=2001:db8::9:255;branch=z9hG4bKas3-111');
    expect(via).toMatchObject({ host: '2001:db8::9:1', port: 5070, received: '2001:db8::9:255' });
  });

  it('keeps unknown transports and extension parameters (RFC 4475 §3.1.1.10)', () => {
    const via = parseVia('SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en;ttl=3;x-flag');
    expect(via?.transport).toBe('UNKNOWN');
    expect([...via!.params]).toEqual([['branch', 'z9hG4bKasd0f3en'], ['ttl', '3'], ['x-flag', null]]);
  });

  it('reads a Via of another SIP version, so that a 505 can be routed back (RFC 4475 §3.1.2.16)', () => {
    expect(parseVia('SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw')?.host).toBe('c.example.com');
  });

  it.each([
    ['SIP/2.0/UDP 192.0.2.15;;', 'empty parameters (RFC 4475 §3.1.2.1)'],
    [';', 'a lone separator'],
    ['SIP/2.0 host', 'no transport'],
    ['SIP/2.0/UDP', 'no sent-by'],
    ['SIP/2.0/UDPhost', 'no LWS before sent-by'],
    ['SIP/2.0/UDP host:70000', 'port out of range'],
    ['SIP/2.0/UDP host;branch', 'branch without a value'],
    ['SIP/2.0/UDP host;rport=abc', 'non-numeric rport'],
    ['SIP/2.0/UDP host junk', 'text after sent-by'],
  ])('rejects %s (%s)', (value) => {
    expect(parseVia(value)).toBeUndefined();
  });
});

describe('formatVia', () => {
  it('writes a Via that parses back to the same fields', () => {
    const text = 'SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bKx;rport=5061;received=2001:db8::2';
    const via = parseVia(text)!;
    expect(formatVia(via)).toBe(text);
    expect(parseVia(formatVia(via))).toEqual(via);
  });

  it('writes the typed fields over the parameter map (a layer that sets only via.received still sends it)', () => {
    const via = parseVia('SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKq;rport')!;
    via.rport = 40123;
    via.received = '198.51.100.7';
    expect(formatVia(via)).toBe('SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKq;rport=40123;received=198.51.100.7');
  });
});

describe('parseNameAddr', () => {
  it('reads a quoted display name with escapes, the URI and the parameters (RFC 4475 §3.1.1.1)', () => {
    const na = parseNameAddr('"J Rosenberg \\\\\\""       <sip:jdrosen@example.com> ; tag = 98asjd8');
    expect(na).toEqual({ displayName: 'J Rosenberg \\"', uri: 'sip:jdrosen@example.com', params: new Map([['tag', '98asjd8']]) });
  });

  it('reads a display name of tokens, with or without LWS before "<" (RFC 4475 §3.1.1.6)', () => {
    expect(parseNameAddr('caller<sip:caller@example.com>;tag=323')?.displayName).toBe('caller');
    expect(parseNameAddr('Alice   Example <sip:a@example.com>')?.displayName).toBe('Alice Example');
  });

  it('keeps URI parameters inside <> with the URI', () => {
    const na = parseNameAddr('<sip:+19725552222@gw1.example.net;unknownparam>');
    expect(na?.uri).toBe('sip:+19725552222@gw1.example.net;unknownparam');
    expect(na?.params.size).toBe(0);
  });

  it('gives parameters after an addr-spec to the header, not the URI (§20.10, RFC 4475 §3.3.12)', () => {
    const na = parseNameAddr('sip:+19725552222@gw1.example.net;unknownparam;expires=60');
    expect(na?.uri).toBe('sip:+19725552222@gw1.example.net');
    expect([...na!.params]).toEqual([['unknownparam', null], ['expires', '60']]);
  });

  it('accepts any URI scheme (RFC 4475 §3.3.4)', () => {
    expect(parseNameAddr('<http://www.example.com>;tag=3234233')?.uri).toBe('http://www.example.com');
    expect(parseNameAddr('isbn:2983792873')?.uri).toBe('isbn:2983792873');
  });

  it('keeps quoted parameter values with their quotes; paramText gives the text', () => {
    const na = parseNameAddr('<sip:a@b>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>";q=0.5');
    const raw = na?.params.get('+sip.instance');
    expect(raw).toBe('"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>"');
    expect(paramText(raw)).toBe('<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>');
  });

  it('reads an IPv6 URI inside <>', () => {
    expect(parseNameAddr('<sip:alice@[2001:db8::10]:5070>;tag=1')?.uri).toBe('sip:alice@[2001:db8::10]:5070');
  });

  it.each([
    ['"Mr. J. User <sip:j.user@example.com>', 'unterminated quote (RFC 4475 §3.1.2.6)'],
    ['"Watson, Thomas" < sip:t.watson@example.org >', 'spaces inside <> (RFC 4475 §3.1.2.14)'],
    ['Bell, Alexander <sip:a.g.bell@example.com>;tag=43', 'unquoted comma in display name (RFC 4475 §3.1.2.15)'],
    ['sip:user@example.com?Route=%3Csip:sip.example.com%3E', '"?" in an addr-spec (RFC 4475 §3.1.2.13)'],
    ['"Joe" <sip:joe@example.org>;;;;', 'empty parameters (RFC 4475 §3.1.2.1)'],
    ['<sip:a@b', 'no closing >'],
    ['alice@example.com', 'no scheme'],
    ['', 'empty value'],
    ['<sip:a@b>;tag=', 'parameter without value after ='],
  ])('rejects %s (%s)', (value) => {
    expect(parseNameAddr(value)).toBeUndefined();
  });
});

describe('formatNameAddr', () => {
  it('always writes name-addr form, quoting and escaping the display name', () => {
    const text = formatNameAddr({ displayName: 'Bell, "Alec"', uri: 'sip:a@example.com', params: new Map([['tag', '1']]) });
    expect(text).toBe('"Bell, \\"Alec\\"" <sip:a@example.com>;tag=1');
    expect(parseNameAddr(text)).toEqual({ displayName: 'Bell, "Alec"', uri: 'sip:a@example.com', params: new Map([['tag', '1']]) });
  });

  it('encloses an addr-spec URI in <> so its parameters stay with the header', () => {
    const na = parseNameAddr('sip:a@example.com;expires=0')!;
    expect(formatNameAddr(na)).toBe('<sip:a@example.com>;expires=0');
  });
});

describe('parseCSeq', () => {
  it('reads the number and method, with leading zeros and LWS (RFC 4475 §3.1.1.1)', () => {
    expect(parseCSeq('0009 INVITE')).toEqual({ seq: 9, method: 'INVITE' });
    expect(parseCSeq('  4711   BYE ')).toEqual({ seq: 4711, method: 'BYE' });
  });

  it('keeps the method case-sensitive (§7.1)', () => {
    expect(parseCSeq('1 invite')?.method).toBe('invite');
  });

  it('accepts 2**31 - 1 and rejects 2**31 (§8.1.1.5, RFC 4475 §3.1.2.4)', () => {
    expect(parseCSeq('2147483647 INVITE')?.seq).toBe(2147483647);
    expect(parseCSeq('2147483648 INVITE')).toBeUndefined();
    expect(parseCSeq('36893488147419103232 REGISTER')).toBeUndefined();
  });

  it.each(['INVITE', '1', '1INVITE', '-1 INVITE', '1 INVITE extra', '1 IN<VITE'])('rejects "%s"', (value) => {
    expect(parseCSeq(value)).toBeUndefined();
  });

  it('formats as "seq METHOD"', () => {
    expect(formatCSeq({ seq: 2, method: 'ACK' })).toBe('2 ACK');
  });
});

describe('parseParams / formatParams', () => {
  it('parses to the end of the text and lower-cases names', () => {
    expect([...parseParams(' ; Lr ; Maddr = 10.0.0.1 ;text="a;b"', 0)!]).toEqual([
      ['lr', null],
      ['maddr', '10.0.0.1'],
      ['text', '"a;b"'],
    ]);
  });

  it('refuses trailing junk and unterminated quotes', () => {
    expect(parseParams(';a=b junk', 0)).toBeUndefined();
    expect(parseParams(';a="b', 0)).toBeUndefined();
  });

  it('formats in map order', () => {
    expect(formatParams(new Map([['tag', 'x'], ['lr', null]]))).toBe(';tag=x;lr');
  });
});

describe('splitList (§7.3.1 comma lists)', () => {
  it('splits at commas outside quotes and <>', () => {
    expect(splitList('"Doe, John" <sip:a@b;x=1,2>;q=1 , <sip:c@d>')).toEqual(['"Doe, John" <sip:a@b;x=1,2>;q=1', '<sip:c@d>']);
  });

  it('drops empty elements but keeps a lone empty value', () => {
    expect(splitList('a,, b ,')).toEqual(['a', 'b']);
    expect(splitList('')).toEqual(['']);
  });

  it('honours backslash escapes inside quotes', () => {
    expect(splitList('"a \\", b" <sip:x@y>, <sip:z@w>')).toEqual(['"a \\", b" <sip:x@y>', '<sip:z@w>']);
  });
});
