/**
 * SRTP/SRTCP crypto context (RFC 3711) and its key derivation.
 *
 * Covers: the RFC 3711 Appendix B.2 AES-CM keystream and B.3 key derivation vectors; protect→unprotect round
 * trips for AES_CM_128_HMAC_SHA1_80 and _32 (tag lengths 10 and 4, payload really encrypted); header with
 * CSRCs and an extension left in clear; ROC estimation across a sequence wrap (Appendix A) including a late
 * packet from before the wrap; a tampered payload byte, header byte, tag, or a wrong key → -1 with the packet
 * untouched; replay and too-old packets (64-packet window, §3.3.2); out-of-order packets inside the window;
 * MKI carried and checked; SRTCP round trip (E flag, index, 80-bit tag for both suites), SRTCP tamper, E-flag
 * flip and replay; malformed and no-room inputs → -1 without throwing.
 * Does not cover: receiving unencrypted SRTCP (E=0; we never send it), interop against libsrtp captures (no capture with known keys at hand), key lifetime
 * enforcement (session layer), throughput (measured outside the test run).
 */
import { describe, expect, it } from 'vitest';
import { createCipheriv } from 'node:crypto';
import { ReplayWindow, SRTP_MAX_TRAILER, SRTCP_MAX_TRAILER, SrtpContext, estimateRoc, type SrtpSuite } from '../../src/media/srtp/context.js';
import { AesCm, KdfLabel, deriveKey, deriveSessionKeys } from '../../src/media/srtp/kdf.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const KEY = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
const SALT = hex('0EC675AD498AFEEBB6960B3AABE6');

/** A 12-byte-header PCMU packet with a 160-byte payload, in a buffer with room for any trailer. */
function rtp(seq: number, ssrc = 0xcafebabe, fill = 0x55): { buf: Buffer; length: number } {
  const buf = Buffer.alloc(12 + 160 + SRTP_MAX_TRAILER);
  buf[0] = 0x80;
  buf[1] = 0;
  buf.writeUInt16BE(seq & 0xffff, 2);
  buf.writeUInt32BE((seq * 160) >>> 0, 4);
  buf.writeUInt32BE(ssrc >>> 0, 8);
  for (let i = 0; i < 160; i++) buf[12 + i] = (fill + i) & 0xff;
  return { buf, length: 172 };
}

function pair(suite: SrtpSuite = 'AES_CM_128_HMAC_SHA1_80'): { tx: SrtpContext; rx: SrtpContext } {
  return { tx: new SrtpContext(suite, KEY, SALT), rx: new SrtpContext(suite, KEY, SALT) };
}

describe('AES-CM keystream (RFC 3711 Appendix B.2)', () => {
  const aes = new AesCm(hex('2B7E151628AED2A6ABF7158809CF4F3C'));
  const ks = aes.keystream(hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000'), 0xff02 * 16);
  const block = (n: number): string => ks.subarray(n * 16, n * 16 + 16).toString('hex').toUpperCase();
  it('produces the keystream blocks of the test vector at counters 0000, 0001, 0002', () => {
    expect(block(0)).toBe('E03EAD0935C95E80E166B16DD92B4EB4');
    expect(block(1)).toBe('D23513162B02D0F72A43A2FE4A5F97AB');
    expect(block(2)).toBe('41E95B3BB0A2E8DD477901E4FCA894C0');
  });
  it('produces the keystream blocks of the test vector at counters FEFF, FF00, FF01', () => {
    expect(block(0xfeff)).toBe('EC8CDF7398607CB0F2D21675EA9EA1E4');
    expect(block(0xff00)).toBe('362B7C3C6773516318A077D7FC5073AE');
    expect(block(0xff01)).toBe('6A2CC3787889374FBEB4C81B17BA6C44');
  });
  it('equals OpenSSL aes-128-ctr for an odd length', () => {
    const iv = hex('00112233445566778899AABBCCDDFFFE');
    const data = Buffer.alloc(45, 7);
    const expected = createCipheriv('aes-128-ctr', hex('2B7E151628AED2A6ABF7158809CF4F3C'), iv).update(data);
    aes.xor(iv, data, 0, data.length);
    expect(data.toString('hex')).toBe(expected.toString('hex'));
  });
});

describe('key derivation (RFC 3711 §4.3, Appendix B.3 test vectors)', () => {
  it('derives the cipher key with label 0x00', () => {
    expect(deriveKey(KEY, SALT, KdfLabel.RtpEncryption, 16).toString('hex').toUpperCase())
      .toBe('C61E7A93744F39EE10734AFE3FF7A087');
  });
  it('derives the cipher salt with label 0x02', () => {
    expect(deriveKey(KEY, SALT, KdfLabel.RtpSalt, 14).toString('hex').toUpperCase())
      .toBe('30CBBC08863D8C85D49DB34A9AE1');
  });
  it('derives the auth key with label 0x01 (first 160 bits used by HMAC-SHA1)', () => {
    expect(deriveKey(KEY, SALT, KdfLabel.RtpAuthentication, 20).toString('hex').toUpperCase())
      .toBe('CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4');
  });
  it('derives distinct SRTCP keys with labels 0x03-0x05', () => {
    const k = deriveSessionKeys(KEY, SALT);
    expect(k.rtcp.encryption.equals(k.rtp.encryption)).toBe(false);
    expect(k.rtcp.salt.equals(k.rtp.salt)).toBe(false);
    expect(k.rtcp.authentication.equals(k.rtp.authentication)).toBe(false);
    expect(k.rtcp.encryption.length + k.rtcp.salt.length + k.rtcp.authentication.length).toBe(50);
  });
});

describe.each([
  ['AES_CM_128_HMAC_SHA1_80', 10],
  ['AES_CM_128_HMAC_SHA1_32', 4],
] as const)('SRTP with %s', (suite, tagLength) => {
  it(`protect appends a ${tagLength}-byte tag and encrypts the payload, leaving the header clear`, () => {
    const { tx } = pair(suite);
    const p = rtp(1000);
    const clear = Buffer.from(p.buf.subarray(0, p.length));
    const n = tx.protect(p.buf, p.length);
    expect(n).toBe(172 + tagLength);
    expect(p.buf.subarray(0, 12).equals(clear.subarray(0, 12))).toBe(true);
    expect(p.buf.subarray(12, 172).equals(clear.subarray(12))).toBe(false);
  });
  it('unprotect restores the original RTP packet', () => {
    const { tx, rx } = pair(suite);
    const p = rtp(1000);
    const clear = Buffer.from(p.buf.subarray(0, p.length));
    const n = tx.protect(p.buf, p.length);
    expect(rx.unprotect(p.buf, n)).toBe(172);
    expect(p.buf.subarray(0, 172).equals(clear)).toBe(true);
  });
  it('MUST discard a packet with one payload byte changed (authentication failure)', () => {
    const { tx, rx } = pair(suite);
    const p = rtp(7);
    const n = tx.protect(p.buf, p.length);
    p.buf[100]! ^= 0x01;
    const before = Buffer.from(p.buf);
    expect(rx.unprotect(p.buf, n)).toBe(-1);
    expect(p.buf.equals(before)).toBe(true); // nothing decrypted
  });
  it('MUST discard a packet with one tag byte changed', () => {
    const { tx, rx } = pair(suite);
    const p = rtp(7);
    const n = tx.protect(p.buf, p.length);
    p.buf[n - 1]! ^= 0x80;
    expect(rx.unprotect(p.buf, n)).toBe(-1);
  });
  it('MUST discard a replayed packet (§3.3.2)', () => {
    const { tx, rx } = pair(suite);
    const p = rtp(7);
    const n = tx.protect(p.buf, p.length);
    const copy = Buffer.from(p.buf);
    expect(rx.unprotect(p.buf, n)).toBe(172);
    expect(rx.unprotect(copy, n)).toBe(-1);
  });
});

describe('SRTP rollover counter (RFC 3711 §3.3.1, Appendix A)', () => {
  it('keeps decrypting across the 65535 → 0 sequence wrap, with ROC incremented on both sides', () => {
    const { tx, rx } = pair();
    for (let s = 65530; s < 65536 + 10; s++) {
      const p = rtp(s, 0x1234, s & 0xff);
      const clear = Buffer.from(p.buf.subarray(0, 172));
      const n = tx.protect(p.buf, p.length);
      expect(rx.unprotect(p.buf, n)).toBe(172);
      expect(p.buf.subarray(0, 172).equals(clear)).toBe(true);
    }
    expect(tx.rolloverCounter(0x1234)).toBe(1);
    expect(rx.rolloverCounter(0x1234)).toBe(1);
  });
  it('decrypts a late packet from before the wrap with ROC - 1', () => {
    const { tx, rx } = pair();
    const late = rtp(65534);
    const lateN = tx.protect(late.buf, late.length);
    for (const s of [65535, 65536, 65537]) {
      const p = rtp(s);
      expect(rx.unprotect(p.buf, tx.protect(p.buf, p.length))).toBe(172);
    }
    expect(rx.unprotect(late.buf, lateN)).toBe(172);
    expect(late.buf.subarray(12, 172).equals(rtp(65534).buf.subarray(12, 172))).toBe(true);
  });
  it('a packet encrypted with another ROC fails authentication (the ROC is in the tag)', () => {
    const { tx } = pair();
    const rx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', KEY, SALT);
    for (let s = 0; s < 3; s++) {
      const p = rtp(65534 + s);
      tx.protect(p.buf, p.length);
    }
    const p = rtp(65537); // ROC 1 at the sender; the fresh receiver assumes ROC 0
    expect(rx.unprotect(p.buf, tx.protect(p.buf, p.length))).toBe(-1);
  });
  it('estimates v per Appendix A in all four branches', () => {
    expect(estimateRoc({ roc: 5, highestSeq: 100 }, 65500)).toBe(4);
    expect(estimateRoc({ roc: 5, highestSeq: 100 }, 200)).toBe(5);
    expect(estimateRoc({ roc: 5, highestSeq: 65500 }, 10)).toBe(6);
    expect(estimateRoc({ roc: 5, highestSeq: 65500 }, 40000)).toBe(5);
  });
});

describe('SRTP replay list (RFC 3711 §3.3.2)', () => {
  it('accepts packets out of order inside the window, once each', () => {
    const { tx, rx } = pair();
    const packets = [10, 11, 12, 13].map((s) => {
      const p = rtp(s);
      return { p, n: tx.protect(p.buf, p.length) };
    });
    for (const i of [0, 3, 2, 1]) expect(rx.unprotect(packets[i]!.p.buf, packets[i]!.n)).toBe(172);
  });
  it('discards a packet older than 64 packets behind the highest index', () => {
    const { tx, rx } = pair();
    const old = rtp(100);
    const oldN = tx.protect(old.buf, old.length);
    const p = rtp(164);
    expect(rx.unprotect(p.buf, tx.protect(p.buf, p.length))).toBe(172);
    expect(rx.unprotect(old.buf, oldN)).toBe(-1);
  });
  it('the window remembers indices 63 behind and forgets them at 64', () => {
    const w = new ReplayWindow();
    w.accept(1000);
    w.accept(1000 - 63);
    expect(w.acceptable(1000 - 63)).toBe(false);
    expect(w.acceptable(1000 - 62)).toBe(true);
    w.accept(1001);
    expect(w.acceptable(1000 - 63)).toBe(false); // now 64 behind: too old
    expect(w.acceptable(1000)).toBe(false);
    w.accept(1001 + 40);
    expect(w.acceptable(1001)).toBe(false);
    expect(w.acceptable(1002)).toBe(true);
  });
  it('a forged packet does not advance the window', () => {
    const { tx, rx } = pair();
    const good = rtp(5);
    const goodN = tx.protect(good.buf, good.length);
    const forged = rtp(5000);
    const forgedN = tx.protect(forged.buf, forged.length);
    forged.buf[20]! ^= 1;
    expect(rx.unprotect(forged.buf, forgedN)).toBe(-1);
    expect(rx.unprotect(good.buf, goodN)).toBe(172);
  });
});

describe('SRTP packet forms', () => {
  it('leaves CSRCs and a header extension in clear and encrypts what follows', () => {
    const { tx, rx } = pair();
    const buf = Buffer.alloc(12 + 8 + 8 + 20 + SRTP_MAX_TRAILER);
    buf[0] = 0x80 | 0x10 | 2; // X=1, CC=2
    buf.writeUInt16BE(9, 2);
    buf.writeUInt32BE(1, 8);
    buf.writeUInt16BE(0xbede, 20);
    buf.writeUInt16BE(1, 22); // one 32-bit word of extension
    buf.fill(0xaa, 28, 48);
    const clear = Buffer.from(buf.subarray(0, 48));
    const n = tx.protect(buf, 48);
    expect(buf.subarray(0, 28).equals(clear.subarray(0, 28))).toBe(true);
    expect(buf.subarray(28, 48).equals(clear.subarray(28))).toBe(false);
    expect(rx.unprotect(buf, n)).toBe(48);
    expect(buf.subarray(0, 48).equals(clear)).toBe(true);
  });
  it('carries the MKI between payload and tag and drops a packet with another MKI', () => {
    const mki = { value: 1, length: 1 };
    const tx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', KEY, SALT, { mki });
    const rx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', KEY, SALT, { mki });
    const p = rtp(3);
    const n = tx.protect(p.buf, p.length);
    expect(n).toBe(172 + 1 + 10);
    expect(p.buf[172]).toBe(1);
    const copy = Buffer.from(p.buf);
    copy[172] = 2;
    expect(rx.unprotect(copy, n)).toBe(-1);
    expect(rx.unprotect(p.buf, n)).toBe(172);
  });
  it('a receiver with another key discards every packet', () => {
    const tx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', KEY, SALT);
    const rx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', Buffer.alloc(16, 1), SALT);
    const p = rtp(1);
    expect(rx.unprotect(p.buf, tx.protect(p.buf, p.length))).toBe(-1);
  });
  it('returns -1 without throwing for short, non-v2, truncated or roomless packets', () => {
    const { tx, rx } = pair();
    expect(rx.unprotect(Buffer.alloc(10), 10)).toBe(-1);
    expect(rx.unprotect(Buffer.alloc(40), 40)).toBe(-1); // version 0
    expect(rx.unprotect(Buffer.alloc(20), 30)).toBe(-1); // length beyond buffer
    const noRoom = rtp(1);
    expect(tx.protect(noRoom.buf.subarray(0, 172), 172)).toBe(-1);
    const badCc = rtp(1);
    badCc.buf[0] = 0x8f; // 15 CSRCs do not fit in 22 bytes
    expect(tx.protect(badCc.buf, 22)).toBe(-1);
  });
});

/** A receiver report (RFC 3550 §6.4.2) with one report block: 32 bytes. */
function rtcp(ssrc = 0xdeadbeef): { buf: Buffer; length: number } {
  const buf = Buffer.alloc(32 + SRTCP_MAX_TRAILER);
  buf[0] = 0x81;
  buf[1] = 201;
  buf.writeUInt16BE(7, 2);
  buf.writeUInt32BE(ssrc, 4);
  for (let i = 8; i < 32; i++) buf[i] = i;
  return { buf, length: 32 };
}

describe.each(['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'] as const)('SRTCP with %s (RFC 3711 §3.4)', (suite) => {
  it('protects with E=1, the SRTCP index and an 80-bit tag, and unprotects to the same RTCP', () => {
    const { tx, rx } = pair(suite);
    for (let i = 0; i < 3; i++) {
      const p = rtcp();
      const clear = Buffer.from(p.buf.subarray(0, 32));
      const n = tx.protectRtcp(p.buf, p.length);
      expect(n).toBe(32 + 4 + 10);
      expect(p.buf.readUInt32BE(32)).toBe((0x80000000 | i) >>> 0);
      expect(p.buf.subarray(0, 8).equals(clear.subarray(0, 8))).toBe(true);
      expect(p.buf.subarray(8, 32).equals(clear.subarray(8))).toBe(false);
      expect(rx.unprotectRtcp(p.buf, n)).toBe(32);
      expect(p.buf.subarray(0, 32).equals(clear)).toBe(true);
    }
  });
  it('MUST discard an SRTCP packet with a changed byte, a changed E flag, or a replayed index', () => {
    const { tx, rx } = pair(suite);
    const p = rtcp();
    const n = tx.protectRtcp(p.buf, p.length);
    const tampered = Buffer.from(p.buf);
    tampered[12]! ^= 4;
    expect(rx.unprotectRtcp(tampered, n)).toBe(-1);
    const flag = Buffer.from(p.buf);
    flag[32]! &= 0x7f;
    expect(rx.unprotectRtcp(flag, n)).toBe(-1);
    const copy = Buffer.from(p.buf);
    expect(rx.unprotectRtcp(p.buf, n)).toBe(32);
    expect(rx.unprotectRtcp(copy, n)).toBe(-1);
  });
});

describe('SRTCP packet forms', () => {
  it('returns -1 for a packet too short to hold header, index and tag', () => {
    const { rx } = pair();
    expect(rx.unprotectRtcp(Buffer.alloc(21, 0x80), 21)).toBe(-1);
  });
});
