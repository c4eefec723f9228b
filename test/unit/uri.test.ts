/**
 * uri.ts: parseUri / formatUri / uriUser / uriScheme (RFC 3261 §19.1, §25.1; RFC 3966 tel; RFC 5118 IPv6).
 *
 * Covers: user, password, host (names, IPv4, IPv6 references), port, URI parameters and headers, %-escapes
 * (decoded on parse, re-encoded on format, malformed ones rejected), case rules, tel URIs and the routing
 * user, malformed input and unknown schemes giving undefined.
 * Linear work for a URI of a million parameters.
 * Does not cover: URI comparison (§19.1.4, not implemented), URIs inside header values (headers.test.ts) or
 * the Request-URI checks of the message parser (parse.test.ts, rfc4475.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { formatUri, parseUri, uriScheme, uriUser, type SipUri, type TelUri } from '../../src/sip/uri.js';

function sip(text: string): SipUri {
  const uri = parseUri(text);
  if (uri === undefined || uri.scheme === 'tel') throw new Error(`not a sip URI: ${text}`);
  return uri;
}

describe('parseUri: sip and sips URIs (RFC 3261 §19.1.1)', () => {
  it('reads user, host, port, parameters and headers', () => {
    const uri = sip('sip:alice:secret@Atlanta.Example.COM:5070;transport=TCP;lr?Subject=hi&Priority=urgent');
    expect(uri.scheme).toBe('sip');
    expect(uri.user).toBe('alice');
    expect(uri.password).toBe('secret');
    expect(uri.host).toBe('atlanta.example.com');
    expect(uri.port).toBe(5070);
    expect([...uri.params]).toEqual([['transport', 'TCP'], ['lr', null]]);
    expect([...uri.headers]).toEqual([['Subject', 'hi'], ['Priority', 'urgent']]);
  });

  it('accepts a URI with no user part', () => {
    const uri = sip('sips:pbx.example.com');
    expect(uri.scheme).toBe('sips');
    expect(uri.user).toBeUndefined();
    expect(uri.host).toBe('pbx.example.com');
    expect(uri.port).toBeUndefined();
  });

  it('treats the scheme and parameter names case-insensitively', () => {
    const uri = sip('SIP:bob@example.com;Transport=udp;LR');
    expect(uri.scheme).toBe('sip');
    expect(uri.params.get('transport')).toBe('udp');
    expect(uri.params.has('lr')).toBe(true);
  });

  it('stores an IPv6 reference without brackets, lower-cased (RFC 5118 §4.1)', () => {
    const uri = sip('sip:[2001:DB8::10]:5070;maddr=[2001:db8::20]');
    expect(uri.host).toBe('2001:db8::10');
    expect(uri.port).toBe(5070);
    expect(uri.params.get('maddr')).toBe('[2001:db8::20]');
  });

  it('accepts an IPv6 reference with an embedded IPv4 tail (RFC 5118 §4.5)', () => {
    expect(sip('sip:[::ffff:192.0.2.1]').host).toBe('::ffff:192.0.2.1');
  });

  it('decodes %-escapes in user, parameters and headers (§19.1.2, RFC 4475 §3.1.1.3)', () => {
    const uri = sip('sip:sips%3Auser%40example.com@example.net;n%61me=v%61lue%25%34%31?Route=%3Csip:example.com%3E');
    expect(uri.user).toBe('sips:user@example.com');
    expect(uri.host).toBe('example.net');
    expect(uri.params.get('name')).toBe('value%41');
    expect(uri.headers.get('Route')).toBe('<sip:example.com>');
  });

  it('decodes an escaped NUL without shortening the user (RFC 4475 §3.1.1.4)', () => {
    expect(sip('sip:null-%00-null@example.com').user).toBe('null-\u0000-null');
  });

  it('decodes multi-byte UTF-8 escapes into one character', () => {
    expect(sip('sip:J%C3%B6rg@example.com').user).toBe('Jörg');
  });

  it('keeps ";" "?" "/" in the user part when an "@" follows (RFC 4475 §3.1.1.9)', () => {
    expect(sip('sip:user;par=u%40example.net@example.com').user).toBe('user;par=u@example.net');
  });

  it.each([
    ['sip:', 'nothing after the scheme'],
    ['sip:@example.com', 'empty user'],
    ['sip:alice@', 'no host'],
    ['sip:alice@example.com:99999', 'port out of range'],
    ['sip:alice@example.com:', 'colon without port'],
    ['sip:alice@exa mple.com', 'whitespace'],
    ['sip:alice%2@example.com', 'truncated escape'],
    ['sip:alice%zz@example.com', 'non-hex escape'],
    ['sip:alice@example.com;;lr', 'empty parameter'],
    ['sip:alice@example.com;transport=', 'parameter without value after ='],
    ['sip:alice@example.com?novalue', 'header without ='],
    ['sip:alice@[2001:db8::1', 'unclosed IPv6 reference'],
    ['sip:alice@example.com/path', 'junk after the host'],
    ['<sip:alice@example.com>', 'angle brackets'],
  ])('rejects %s (%s)', (text) => {
    expect(parseUri(text)).toBeUndefined();
  });

  it('returns undefined for schemes it does not know', () => {
    expect(parseUri('http://www.example.com')).toBeUndefined();
    expect(parseUri('nobodyKnowsThisScheme:totallyopaquecontent')).toBeUndefined();
  });
});

describe('parseUri: tel URIs (RFC 3966)', () => {
  it('reads the number and parameters', () => {
    const uri = parseUri('tel:+1-201-555-0123;ext=22;Phone-Context=example.com') as TelUri;
    expect(uri.scheme).toBe('tel');
    expect(uri.number).toBe('+1-201-555-0123');
    expect([...uri.params]).toEqual([['ext', '22'], ['phone-context', 'example.com']]);
  });

  it('rejects an empty number', () => {
    expect(parseUri('tel:;ext=1')).toBeUndefined();
  });
});

describe('uriUser: the key routing uses', () => {
  it('is the unescaped user part of a sip URI', () => {
    expect(uriUser(sip('sip:%34%33334@vm.example.com'))).toBe('43334');
  });

  it('is the number without visual separators for tel URIs', () => {
    expect(uriUser(parseUri('tel:+1-201-(555)-0123')!)).toBe('+12015550123');
  });

  it('strips visual separators and subscriber parameters when user=phone (§19.1.6)', () => {
    expect(uriUser(sip('sip:+46-8-123;phone-context=+46@pbx.example.com;user=phone'))).toBe('+468123');
  });

  it('keeps the user part as is when it is not a telephone number', () => {
    expect(uriUser(sip('sip:first.last@example.com'))).toBe('first.last');
  });

  it('is undefined when there is no user part', () => {
    expect(uriUser(sip('sip:example.com'))).toBeUndefined();
  });
});

describe('formatUri', () => {
  it('round-trips a plain URI unchanged', () => {
    const text = 'sip:alice@example.com:5070;transport=tcp;lr';
    expect(formatUri(sip(text))).toBe(text);
  });

  it('re-escapes what the grammar requires and nothing else', () => {
    const uri: SipUri = {
      scheme: 'sip',
      user: 'I have spaces;and@',
      host: 'example.net',
      params: new Map([['name', 'a b']]),
      headers: new Map([['Route', '<sip:x.example.com;lr>']]),
    };
    const text = formatUri(uri);
    expect(text).toBe('sip:I%20have%20spaces;and%40@example.net;name=a%20b?Route=%3Csip:x.example.com%3Blr%3E');
    expect(parseUri(text)).toEqual(uri);
  });

  it('puts brackets around an IPv6 host', () => {
    expect(formatUri(sip('sip:bob@[2001:db8::1]:5060'))).toBe('sip:bob@[2001:db8::1]:5060');
  });

  it('escapes NUL and non-ASCII as UTF-8 bytes', () => {
    expect(formatUri({ scheme: 'sip', user: '\u0000é', host: 'h', params: new Map(), headers: new Map() })).toBe(
      'sip:%00%C3%A9@h',
    );
  });

  it('writes tel URIs', () => {
    expect(formatUri(parseUri('tel:+1-201-555-0123;ext=22')!)).toBe('tel:+1-201-555-0123;ext=22');
  });
});

describe('uriScheme', () => {
  it('tells a syntactically valid scheme apart from garbage', () => {
    expect(uriScheme('soap.beep://192.0.2.103:3002')).toBe('soap.beep');
    expect(uriScheme('SIPS:x')).toBe('sips');
    expect(uriScheme('<sip:x>')).toBeUndefined();
    expect(uriScheme('1sip:x')).toBeUndefined();
    expect(uriScheme('sip:')).toBeUndefined();
  });
});

describe('parseUri: work in proportion to the text (anyone can send a 64 KB URI)', () => {
  // Each parameter's "=" and "%" used to be searched for to the end of the text: quadratic, 40 ms of the loop
  // that paces RTP for one 64 KB datagram. A million parameters (2 MB) took over a minute that way; scanned
  // once, about a second, so the test's timeout (not an asserted latency) separates the two.
  it('reads a URI of a million parameters without "=" or "%" (the scan stops at each parameter\'s end)', () => {
    const uri = sip(`sip:8000@127.0.0.1${';p'.repeat(1_000_000)};q=%41`);
    expect(uri.params.get('p')).toBeNull();
    expect(uri.params.get('q')).toBe('A');
  }, 15_000);
});
