/**
 * RFC 4475 "SIP Torture Test Messages", one test per message in test/fixtures/rfc4475 (bytes as on the wire,
 * CRLF line ends), asserting what the RFC says must happen at the parser level.
 *
 * Covers: every .dat file below. Does not cover: the application-layer answers themselves (420, 415, 483,
 * 501, 406, 401...), which the stack and applications send for messages that parse; here we only assert that
 * they parse and expose what those layers need. IPv6 torture tests are RFC 5118, not 4475: see uri.test.ts
 * and headers.test.ts.
 *
 * Outcome "400+req" = ok:false with status 400 and a request to answer; "drop" = ok:false without request.
 *
 * file        RFC §     expected outcome                                   layer that acts
 * ----------  --------  -------------------------------------------------  -------------------------------
 * wsinv       3.1.1.1   parses; folded/odd-LWS To, From, Via, Contact       parser
 * intmeth     3.1.1.2   parses; odd method and URI characters               parser (501 by the stack)
 * esc01       3.1.1.3   parses; R-URI user unescapes to sips:user@...        parser/uri
 * escnull     3.1.1.4   parses; %00 users kept whole, two Contacts          parser/uri
 * esc02       3.1.1.5   parses; method RE%47IST%45R, C%6Fntact not Contact  parser (501 by the stack)
 * lwsdisp     3.1.1.6   parses; no LWS before "<"                           parser
 * longreq     3.1.1.7   parses; 34 Vias across name spellings               parser
 * dblreq      3.1.1.8   parses the REGISTER; the INVITE after it ignored    parser (§18.3 framing)
 * semiuri     3.1.1.9   parses; R-URI user "user;par=u@example.net"         parser/uri
 * transports  3.1.1.10  parses; Via transports UDP SCTP TLS UNKNOWN TCP     parser/via
 * mpart01     3.1.1.11  parses; 553-byte multipart body with NULs intact    parser
 * unreason    3.1.1.12  parses; UTF-8 reason phrase                         parser
 * noreason    3.1.1.13  parses; empty reason phrase                         parser
 * badinv01    3.1.2.1   drop ("Bad Via"): RFC wants 400, but the top Via    parser
 *                       is unreadable so no response can be routed
 * clerr       3.1.2.2   400+req "Content-Length exceeds body"               parser
 * ncl         3.1.2.3   400+req "Bad Content-Length"                        parser
 * scalar02    3.1.2.4   400+req "Bad CSeq" (CSeq >= 2**31)                  parser
 * scalarlg    3.1.2.5   drop (response, CSeq out of range)                  parser
 * quotbal     3.1.2.6   400+req "Bad To" (unterminated quote)               parser/name-addr
 * ltgtruri    3.1.2.7   400+req, Request-URI in <>                          parser
 * lwsruri     3.1.2.8   400+req, LWS inside the Request-URI                 parser
 * lwsstart    3.1.2.9   400+req, extra SP (RFC: may reject; we do)          parser
 * trws        3.1.2.10  400+req, trailing SP (RFC: may reject; we do)       parser
 * escruri     3.1.2.11  400+req, headers in Request-URI (may reject; we do) parser/uri
 * baddate     3.1.2.12  parses: "shouldn't reject unless Date matters";     parser (Date unused)
 *                       Date kept as text
 * regbadct    3.1.2.13  400+req "Bad Contact" ("?" in an addr-spec)         parser/name-addr
 * badaspec    3.1.2.14  400+req "Bad To" (spaces inside <>)                 parser/name-addr
 * baddn       3.1.2.15  400+req "Bad From" (unquoted comma in display name) parser/name-addr
 * badvers     3.1.2.16  505+req                                             parser
 * mismatch01  3.1.2.17  400+req "Bad CSeq: method mismatch"                 parser
 * mismatch02  3.1.2.18  400+req (the RFC allows 501 or 400; the mismatch is 400) parser
 * bigcode     3.1.2.19  drop (status code 4294967301)                       parser
 * badbranch   3.2.1     parses; branch is the bare cookie "z9hG4bK"         transaction layer decides
 * insuf       3.3.1     400+req ("Missing From"): the Via is usable, so answer parser
 * unkscm      3.3.2     416+req                                             parser
 * novelsc     3.3.3     416+req (soap.beep is never meaningful to us)       parser
 * unksm2      3.3.4     parses; non-SIP To/From/Contact URIs                registrar (400; we have none)
 * bext01      3.3.5     parses; Require and Proxy-Require exposed           stack (420 + Unsupported)
 * invut       3.3.6     parses; Content-Type application/unknownformat      application (415)
 * regaut01    3.3.7     parses; Authorization kept whole                    registrar (401) / stack (405)
 * multi01     3.3.8     400+req "Multiple ... headers"                      parser
 * mcl01       3.3.9     400+req "Multiple Content-Length headers"           parser
 * bcast       3.3.10    parses (well formed); discarding it is not ours     transaction layer (stray)
 * zeromf      3.3.11    parses; Max-Forwards 0 exposed                      stack (a UAS answers normally)
 * cparam01    3.3.12    parses; unknownparam is a Contact header param      parser/name-addr
 * cparam02    3.3.13    parses; unknownparam is a URI param                 parser/name-addr
 * regescrt    3.3.14    parses; Contact URI keeps its escaped Route header  parser/uri
 * sdp01       3.3.15    parses; Accept text/nobodyKnowsThis exposed         application (406)
 * inv2543     3.4.1     parses; no branch, no Max-Forwards, no Content-     parser (RFC 2543 compatibility)
 *                       Length (body = rest of the datagram)
 * test.dat    (not RFC) drop: request line has no SIP-Version, "Foobar      parser
 *                       roobar" is neither a header nor a fold, no Via
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseMessage, type ParseOutcome } from '../../src/sip/parse.js';
import type { SipRequest, SipResponse } from '../../src/sip/message.js';
import { parseNameAddr } from '../../src/sip/headers/name-addr.js';
import { parseVia } from '../../src/sip/headers/via.js';
import { parseCSeq } from '../../src/sip/headers/cseq.js';
import { parseUri, uriUser, type SipUri } from '../../src/sip/uri.js';

function load(name: string): Buffer {
  return readFileSync(new URL(`../fixtures/rfc4475/${name}.dat`, import.meta.url));
}

function parse(name: string): ParseOutcome {
  return parseMessage(load(name));
}

function req(name: string): SipRequest {
  const out = parse(name);
  if (!out.ok) throw new Error(`${name} should parse, got ${out.status} ${out.reason}`);
  if (out.message.kind !== 'request') throw new Error(`${name} should be a request`);
  return out.message;
}

function res(name: string): SipResponse {
  const out = parse(name);
  if (!out.ok) throw new Error(`${name} should parse, got ${out.status} ${out.reason}`);
  if (out.message.kind !== 'response') throw new Error(`${name} should be a response`);
  return out.message;
}

function rejected(name: string): Extract<ParseOutcome, { ok: false }> {
  const out = parse(name);
  if (out.ok) throw new Error(`${name} should be rejected`);
  return out;
}

function sipUri(text: string): SipUri {
  const uri = parseUri(text);
  if (!uri || uri.scheme === 'tel') throw new Error(`not a sip URI: ${text}`);
  return uri;
}

describe('RFC 4475 §3.1.1: valid messages parse', () => {
  it('wsinv (§3.1.1.1): a short tortuous INVITE parses, with To, From, CSeq, Via and Contact read through the LWS', () => {
    const m = req('wsinv');
    expect(m.method).toBe('INVITE');
    expect(m.uri).toBe('sip:vivekg@chair-dnrc.example.com;unknownparam');
    const to = parseNameAddr(m.headers.get('to')!);
    expect(to?.uri).toBe('sip:vivekg@chair-dnrc.example.com');
    expect(to?.params.get('tag')).toBe('1918181833n');
    const from = parseNameAddr(m.headers.get('from')!);
    expect(from?.displayName).toBe('J Rosenberg \\"');
    expect(from?.uri).toBe('sip:jdrosen@example.com');
    expect(from?.params.get('tag')).toBe('98asjd8');
    expect(m.headers.get('max-forwards')).toBe('0068');
    expect(parseCSeq(m.headers.get('cseq')!)).toEqual({ seq: 9, method: 'INVITE' });
    const vias = m.headers.getAll('via').map((v) => parseVia(v));
    expect(vias.map((v) => [v?.transport, v?.host, v?.branch])).toEqual([
      ['UDP', '192.0.2.2', '390skdjuw'],
      ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    const contact = parseNameAddr(m.headers.get('contact')!);
    expect(contact?.displayName).toBe('Quoted string ""');
    expect([...contact!.params]).toEqual([['newparam', 'newvalue'], ['secondparam', null], ['q', '0.33']]);
    expect(m.headers.get('subject')).toBe('');
    expect(m.headers.get('newfangledheader')).toBe('newfangled value continued newfangled value');
    expect(m.headers.get('unknownheaderwithunusualvalue')).toBe(';;,,;;,;');
    expect(m.headers.getAll('route')).toEqual(['<sip:services.example.com;lr;unknownwith=value;unknown-no-value>']);
    expect(m.body.length).toBe(150);
  });

  it('intmeth (§3.1.1.2): a wide range of valid characters parses; the unknown method is left for a 501', () => {
    const m = req('intmeth');
    expect(m.method).toBe("!interesting-Method0123456789_*+`.%indeed'~");
    const uri = sipUri(m.uri);
    expect(uri.user).toBe("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    expect(uri.password).toBe("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    expect(parseNameAddr(m.headers.get('to')!)?.displayName).toBe('BEL:\x07 NUL:\x00 DEL:\x7f');
    expect(parseNameAddr(m.headers.get('from')!)?.displayName).toBe("token1~` token2'+_ token3*%!.-");
    expect(m.headers.get('call-id')).toBe('intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
    expect(m.headers.get("extensionheader-!.%*+_`'~")).toBe('\uFEFF大停電');
  });

  it('esc01 (§3.1.1.3): %-escapes are decoded where the URI grammar allows them', () => {
    const m = req('esc01');
    const ruri = sipUri(m.uri);
    expect(ruri.user).toBe('sips:user@example.com');
    expect(ruri.host).toBe('example.net');
    expect(uriUser(ruri)).toBe('sips:user@example.com');
    expect(sipUri(parseNameAddr(m.headers.get('to')!)!.uri).user).toBe('user');
    expect(sipUri(parseNameAddr(m.headers.get('from')!)!.uri).user).toBe('I have spaces');
    const contact = sipUri(parseNameAddr(m.headers.get('contact')!)!.uri);
    expect(contact.user).toBe('caller');
    expect([...contact.params]).toEqual([['lr', null], ['name', 'value%41']]);
  });

  it('escnull (§3.1.1.4): escaped NULs are accepted and do not shorten the user; two distinct Contacts', () => {
    const m = req('escnull');
    expect(sipUri(parseNameAddr(m.headers.get('to')!)!.uri).user).toBe('null-\x00-null');
    const users = m.headers.getAll('contact').map((c) => sipUri(parseNameAddr(c)!.uri).user);
    expect(users).toEqual(['\x00', '\x00\x00']);
  });

  it('esc02 (§3.1.1.5): % is not an escape in the method or header names', () => {
    const m = req('esc02');
    expect(m.method).toBe('RE%47IST%45R');
    expect(m.headers.getAll('contact')).toEqual(['<sip:alias1@host1.example.com>', '<sip:alias3@host3.example.com>']);
    expect(m.headers.get('c%6fntact')).toBe('<sip:alias2@host2.example.com>');
    expect(parseNameAddr(m.headers.get('to')!)?.displayName).toBe('%Z%45');
    expect(parseVia(m.headers.get('via')!)?.branch).toBe('z9hG4bK209%fzsnel234');
  });

  it('lwsdisp (§3.1.1.6): a display name directly followed by "<" is accepted', () => {
    const from = parseNameAddr(req('lwsdisp').headers.get('from')!);
    expect(from).toMatchObject({ displayName: 'caller', uri: 'sip:caller@example.com' });
    expect(from?.params.get('tag')).toBe('323');
  });

  it('longreq (§3.1.1.7): long values and 34 Vias under every spelling of the name parse', () => {
    const m = req('longreq');
    const vias = m.headers.getAll('via');
    expect(vias).toHaveLength(34);
    expect(parseVia(vias[0])?.host).toBe('sip33.example.com');
    expect(parseVia(vias[33])?.received).toBe('192.0.2.5');
    expect(parseNameAddr(m.headers.get('to')!)?.displayName).toMatch(/^I have a user name of (extreme){10} proportion$/);
    expect(m.headers.get('call-id')).toBe(`longreq.one${'really'.repeat(20)}longcallid`);
    expect(m.body.length).toBe(150);
  });

  it('dblreq (§3.1.1.8): the REGISTER is read and the INVITE-looking octets after it are ignored', () => {
    const m = req('dblreq');
    expect(m.method).toBe('REGISTER');
    expect(m.headers.get('call-id')).toBe('dblreq.0ha0isndaksdj99sdfafnl3lk233412');
    expect(m.body.length).toBe(0);
  });

  it('semiuri (§3.1.1.9): the Request-URI user part is "user;par=u@example.net"', () => {
    const m = req('semiuri');
    const uri = sipUri(m.uri);
    expect(uri.user).toBe('user;par=u@example.net');
    expect(uri.host).toBe('example.com');
    expect(uri.params.size).toBe(0);
    expect(m.headers.getAll('accept')).toHaveLength(6);
  });

  it('transports (§3.1.1.10): Vias with known and unknown transports parse', () => {
    const transports = req('transports').headers.getAll('via').map((v) => parseVia(v)?.transport);
    expect(transports).toEqual(['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
  });

  it('mpart01 (§3.1.1.11): the multipart body is framed exactly, NUL bytes included', () => {
    const data = load('mpart01');
    const m = req('mpart01');
    expect(m.body.length).toBe(553);
    expect(Buffer.compare(m.body, data.subarray(data.length - 553))).toBe(0);
    expect(m.body.includes(0)).toBe(true);
    expect(m.headers.get('content-type')).toBe('multipart/mixed;boundary=7a9cbec02ceef655');
  });

  it('unreason (§3.1.1.12): a 200 with a UTF-8 reason phrase parses', () => {
    const m = res('unreason');
    expect(m.status).toBe(200);
    expect(m.reason.startsWith('= 2**3 * 5**2 но сто девяносто')).toBe(true);
  });

  it('noreason (§3.1.1.13): a response with an empty reason phrase parses', () => {
    const m = res('noreason');
    expect(m.status).toBe(100);
    expect(m.reason).toBe('');
  });
});

describe('RFC 4475 §3.1.2: invalid messages are rejected', () => {
  it('badinv01 (§3.1.2.1): empty Via and Contact parameters are rejected; the Via is unreadable, so it is dropped', () => {
    const out = rejected('badinv01');
    expect(out).toMatchObject({ status: 400, reason: 'Bad Via' });
    expect(out.request).toBeUndefined();
  });

  it('clerr (§3.1.2.2): a Content-Length larger than the datagram gets 400', () => {
    const out = rejected('clerr');
    expect(out).toMatchObject({ status: 400, reason: 'Content-Length exceeds body' });
    expect(out.request?.method).toBe('INVITE');
  });

  it('ncl (§3.1.2.3): a negative Content-Length gets an error', () => {
    const out = rejected('ncl');
    expect(out).toMatchObject({ status: 400, reason: 'Bad Content-Length' });
    expect(out.request).toBeDefined();
  });

  it('scalar02 (§3.1.2.4): a CSeq of 2**65 gets 400 "due to the CSeq error"', () => {
    const out = rejected('scalar02');
    expect(out).toMatchObject({ status: 400, reason: 'Bad CSeq' });
    expect(out.request?.method).toBe('REGISTER');
  });

  it('scalarlg (§3.1.2.5): a response with overlarge scalar values is discarded', () => {
    const out = rejected('scalarlg');
    expect(out.reason).toBe('Bad CSeq');
    expect(out.request).toBeUndefined();
  });

  it('quotbal (§3.1.2.6): an unterminated quoted display name gets 400', () => {
    const out = rejected('quotbal');
    expect(out).toMatchObject({ status: 400, reason: 'Bad To' });
    expect(out.request).toBeDefined();
  });

  it('ltgtruri (§3.1.2.7): a Request-URI enclosed in <> gets 400', () => {
    const out = rejected('ltgtruri');
    expect(out).toMatchObject({ status: 400, reason: 'Bad Request-URI: angle brackets' });
    expect(out.request).toBeDefined();
  });

  it('lwsruri (§3.1.2.8): LWS inside the Request-URI gets 400', () => {
    const out = rejected('lwsruri');
    expect(out).toMatchObject({ status: 400, reason: 'Bad Request-URI: embedded whitespace' });
    expect(out.request).toBeDefined();
  });

  it('lwsstart (§3.1.2.9): multiple SP between request-line elements is rejected as malformed', () => {
    const out = rejected('lwsstart');
    expect(out).toMatchObject({ status: 400, reason: 'Bad request line: extra spaces' });
    expect(out.request?.uri).toBe('sip:user@example.com');
  });

  it('trws (§3.1.2.10): SP at the end of the request line is rejected as malformed', () => {
    const out = rejected('trws');
    expect(out).toMatchObject({ status: 400, reason: 'Bad request line: trailing whitespace' });
    expect(out.request).toBeDefined();
  });

  it('escruri (§3.1.2.11): escaped headers in the Request-URI are rejected with 400', () => {
    const out = rejected('escruri');
    expect(out).toMatchObject({ status: 400, reason: 'Bad Request-URI: headers not allowed' });
    expect(out.request).toBeDefined();
  });

  it('baddate (§3.1.2.12): a non-GMT Date is accepted, since we never use Date; the value is kept', () => {
    expect(req('baddate').headers.get('date')).toBe('Fri, 01 Jan 2010 16:00:00 EST');
  });

  it('regbadct (§3.1.2.13): a Contact URI with headers outside <> gets 400', () => {
    const out = rejected('regbadct');
    expect(out).toMatchObject({ status: 400, reason: 'Bad Contact' });
    expect(out.request).toBeDefined();
  });

  it('badaspec (§3.1.2.14): spaces within the addr-spec get 400', () => {
    const out = rejected('badaspec');
    expect(out).toMatchObject({ status: 400, reason: 'Bad To' });
    expect(out.request).toBeDefined();
  });

  it('baddn (§3.1.2.15): unquoted non-token characters in a display name get 400', () => {
    const out = rejected('baddn');
    expect(out).toMatchObject({ status: 400, reason: 'Bad From' });
    expect(out.request).toBeDefined();
  });

  it('badvers (§3.1.2.16): an unknown protocol version gets 505', () => {
    const out = rejected('badvers');
    expect(out.status).toBe(505);
    expect(out.request?.method).toBe('OPTIONS');
  });

  it('mismatch01 (§3.1.2.17): a CSeq method differing from the start line gets 400', () => {
    const out = rejected('mismatch01');
    expect(out).toMatchObject({ status: 400, reason: 'Bad CSeq: method mismatch' });
    expect(out.request?.method).toBe('OPTIONS');
  });

  it('mismatch02 (§3.1.2.18): an unknown method with a mismatched CSeq gets 400 (the RFC allows 501 or 400)', () => {
    const out = rejected('mismatch02');
    expect(out.status).toBe(400);
    expect(out.reason).toMatch(/CSeq: method mismatch/);
    expect(out.request?.method).toBe('NEWMETHOD');
  });

  it('bigcode (§3.1.2.19): a response code larger than 699 is dropped', () => {
    const out = rejected('bigcode');
    expect(out.reason).toBe('Bad status code');
    expect(out.request).toBeUndefined();
  });
});

describe('RFC 4475 §3.2: transaction layer', () => {
  it('badbranch (§3.2.1): a branch that is only the magic cookie parses; the transaction layer decides', () => {
    const via = parseVia(req('badbranch').headers.get('via')!);
    expect(via?.branch).toBe('z9hG4bK');
  });
});

describe('RFC 4475 §3.3: application-layer messages', () => {
  it('insuf (§3.3.1): missing Call-ID, From and To is rejected with 400, answered through its usable Via', () => {
    const out = rejected('insuf');
    expect(out).toMatchObject({ status: 400, reason: 'Missing From' });
    expect(out.request?.headers.get('via')).toMatch(/branch=z9hG4bKkdj\.insuf/);
  });

  it('unkscm (§3.3.2): an unknown Request-URI scheme gets 416, never routed by To', () => {
    const out = rejected('unkscm');
    expect(out).toMatchObject({ status: 416, reason: 'Unsupported URI Scheme' });
    expect(out.request?.uri).toBe('nobodyKnowsThisScheme:totallyopaquecontent');
  });

  it('novelsc (§3.3.3): a registered but atypical scheme we never accept gets 416', () => {
    const out = rejected('novelsc');
    expect(out.status).toBe(416);
    expect(out.request?.uri).toBe('soap.beep://192.0.2.103:3002');
  });

  it('unksm2 (§3.3.4): unknown schemes in To, From and Contact parse', () => {
    const m = req('unksm2');
    expect(parseNameAddr(m.headers.get('to')!)?.uri).toBe('isbn:2983792873');
    expect(parseNameAddr(m.headers.get('from')!)?.uri).toBe('http://www.example.com');
    expect(parseNameAddr(m.headers.get('contact')!)?.uri).toBe('name:John_Smith');
  });

  it('bext01 (§3.3.5): parses and exposes Require and Proxy-Require for the 420', () => {
    const m = req('bext01');
    expect(m.headers.getAll('require')).toEqual(['nothingSupportsThis', 'nothingSupportsThisEither']);
    expect(m.headers.getAll('proxy-require')).toEqual(['noProxiesSupportThis', 'norDoAnyProxiesSupportThis']);
  });

  it('invut (§3.3.6): a body of unknown type parses; its Content-Type is exposed for the 415', () => {
    const m = req('invut');
    expect(m.headers.get('content-type')).toBe('application/unknownformat');
    expect(m.body.toString()).toBe('<audio>\r\n <pcmu port="443"/>\r\n</audio>\r\n');
  });

  it('regaut01 (§3.3.7): an unknown Authorization scheme parses and is kept whole', () => {
    expect(req('regaut01').headers.getAll('authorization')).toEqual(['NoOneKnowsThisScheme opaque-data=here']);
  });

  it('multi01 (§3.3.8): several values in single-value headers get 400', () => {
    const out = rejected('multi01');
    expect(out.status).toBe(400);
    expect(out.reason).toMatch(/^Multiple (From|To|Call-ID|CSeq) headers$/);
    expect(out.request).toBeDefined();
  });

  it('mcl01 (§3.3.9): multiple Content-Length values get 400', () => {
    const out = rejected('mcl01');
    expect(out).toMatchObject({ status: 400, reason: 'Multiple Content-Length headers' });
  });

  it('bcast (§3.3.10): a 200 OK with a broadcast Via is well formed and parses', () => {
    const m = res('bcast');
    expect(m.headers.getAll('via').map((v) => parseVia(v)?.host)).toEqual(['192.0.2.198', '255.255.255.255']);
  });

  it('zeromf (§3.3.11): Max-Forwards 0 parses; a UAS processes it as if it were positive', () => {
    expect(req('zeromf').headers.get('max-forwards')).toBe('0');
  });

  it('cparam01 (§3.3.12): ";unknownparam" after an addr-spec Contact is a header parameter', () => {
    const contact = parseNameAddr(req('cparam01').headers.get('contact')!);
    expect(contact?.uri).toBe('sip:+19725552222@gw1.example.net');
    expect(contact?.params.has('unknownparam')).toBe(true);
    expect(sipUri(contact!.uri).params.size).toBe(0);
  });

  it('cparam02 (§3.3.13): ";unknownparam" inside <> is a URI parameter', () => {
    const contact = parseNameAddr(req('cparam02').headers.get('contact')!);
    expect(contact?.params.size).toBe(0);
    expect(sipUri(contact!.uri).params.has('unknownparam')).toBe(true);
  });

  it('regescrt (§3.3.14): the escaped Route header in the Contact URI is kept', () => {
    const contact = parseNameAddr(req('regescrt').headers.get('contact')!);
    expect(sipUri(contact!.uri).headers.get('Route')).toBe('<sip:sip.example.com>');
  });

  it('sdp01 (§3.3.15): an Accept without application/sdp parses and is exposed for the 406', () => {
    expect(req('sdp01').headers.getAll('accept')).toEqual(['text/nobodyKnowsThis']);
  });
});

describe('RFC 4475 §3.4: backward compatibility', () => {
  it('inv2543 (§3.4.1): an RFC 2543 INVITE (no branch, Max-Forwards or Content-Length) is accepted', () => {
    const m = req('inv2543');
    const via = parseVia(m.headers.get('via')!);
    expect(via?.host).toBe('iftgw.example.com');
    expect(via?.branch).toBeUndefined();
    expect(m.headers.has('max-forwards')).toBe(false);
    expect(m.body.toString().startsWith('v=0\r\n')).toBe(true);
    expect(m.body.length).toBe(load('inv2543').length - load('inv2543').indexOf('\r\n\r\n') - 4);
  });
});

describe('test.dat (not from the RFC)', () => {
  it('is rejected by the grammar: no SIP-Version, and "Foobar roobar" is neither a header nor a fold', () => {
    const out = rejected('test');
    expect(out).toMatchObject({ status: 400, reason: 'Bad request line: no SIP-Version' });
    // No Via, no CSeq: nothing to address a response to.
    expect(out.request).toBeUndefined();
  });

  it('would still be rejected for the "Foobar roobar" line alone', () => {
    const text = load('test').toString('latin1')
      .replace('INVITE sip:alan@jasomi.com\r\n', 'INVITE sip:alan@jasomi.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKt\r\nCSeq: 1 INVITE\r\n')
      .replace('TO : alan@jasomi.com', 'TO : sip:alan@jasomi.com')
      .replace('From: ralph@example.com', 'From: sip:ralph@example.com;tag=1');
    const out = parseMessage(Buffer.from(text, 'latin1'));
    expect(out).toMatchObject({ ok: false, status: 400, reason: 'Malformed header line' });
  });
});
