/**
 * SDES `a=crypto` (RFC 4568) parse, format, choice of offer and creation of our answer.
 *
 * Covers: the RFC 4568 §5 example line (lifetime 2^20, MKI 1:4); Asterisk-style (no lifetime), Cisco-style
 * (|2^31, an AEAD suite offered first), Avaya-style (|2^31|1:1 MKI) lines; decimal lifetimes; session
 * parameters honoured (WSH, FEC_ORDER) and refused (KDR, UNENCRYPTED_SRTCP, unknown) with a reason;
 * unsupported suites and key methods, several master keys, bad base64, wrong key length, lifetimes too short
 * or beyond 2^48, MKI too long or overflowing; chooseCrypto picking the first supported offer and reporting
 * the others; createCrypto's fresh keys and format→parse round trip; a key parsed from SDES keying an
 * SrtpContext pair end to end.
 * Does not cover: SDP plumbing (which m= line, RTP/SAVP profile), the per-PBX SRTP policy (session layer).
 */
import { describe, expect, it } from 'vitest';
import { SrtpContext } from '../../src/media/srtp/context.js';
import {
  MIN_HONOURED_LIFETIME, chooseCrypto, createCrypto, formatCrypto, parseCrypto, type SdesCrypto,
} from '../../src/media/srtp/sdes.js';

const KEY40 = 'PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR'; // RFC 4568 §5's key||salt, 30 bytes

function ok(line: string): SdesCrypto {
  const r = parseCrypto(line);
  if (!r.ok) throw new Error(`expected ${line} to parse: ${r.reason}`);
  return r.crypto;
}
function reason(line: string): string {
  const r = parseCrypto(line);
  if (r.ok) throw new Error(`expected ${line} to be refused`);
  return r.reason;
}

describe('parseCrypto (RFC 4568 §9)', () => {
  it('parses the RFC 4568 §5 example with lifetime 2^20 and MKI 1:4', () => {
    const c = ok(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY40}|2^20|1:4`);
    expect(c.tag).toBe(1);
    expect(c.suite).toBe('AES_CM_128_HMAC_SHA1_80');
    expect(Buffer.concat([c.masterKey, c.masterSalt]).equals(Buffer.from(KEY40, 'base64'))).toBe(true);
    expect(c.masterKey.length).toBe(16);
    expect(c.masterSalt.length).toBe(14);
    expect(c.lifetime).toBe(2 ** 20);
    expect(c.mki).toEqual({ value: 1, length: 4 });
  });
  it('parses an Asterisk-style line with no lifetime or MKI, given as the attribute value', () => {
    const c = ok(`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY40}`);
    expect(c.lifetime).toBeUndefined();
    expect(c.mki).toBeUndefined();
    expect(c.sessionParams).toEqual([]);
  });
  it('parses a Cisco-style _32 line with lifetime 2^31', () => {
    const c = ok(`a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${KEY40}|2^31`);
    expect(c.tag).toBe(2);
    expect(c.suite).toBe('AES_CM_128_HMAC_SHA1_32');
    expect(c.lifetime).toBe(2 ** 31);
  });
  it('parses an Avaya-style line with lifetime and a 1-byte MKI', () => {
    const c = ok(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY40}|2^31|1:1`);
    expect(c.mki).toEqual({ value: 1, length: 1 });
  });
  it('parses an MKI with no lifetime, a decimal lifetime, and tolerates CRLF and tabs', () => {
    expect(ok(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY40}|7:2`).mki).toEqual({ value: 7, length: 2 });
    expect(ok(`a=crypto:1\tAES_CM_128_HMAC_SHA1_80 inline:${KEY40}|2000000\r\n`).lifetime).toBe(2_000_000);
  });
  it('honours WSH of at least 64 and FEC_ORDER', () => {
    expect(ok(`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY40} WSH=128 FEC_ORDER=FEC_SRTP`).sessionParams)
      .toEqual(['WSH=128', 'FEC_ORDER=FEC_SRTP']);
  });

  describe('refuses, with a reason', () => {
    it('an unsupported crypto-suite', () => {
      expect(reason(`a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:${KEY40}`)).toMatch(/unsupported crypto-suite AES_256/);
      expect(reason(`a=crypto:1 F8_128_HMAC_SHA1_80 inline:${KEY40}`)).toMatch(/unsupported crypto-suite/);
    });
    it('a key method other than inline', () => {
      expect(reason(`1 AES_CM_128_HMAC_SHA1_80 uri:https://example.com/k`)).toMatch(/key-method "uri"/);
    });
    it('several master keys', () => {
      expect(reason(`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY40}|2^20|1:4;inline:${KEY40}|2^20|2:4`))
        .toMatch(/several master keys/);
    });
    it('bad base64', () => {
      expect(reason(`1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkp*ywjNWhcYD0mXXtxaVBR`)).toMatch(/base64/);
      expect(reason(`1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVB`)).toMatch(/base64/);
    });
    it('a key||salt that is not 30 bytes', () => {
      const short = Buffer.alloc(24, 9).toString('base64');
      const long = Buffer.alloc(46, 9).toString('base64'); // an AES-256 sized key on a 128-bit suite
      expect(reason(`1 AES_CM_128_HMAC_SHA1_80 inline:${short}`)).toMatch(/24 bytes/);
      expect(reason(`1 AES_CM_128_HMAC_SHA1_80 inline:${long}`)).toMatch(/46 bytes/);
    });
    it('a lifetime shorter than we can honour without re-keying, or beyond 2^48', () => {
      expect(reason(`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY40}|2^10`)).toMatch(/shorter than 2\^20/);
      expect(reason(`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY40}|${MIN_HONOURED_LIFETIME - 1}`)).toMatch(/shorter/);
      expect(reason(`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY40}|2^49`)).toMatch(/2\^48/);
    });
    it('an MKI longer than 4 bytes, out of range, or whose value does not fit', () => {
      expect(reason(`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY40}|2^31|1:8`)).toMatch(/more than the 4/);
      expect(reason(`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY40}|2^31|1:200`)).toMatch(/range 1\.\.128/);
      expect(reason(`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY40}|2^31|256:1`)).toMatch(/does not fit/);
    });
    it('KDR, UNENCRYPTED_SRTCP, a small WSH and unknown session parameters', () => {
      expect(reason(`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY40} KDR=23`)).toMatch(/key derivation rate/);
      expect(reason(`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY40} UNENCRYPTED_SRTCP`)).toMatch(/UNENCRYPTED_SRTCP/);
      expect(reason(`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY40} WSH=32`)).toMatch(/below the minimum/);
      expect(reason(`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY40} FOO=1`)).toMatch(/unknown session parameter/);
    });
    it('a missing or malformed tag, and a line with too few fields', () => {
      expect(reason(`a=crypto:x AES_CM_128_HMAC_SHA1_80 inline:${KEY40}`)).toMatch(/bad tag/);
      expect(reason(`a=crypto:1234567890 AES_CM_128_HMAC_SHA1_80 inline:${KEY40}`)).toMatch(/bad tag/);
      expect(reason('a=crypto:1 AES_CM_128_HMAC_SHA1_80')).toMatch(/needs/);
    });
  });
});

describe('chooseCrypto (RFC 4568 §7.1.2)', () => {
  it('picks the first supported offer, skipping a Cisco-style AEAD line first, and says why', () => {
    const r = chooseCrypto([
      `a=crypto:1 AEAD_AES_256_GCM inline:${Buffer.alloc(44, 1).toString('base64')}|2^48`,
      `a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:${KEY40}|2^31`,
      `a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:${KEY40}|2^31`,
    ]);
    expect(r.chosen?.tag).toBe(2);
    expect(r.rejected).toHaveLength(1);
    expect(r.rejected[0]!.reason).toMatch(/AEAD_AES_256_GCM/);
  });
  it('returns null and every reason when nothing can be honoured', () => {
    const r = chooseCrypto([`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY40} KDR=1`, '2 AES_CM_128_HMAC_SHA1_80 inline:!!']);
    expect(r.chosen).toBeNull();
    expect(r.rejected.map((x) => x.line)).toHaveLength(2);
  });
});

describe('createCrypto and formatCrypto', () => {
  it('makes fresh 16+14 byte key material for each answer, with the offer tag and suite', () => {
    const a = createCrypto(2, 'AES_CM_128_HMAC_SHA1_32');
    const b = createCrypto(2, 'AES_CM_128_HMAC_SHA1_32');
    expect(a.tag).toBe(2);
    expect(a.suite).toBe('AES_CM_128_HMAC_SHA1_32');
    expect(a.masterKey.length + a.masterSalt.length).toBe(30);
    expect(a.masterKey.equals(b.masterKey)).toBe(false);
  });
  it('formats a line that parses back to the same crypto', () => {
    const a = createCrypto(1, 'AES_CM_128_HMAC_SHA1_80');
    const text = formatCrypto(a);
    expect(text).toMatch(/^1 AES_CM_128_HMAC_SHA1_80 inline:[A-Za-z0-9+/]{40}$/);
    const back = ok(`a=crypto:${text}`);
    expect(back.masterKey.equals(a.masterKey) && back.masterSalt.equals(a.masterSalt)).toBe(true);
  });
  it('formats lifetime and MKI as received', () => {
    const c = ok(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY40}|2^20|1:4`);
    expect(formatCrypto(c)).toBe(`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY40}|2^20|1:4`);
  });
  it('a key from the offer keys the peer sender and our receiver so media flows', () => {
    const offer = ok(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY40}|2^31|1:1`);
    const opts = offer.mki ? { mki: offer.mki } : {};
    const peer = new SrtpContext(offer.suite, offer.masterKey, offer.masterSalt, opts);
    const us = new SrtpContext(offer.suite, offer.masterKey, offer.masterSalt, opts);
    const buf = Buffer.alloc(12 + 160 + 20);
    buf[0] = 0x80;
    buf.writeUInt32BE(42, 8);
    buf.fill(0xff, 12, 172);
    const n = peer.protect(buf, 172);
    expect(us.unprotect(buf, n)).toBe(172);
    expect(buf.subarray(12, 172).every((b) => b === 0xff)).toBe(true);
  });
});
