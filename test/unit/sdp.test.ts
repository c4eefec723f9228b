/**
 * SDP parsing and serialization (RFC 4566 §5): parseSdp, serializeSdp, SdpError.
 *
 * Covers: every field of a real-world offer; round trips of the Asterisk, MX-ONE, Cisco, Avaya, video,
 * hold, SRTP and IPv6 offers; LF-only and mixed line ends, trailing spaces, blank lines, a BOM; missing
 * s= and t=; unknown letters and attributes kept in place; repeated c= lines; b= lines; a=rtcp; port/count;
 * a large SDP; each malformation that must raise SdpError with a message naming the fault and line.
 * Does not cover: offer/answer (sdp-negotiate.test.ts); multiple session descriptions in one body
 * (rejected by design); the semantics of r= and z= (kept verbatim, not interpreted).
 */
import { describe, expect, it } from 'vitest';
import { parseSdp, SdpError } from '../../src/sdp/parse.js';
import { serializeSdp } from '../../src/sdp/serialize.js';
import * as offers from './sdp-fixtures.js';
import { sdp } from './sdp-fixtures.js';

const MINIMAL = ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 4000 RTP/AVP 0'];

describe('parseSdp', () => {
  describe('a well-formed offer (Avaya)', () => {
    const parsed = parseSdp(offers.AVAYA);

    it('reads v= and every o= field', () => {
      expect(parsed.version).toBe(0);
      expect(parsed.origin).toEqual({
        username: '-',
        sessionId: '1',
        sessionVersion: '1',
        netType: 'IN',
        addrType: 'IP4',
        address: '192.0.2.30',
      });
    });

    it('reads s=, the session c=, b= and t=', () => {
      expect(parsed.sessionName).toBe('-');
      expect(parsed.connection).toEqual({ netType: 'IN', addrType: 'IP4', address: '192.0.2.30' });
      expect(parsed.bandwidths).toEqual(['AS:64']);
      expect(parsed.timing).toEqual(['0 0']);
    });

    it('keeps unknown session attributes with their values', () => {
      expect(parsed.attributes).toEqual([
        { name: 'avf', value: 'avc=n prio=n' },
        { name: 'csup', value: 'avf-v0' },
      ]);
    });

    it('reads the m= line: type, port, proto and formats in order', () => {
      expect(parsed.media).toHaveLength(1);
      const m = parsed.media[0]!;
      expect([m.type, m.port, m.proto, m.formats]).toEqual(['audio', 2048, 'RTP/AVP', ['18', '0', '8', '127']]);
      expect(m.portCount).toBeUndefined();
    });

    it('gives the media-level c= to the media description, not the session', () => {
      expect(parsed.media[0]!.connection?.address).toBe('192.0.2.31');
    });

    it('splits a= at the first colon only (a=rtcp keeps its address) and keeps property attributes valueless', () => {
      const attrs = parsed.media[0]!.attributes;
      expect(attrs).toContainEqual({ name: 'rtcp', value: '2049 IN IP4 192.0.2.31' });
      expect(attrs).toContainEqual({ name: 'sendrecv' });
      expect(attrs.find((a) => a.name === 'sendrecv')!.value).toBeUndefined();
    });
  });

  it('reads the media-level b= lines (Cisco)', () => {
    const parsed = parseSdp(offers.CISCO);
    expect(parsed.bandwidths).toEqual(['TIAS:64000', 'AS:64']);
    expect(parsed.media[0]!.bandwidths).toEqual(['TIAS:64000']);
  });

  it('reads an IPv6 c= line', () => {
    expect(parseSdp(offers.IPV6).connection).toEqual({ netType: 'IN', addrType: 'IP6', address: '2001:db8::10' });
  });

  it('reads <port>/<number of ports> on the m= line', () => {
    const m = parseSdp(sdp(...MINIMAL.slice(0, 5), 'm=audio 49170/2 RTP/AVP 0')).media[0]!;
    expect([m.port, m.portCount]).toEqual([49170, 2]);
  });

  it('reads a rejected stream (port 0) and a media line with no formats', () => {
    const parsed = parseSdp(sdp(...MINIMAL.slice(0, 5), 'm=video 0 RTP/AVP 31', 'm=audio 4000 RTP/AVP'));
    expect(parsed.media[0]!.port).toBe(0);
    expect(parsed.media[1]!.formats).toEqual([]);
  });

  describe('real-world formatting it MUST tolerate', () => {
    it('accepts LF-only line endings and gives the same result as CRLF', () => {
      expect(parseSdp(offers.ASTERISK.replace(/\r\n/g, '\n'))).toEqual(parseSdp(offers.ASTERISK));
    });

    it('accepts mixed CRLF / LF / CR line endings', () => {
      const mixed = MINIMAL.join('\n').replace('s=-\n', 's=-\r\n').replace('t=0 0\n', 't=0 0\r');
      expect(parseSdp(mixed).media[0]!.formats).toEqual(['0']);
    });

    it('ignores trailing spaces and tabs, blank lines and a byte order mark', () => {
      const messy = '\uFEFF' + MINIMAL.map((l) => `${l}  \t`).join('\r\n') + '\r\n\r\n\r\n';
      const parsed = parseSdp(messy);
      expect(parsed.connection?.address).toBe('192.0.2.1');
      expect(parsed.media[0]!.formats).toEqual(['0']);
    });

    it('tolerates a missing s= line (sessionName is empty)', () => {
      const parsed = parseSdp(sdp(...MINIMAL.filter((l) => !l.startsWith('s='))));
      expect(parsed.sessionName).toBe('');
      expect(parsed.media).toHaveLength(1);
    });

    it('tolerates a missing t= line', () => {
      expect(parseSdp(sdp(...MINIMAL.filter((l) => !l.startsWith('t=')))).timing).toEqual([]);
    });

    it('keeps the first session c= and the later ones verbatim in other', () => {
      const parsed = parseSdp(sdp(...MINIMAL.slice(0, 4), 'c=IN IP4 192.0.2.99', ...MINIMAL.slice(4)));
      expect(parsed.connection?.address).toBe('192.0.2.1');
      expect(parsed.other).toEqual(['c=IN IP4 192.0.2.99']);
    });

    it('keeps i=, u=, e=, p=, k= and unknown letters, at session and media level', () => {
      const parsed = parseSdp(
        sdp(
          'v=0',
          'o=- 1 1 IN IP4 192.0.2.1',
          's=-',
          'i=Voicemail deposit',
          'u=http://example.com/vm',
          'e=ops@example.com',
          'c=IN IP4 192.0.2.1',
          't=0 0',
          'y=0123',
          'm=audio 4000 RTP/AVP 0',
          'i=main audio',
          'k=prompt',
          'x=vendor-thing',
          'a=X-nat:0',
        ),
      );
      expect(parsed.other).toEqual(['i=Voicemail deposit', 'u=http://example.com/vm', 'e=ops@example.com', 'y=0123']);
      expect(parsed.media[0]!.other).toEqual(['i=main audio', 'k=prompt', 'x=vendor-thing']);
      expect(parsed.media[0]!.attributes).toEqual([{ name: 'X-nat', value: '0' }]);
    });

    it('keeps a non-ASCII session name', () => {
      expect(parseSdp(sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=Röstbrevlåda', 't=0 0')).sessionName).toBe('Röstbrevlåda');
    });

    it('keeps an o= username that contains a space (the last five fields are fixed)', () => {
      const parsed = parseSdp(sdp('v=0', 'o=Acme PBX 5 6 IN IP4 192.0.2.1', 's=-', 't=0 0'));
      expect(parsed.origin.username).toBe('Acme PBX');
      expect(parsed.origin.sessionId).toBe('5');
    });

    it('keeps session ids larger than 2^53 exactly', () => {
      const parsed = parseSdp(sdp('v=0', 'o=- 18446744073709551615 18446744073709551614 IN IP4 192.0.2.1', 's=-', 't=0 0'));
      expect(parsed.origin.sessionId).toBe('18446744073709551615');
      expect(parsed.origin.sessionVersion).toBe('18446744073709551614');
    });

    it('parses a large SDP (500 m= lines, 20 attributes each) completely', () => {
      const lines = MINIMAL.slice(0, 5);
      for (let i = 0; i < 500; i++) {
        lines.push(`m=audio ${10000 + 2 * i} RTP/AVP 0 8 101`);
        for (let a = 0; a < 20; a++) lines.push(`a=x-attr${a}:value ${i}`);
      }
      const parsed = parseSdp(sdp(...lines));
      expect(parsed.media).toHaveLength(500);
      expect(parsed.media[499]!.port).toBe(10998);
      expect(parsed.media[499]!.attributes[19]).toEqual({ name: 'x-attr19', value: 'value 499' });
    });
  });

  describe('malformed input MUST raise SdpError naming the fault', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['an empty body', '', /empty session description/],
      ['only blank lines', '\r\n\r\n', /empty session description/],
      ['a body not starting with v=', sdp('o=- 1 1 IN IP4 192.0.2.1', 'v=0'), /line 1: .*start with v=/],
      ['a non-numeric v=', sdp('v=zero', 'o=- 1 1 IN IP4 192.0.2.1'), /line 1: bad v= value "zero"/],
      ['a line without =', sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 'hello world'), /line 3: expected "<type>=<value>"/],
      ['a two-letter type', sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 'ab=1'), /line 3: expected/],
      ['no o= line', sdp('v=0', 's=-', 't=0 0'), /missing o= line/],
      ['an o= line with 3 fields', sdp('v=0', 'o=- 1 1', 's=-'), /line 2: o= needs 6 fields, got 3/],
      ['a second o= line', sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 'o=- 2 2 IN IP4 192.0.2.1'), /line 3: second o= line/],
      ['a second v= line', sdp(...MINIMAL, 'v=0'), /line 7: second v= line/],
      ['a c= line with 2 fields', sdp(...MINIMAL.slice(0, 3), 'c=IN 192.0.2.1'), /line 4: c= needs 3 fields/],
      ['a media c= line with 4 fields', sdp(...MINIMAL, 'c=IN IP4 192.0.2.1 extra'), /line 7: c= needs 3 fields/],
      ['an m= line with 2 fields', sdp(...MINIMAL.slice(0, 5), 'm=audio 4000'), /line 6: m= needs at least 3 fields/],
      ['a non-numeric m= port', sdp(...MINIMAL.slice(0, 5), 'm=audio abc RTP/AVP 0'), /line 6: bad m= port "abc"/],
      ['an m= port above 65535', sdp(...MINIMAL.slice(0, 5), 'm=audio 70000 RTP/AVP 0'), /bad m= port "70000"/],
      ['a negative m= port', sdp(...MINIMAL.slice(0, 5), 'm=audio -1 RTP/AVP 0'), /bad m= port "-1"/],
      ['an a= line without a name', sdp(...MINIMAL, 'a=:x'), /line 7: a= line without an attribute name/],
    ];
    for (const [what, text, message] of cases) {
      it(`rejects ${what}`, () => {
        expect(() => parseSdp(text)).toThrow(SdpError);
        expect(() => parseSdp(text)).toThrow(message);
      });
    }

    it('reports the line number on the error object', () => {
      try {
        parseSdp(sdp(...MINIMAL.slice(0, 5), 'm=audio x RTP/AVP 0'));
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(SdpError);
        expect((err as SdpError).line).toBe(6);
      }
    });
  });
});

describe('serializeSdp', () => {
  const realWorld = Object.entries(offers).filter(([name]) => name !== 'sdp') as Array<[string, string]>;
  for (const [name, text] of realWorld) {
    it(`round-trips the ${name} offer byte for byte`, () => {
      expect(serializeSdp(parseSdp(text))).toBe(text);
    });
  }

  it('ends every line with CRLF, including the last, and has no bare LF', () => {
    const out = serializeSdp(parseSdp(offers.CISCO.replace(/\r\n/g, '\n')));
    expect(out.endsWith('\r\n')).toBe(true);
    expect(out.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  });

  it('writes back unknown lines in RFC 4566 order even when they arrived out of order', () => {
    const parsed = parseSdp(
      sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0', 'c=IN IP4 192.0.2.1', 'i=info', 'c=IN IP4 192.0.2.2', 'a=tool:x', 'm=audio 4000 RTP/AVP 0', 'a=sendrecv', 'i=media info', 'c=IN IP4 192.0.2.3'),
    );
    expect(serializeSdp(parsed)).toBe(
      sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'i=info', 'c=IN IP4 192.0.2.1', 'c=IN IP4 192.0.2.2', 't=0 0', 'a=tool:x', 'm=audio 4000 RTP/AVP 0', 'i=media info', 'c=IN IP4 192.0.2.3', 'a=sendrecv'),
    );
  });

  it('writes s=- for a missing session name and t=0 0 for missing timing (both lines are mandatory)', () => {
    const out = serializeSdp(parseSdp(sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 'm=audio 4000 RTP/AVP 0')));
    expect(out).toBe(sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0', 'm=audio 4000 RTP/AVP 0'));
  });

  it('writes port/count, valueless attributes, and a= with an empty value', () => {
    const text = sdp(...MINIMAL.slice(0, 5), 'm=audio 49170/2 RTP/AVP 0', 'a=recvonly', 'a=x-empty:');
    expect(serializeSdp(parseSdp(text))).toBe(text);
  });

  it('keeps multiple session-level r= and z= lines after t=', () => {
    const text = sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=3034423619 3042462419', 'r=604800 3600 0 90000', 'z=2882844526 -1h', 'm=audio 4000 RTP/AVP 0');
    expect(serializeSdp(parseSdp(text))).toBe(text);
  });
});
