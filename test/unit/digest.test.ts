/**
 * Digest authentication (src/sip/auth): parseChallenge, chooseChallenge, buildAuthorization,
 * parseAuthorization, createChallenge, verifyAuthorization.
 *
 * Covers: the RFC 2617 §3.5 and RFC 7616 §3.9.1 worked examples (MD5 and SHA-256); SHA-512-256 as FIPS 180-4
 * defines it (not the truncated SHA-512 of the RFC 7616 §3.9.2 example, errata 4897); -sess and legacy no-qop
 * computations against hand-computed formulas; challenge parsing quirks (unquoted values, spaces around "=",
 * unknown parameters, commas and escaped quotes inside quoted strings, several challenges in one value,
 * token68 schemes before Digest); what is unsupported (other schemes, unknown algorithms, auth-int only,
 * -sess without qop); RFC 8760 choice among several challenges; the header value's shape; the UAS round trip
 * createChallenge → buildAuthorization → verifyAuthorization; wrong password, unknown user, tampered,
 * foreign and expired nonces, stale only with a right response, qop rules on the UAS side.
 *
 * Does not cover: sending the retried request (sip/uac-request.ts); replay of a captured request within the
 * nonce lifetime (not prevented: nonces are stateless, see nonce.ts); userhash (RFC 7616 §3.4.4).
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  buildAuthorization,
  chooseChallenge,
  createChallenge,
  parseAuthorization,
  parseChallenge,
  verifyAuthorization,
  type DigestChallenge,
} from '../../src/sip/auth/digest.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** The response parameter of an Authorization value. */
function responseOf(authorization: string): string | undefined {
  return /response="([0-9a-f]+)"/.exec(authorization)?.[1];
}

describe('buildAuthorization: RFC worked examples', () => {
  it('RFC 2617 §3.5: Mufasa / "Circle Of Life" gives response 6629fae49393a05397450978507c4ef1', () => {
    const ch = parseChallenge(
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", ' +
        'opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    );
    expect(ch).toBeDefined();
    const value = buildAuthorization(ch!, { username: 'Mufasa', password: 'Circle Of Life' }, 'GET', '/dir/index.html', 1, '0a4f113b');
    expect(responseOf(value)).toBe('6629fae49393a05397450978507c4ef1');
  });

  const rfc7616Challenge = (algorithm: string): string =>
    `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=${algorithm}, ` +
    'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';
  const rfc7616Cnonce = 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ';
  const mufasa = { username: 'Mufasa', password: 'Circle of Life' };

  it('RFC 7616 §3.9.1: the SHA-256 response is 753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1', () => {
    const ch = parseChallenge(rfc7616Challenge('SHA-256'));
    expect(ch?.algorithm).toBe('SHA-256');
    const value = buildAuthorization(ch!, mufasa, 'GET', '/dir/index.html', 1, rfc7616Cnonce);
    expect(responseOf(value)).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('RFC 7616 §3.9.1: the MD5 response is 8ca523f5e9506fed4657c9700eebdbec', () => {
    const ch = parseChallenge(rfc7616Challenge('MD5'));
    const value = buildAuthorization(ch!, mufasa, 'GET', '/dir/index.html', 1, rfc7616Cnonce);
    expect(responseOf(value)).toBe('8ca523f5e9506fed4657c9700eebdbec');
  });

  it('SHA-512-256 is SHA-512/256 of FIPS 180-4, not SHA-512 cut to 256 bits (RFC 7616 §3.9.2, errata 4897)', () => {
    const ch = parseChallenge(
      'Digest realm="api@example.org", qop="auth", algorithm=SHA-512-256, nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", ' +
        'opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", charset=UTF-8, userhash=true',
    );
    expect(ch?.algorithm).toBe('SHA-512-256');
    const value = buildAuthorization(ch!, { username: 'J\u00e4s\u00f8n Doe', password: 'Secret, or not?' }, 'GET', '/doe.json', 1, 'NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v');
    // The RFC prints ae66e67d..., which is what truncated SHA-512 gives; Kamailio and curl use real SHA-512/256.
    expect(responseOf(value)).not.toBe('ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd');
    expect(responseOf(value)).toBe('3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5');
  });
});

describe('buildAuthorization: computations and header shape', () => {
  const cred = { username: 'bob', password: 'zanzibar' };

  it('without qop uses the RFC 2069 form KD(H(A1), nonce ":" H(A2)) and sends no qop, nc or cnonce', () => {
    const ch = parseChallenge('Digest realm="biloxi.com", nonce="abc123"')!;
    expect(ch.qop).toBeUndefined();
    const value = buildAuthorization(ch, cred, 'INVITE', 'sip:bob@biloxi.com', 1, 'ignored');
    const expected = md5(`${md5('bob:biloxi.com:zanzibar')}:abc123:${md5('INVITE:sip:bob@biloxi.com')}`);
    expect(value).toBe(`Digest username="bob",realm="biloxi.com",nonce="abc123",uri="sip:bob@biloxi.com",response="${expected}",algorithm=MD5`);
  });

  it('MD5-sess puts H(user:realm:pass) ":" nonce ":" cnonce in A1 (RFC 7616 §3.4.2)', () => {
    const ch = parseChallenge('Digest realm="r", nonce="n", qop="auth", algorithm=MD5-sess')!;
    const value = buildAuthorization(ch, cred, 'REGISTER', 'sip:r', 1, 'cn');
    const ha1 = md5(`${md5('bob:r:zanzibar')}:n:cn`);
    expect(responseOf(value)).toBe(md5(`${ha1}:n:00000001:cn:auth:${md5('REGISTER:sip:r')}`));
  });

  it('writes every field in order: username, realm, nonce, uri, response, algorithm, qop, nc, cnonce, opaque', () => {
    const ch = parseChallenge('Digest realm="r", nonce="n", qop="auth", opaque="op", algorithm=SHA-256')!;
    const value = buildAuthorization(ch, cred, 'INVITE', 'sip:x@y', 0x1a, 'c"n');
    expect(value).toMatch(
      /^Digest username="bob",realm="r",nonce="n",uri="sip:x@y",response="[0-9a-f]{64}",algorithm=SHA-256,qop=auth,nc=0000001a,cnonce="c\\"n",opaque="op"$/,
    );
  });

  it('escapes quotes and backslashes in quoted values and hashes the unescaped text', () => {
    const ch = parseChallenge('Digest realm="a \\"quoted\\" realm", nonce="n"')!;
    expect(ch.realm).toBe('a "quoted" realm');
    const value = buildAuthorization(ch, { username: 'x\\y', password: 'p' }, 'OPTIONS', 'sip:h', 1);
    expect(value).toContain('username="x\\\\y",realm="a \\"quoted\\" realm"');
    expect(responseOf(value)).toBe(md5(`${md5('x\\y:a "quoted" realm:p')}:n:${md5('OPTIONS:sip:h')}`));
  });

  it('makes up a fresh random cnonce when none is given', () => {
    const ch = parseChallenge('Digest realm="r", nonce="n", qop="auth"')!;
    const cnonceOf = (v: string): string | undefined => /cnonce="([^"]+)"/.exec(v)?.[1];
    const a = cnonceOf(buildAuthorization(ch, cred, 'INVITE', 'sip:x', 1));
    const b = cnonceOf(buildAuthorization(ch, cred, 'INVITE', 'sip:x', 1));
    expect(a).toMatch(/^[0-9a-f]{16,}$/);
    expect(a).not.toBe(b);
  });

  it('refuses a challenge offering only qop=auth-int, and an nc outside 1..2^32-1 (TypeError)', () => {
    const authInt: DigestChallenge = { scheme: 'Digest', realm: 'r', nonce: 'n', algorithm: 'MD5', qop: ['auth-int'] };
    expect(() => buildAuthorization(authInt, cred, 'INVITE', 'sip:x', 1)).toThrow(TypeError);
    const ok = parseChallenge('Digest realm="r", nonce="n", qop="auth"')!;
    expect(() => buildAuthorization(ok, cred, 'INVITE', 'sip:x', 0)).toThrow(TypeError);
    expect(() => buildAuthorization(ok, cred, 'INVITE', 'sip:x', 2 ** 32)).toThrow(TypeError);
  });
});

describe('parseChallenge', () => {
  it('reads realm, nonce, opaque, algorithm, qop list and stale', () => {
    expect(parseChallenge('Digest realm="atlanta.com", nonce="84a4cc6f", opaque="o", algorithm=SHA-256, qop="auth,auth-int", stale=TRUE')).toEqual({
      scheme: 'Digest',
      realm: 'atlanta.com',
      nonce: '84a4cc6f',
      opaque: 'o',
      algorithm: 'SHA-256',
      qop: ['auth', 'auth-int'],
      stale: true,
    });
  });

  it('assumes MD5 when there is no algorithm parameter (RFC 7616 §3.3)', () => {
    expect(parseChallenge('Digest realm="r", nonce="n"')?.algorithm).toBe('MD5');
  });

  it('accepts unquoted values, spaces around "=", any case in names, scheme and algorithm', () => {
    const ch = parseChallenge('digest  REALM = pbx.example ,nonce= abc/def+== , Algorithm = "sha-256" ,qop = auth, stale=false');
    expect(ch).toEqual({ scheme: 'Digest', realm: 'pbx.example', nonce: 'abc/def+==', algorithm: 'SHA-256', qop: ['auth'], stale: false });
  });

  it('ignores parameters it does not know and keeps commas inside quoted strings', () => {
    const ch = parseChallenge('Digest domain="sip:a, sip:b", realm="r, with comma", charset=UTF-8, nonce="n,1", x-vendor="a=b, c"');
    expect(ch).toMatchObject({ realm: 'r, with comma', nonce: 'n,1' });
  });

  it('tolerates parameters without commas between them, and empty list elements', () => {
    expect(parseChallenge('Digest realm="r" nonce="n",, qop="auth"')).toMatchObject({ realm: 'r', nonce: 'n', qop: ['auth'] });
  });

  it('finds the Digest challenge after other schemes in the same value, including a token68 one', () => {
    expect(parseChallenge('Negotiate YIIGhgYGKwYBBQUCoIIGejCC==, Basic realm="b", Digest realm="d", nonce="n"')).toMatchObject({ realm: 'd', nonce: 'n' });
  });

  it('returns undefined for other schemes, unknown algorithms and missing realm or nonce', () => {
    expect(parseChallenge('Basic realm="r"')).toBeUndefined();
    expect(parseChallenge('Digest realm="r", nonce="n", algorithm=SHA-1')).toBeUndefined();
    expect(parseChallenge('Digest realm="r", nonce="n", algorithm=AKAv1-MD5')).toBeUndefined();
    expect(parseChallenge('Digest realm="r"')).toBeUndefined();
    expect(parseChallenge('Digest nonce="n"')).toBeUndefined();
    expect(parseChallenge('')).toBeUndefined();
    expect(parseChallenge('Digest realm="unterminated, nonce="n')).toBeUndefined();
  });

  it('returns undefined when qop offers only auth-int (not implemented) or a -sess algorithm comes without qop', () => {
    expect(parseChallenge('Digest realm="r", nonce="n", qop="auth-int"')).toBeUndefined();
    expect(parseChallenge('Digest realm="r", nonce="n", algorithm=SHA-256-sess')).toBeUndefined();
  });
});

describe('chooseChallenge (RFC 8760 §2.4)', () => {
  it('prefers SHA-512-256 over SHA-256 over MD5, whatever the order they come in', () => {
    const values = [
      'Digest realm="r", nonce="1", algorithm=MD5, qop="auth"',
      'Digest realm="r", nonce="2", algorithm=SHA-256, qop="auth"',
      'Digest realm="r", nonce="3", algorithm=SHA-512-256, qop="auth"',
    ];
    expect(chooseChallenge(values)?.nonce).toBe('3');
    expect(chooseChallenge([...values].reverse())?.nonce).toBe('3');
  });

  it('uses the topmost among equally strong challenges', () => {
    expect(chooseChallenge(['Digest realm="a", nonce="1"', 'Digest realm="b", nonce="2", algorithm=MD5-sess, qop=auth'])?.realm).toBe('a');
  });

  it('skips challenges it cannot answer and finds several in one header value', () => {
    const ch = chooseChallenge([
      'Digest realm="r", nonce="x", algorithm=SHA-1, Digest realm="r", nonce="y", algorithm=SHA-256, qop="auth"',
      'Basic realm="r"',
      'Digest realm="r", nonce="z", algorithm=SHA-512-256, qop="auth-int"',
    ]);
    expect(ch).toMatchObject({ nonce: 'y', algorithm: 'SHA-256' });
  });

  it('returns undefined when nothing is supported', () => {
    expect(chooseChallenge([])).toBeUndefined();
    expect(chooseChallenge(['Basic realm="r"', 'Digest realm="r", nonce="n", algorithm=SHA-1'])).toBeUndefined();
  });
});

describe('parseAuthorization', () => {
  it('reads the credentials a UAC sends', () => {
    const value = 'Digest username="bob", realm="r", nonce="n", uri="sip:bob@biloxi.com", response="ABCDEF", algorithm=md5, qop=auth, nc=00000001, cnonce="c", opaque="o"';
    expect(parseAuthorization(value)).toEqual({
      username: 'bob',
      realm: 'r',
      nonce: 'n',
      uri: 'sip:bob@biloxi.com',
      response: 'abcdef',
      algorithm: 'MD5',
      qop: 'auth',
      nc: '00000001',
      cnonce: 'c',
      opaque: 'o',
    });
  });

  it('explains what is missing or wrong', () => {
    expect(parseAuthorization('Basic Ym9iOnNlY3JldA==')).toEqual({ error: 'no Digest credentials' });
    expect(parseAuthorization('Digest username="b", realm="r", nonce="n", uri="u"')).toHaveProperty('error');
    expect(parseAuthorization('Digest username="b", realm="r", nonce="n", uri="u", response="x", qop=auth, cnonce="c"')).toHaveProperty('error');
    expect(parseAuthorization('Digest username="b", realm="r", nonce="n", uri="u", response="x", qop=auth, nc=1, cnonce="c"')).toHaveProperty('error');
    expect(parseAuthorization('Digest username="b", realm="r", nonce="n", uri="u", response="x", algorithm=SHA-1')).toHaveProperty('error');
  });
});

describe('createChallenge → buildAuthorization → verifyAuthorization', () => {
  const secret = Buffer.from('0123456789abcdef0123456789abcdef');
  const passwords = new Map([['alice', 'wonderland']]);
  const lookup = (user: string, realm: string): string | undefined => (realm === 'vm.example' ? passwords.get(user) : undefined);
  const alice = { username: 'alice', password: 'wonderland' };

  afterEach(() => {
    vi.useRealTimers();
  });

  function answer(challengeValue: string, cred = alice, method = 'SUBSCRIBE'): string {
    const ch = parseChallenge(challengeValue);
    if (!ch) throw new Error(`unparsable challenge ${challengeValue}`);
    return buildAuthorization(ch, cred, method, 'sip:27000@vm.example', 1);
  }

  it('issues a Digest challenge with realm, an opaque nonce, the algorithm and qop="auth"', () => {
    const value = createChallenge('vm.example', 'SHA-256', secret);
    expect(value).toMatch(/^Digest realm="vm\.example",nonce="[A-Za-z0-9_-]{38}",algorithm=SHA-256,qop="auth"$/);
    expect(createChallenge('vm.example', 'MD5', secret, true)).toMatch(/,stale=TRUE$/);
    expect(parseChallenge(createChallenge('vm.example', 'MD5', secret, true))?.stale).toBe(true);
  });

  it('gives a different nonce each time', () => {
    expect(parseChallenge(createChallenge('vm.example', 'MD5', secret))?.nonce).not.toBe(parseChallenge(createChallenge('vm.example', 'MD5', secret))?.nonce);
  });

  for (const algorithm of ['MD5', 'MD5-sess', 'SHA-256', 'SHA-256-sess', 'SHA-512-256', 'SHA-512-256-sess'] as const) {
    it(`accepts the right password with ${algorithm}`, () => {
      const auth = answer(createChallenge('vm.example', algorithm, secret));
      expect(verifyAuthorization(auth, 'SUBSCRIBE', lookup, secret)).toEqual({ ok: true, username: 'alice' });
    });
  }

  it('refuses a wrong password, and not as stale', () => {
    const auth = answer(createChallenge('vm.example', 'SHA-256', secret), { username: 'alice', password: 'looking-glass' });
    expect(verifyAuthorization(auth, 'SUBSCRIBE', lookup, secret)).toMatchObject({ ok: false, stale: false });
  });

  it('refuses credentials computed for another method (A2 covers the method)', () => {
    const auth = answer(createChallenge('vm.example', 'MD5', secret), alice, 'INVITE');
    expect(verifyAuthorization(auth, 'SUBSCRIBE', lookup, secret)).toMatchObject({ ok: false, stale: false });
  });

  it('refuses an unknown user and a realm the lookup does not know', () => {
    const auth = answer(createChallenge('vm.example', 'MD5', secret), { username: 'mallory', password: 'x' });
    expect(verifyAuthorization(auth, 'SUBSCRIBE', lookup, secret)).toMatchObject({ ok: false, stale: false });
    const other = answer(createChallenge('elsewhere', 'MD5', secret));
    expect(verifyAuthorization(other, 'SUBSCRIBE', lookup, secret)).toMatchObject({ ok: false, stale: false });
  });

  it('answers stale for a tampered nonce when the response is right for it (RFC 7616 §3.3)', () => {
    const challenge = createChallenge('vm.example', 'SHA-256', secret);
    const nonce = parseChallenge(challenge)!.nonce;
    const flipped = (nonce[5] === 'A' ? 'B' : 'A') + '';
    const tampered = challenge.replace(nonce, nonce.slice(0, 5) + flipped + nonce.slice(6));
    const result = verifyAuthorization(answer(tampered), 'SUBSCRIBE', lookup, secret);
    expect(result).toMatchObject({ ok: false, stale: true });
  });

  it('answers stale for a nonce made with another secret (a restarted server) or a nonce it never made', () => {
    const otherSecret = Buffer.from('another secret, another process.');
    expect(verifyAuthorization(answer(createChallenge('vm.example', 'MD5', otherSecret)), 'SUBSCRIBE', lookup, secret)).toMatchObject({ ok: false, stale: true });
    const made = answer('Digest realm="vm.example", nonce="not-ours", qop="auth"');
    expect(verifyAuthorization(made, 'SUBSCRIBE', lookup, secret)).toMatchObject({ ok: false, stale: true });
  });

  it('answers stale for an expired nonce, and not stale when the password is also wrong', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2025-01-01T00:00:00Z'));
    const challenge = createChallenge('vm.example', 'MD5', secret);
    const good = answer(challenge);
    const bad = answer(challenge, { username: 'alice', password: 'nope' });
    vi.setSystemTime(new Date('2025-01-01T00:04:59Z'));
    expect(verifyAuthorization(good, 'SUBSCRIBE', lookup, secret, 300)).toEqual({ ok: true, username: 'alice' });
    vi.setSystemTime(new Date('2025-01-01T00:05:02Z'));
    expect(verifyAuthorization(good, 'SUBSCRIBE', lookup, secret, 300)).toMatchObject({ ok: false, stale: true, reason: 'nonce expired' });
    expect(verifyAuthorization(bad, 'SUBSCRIBE', lookup, secret, 300)).toMatchObject({ ok: false, stale: false });
  });

  it('refuses credentials without qop or with qop=auth-int, since every challenge it issues offers qop=auth', () => {
    const nonce = parseChallenge(createChallenge('vm.example', 'MD5', secret))!.nonce;
    const legacy = buildAuthorization({ scheme: 'Digest', realm: 'vm.example', nonce, algorithm: 'MD5' }, alice, 'SUBSCRIBE', 'sip:x', 1);
    expect(verifyAuthorization(legacy, 'SUBSCRIBE', lookup, secret)).toMatchObject({ ok: false, stale: false, reason: 'qop=auth is required' });
    const authInt = answer(createChallenge('vm.example', 'MD5', secret)).replace('qop=auth', 'qop=auth-int');
    expect(verifyAuthorization(authInt, 'SUBSCRIBE', lookup, secret)).toMatchObject({ ok: false, stale: false });
  });

  it('never throws on garbage', () => {
    for (const junk of ['', 'Digest', 'Digest ,,,', 'Digest username="', '\u0000\u00ff', 'Digest username=a realm=b nonce=c uri=d response=e qop=auth nc=zz cnonce=f']) {
      expect(verifyAuthorization(junk, 'SUBSCRIBE', lookup, secret)).toMatchObject({ ok: false, stale: false });
    }
  });
});
