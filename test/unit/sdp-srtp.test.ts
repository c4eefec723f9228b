/**
 * SDES-keyed SRTP (RFC 4568) in offer/answer, under each SrtpPolicy: answerOffer, createOffer, acceptAnswer.
 *
 * Covers: RTP/SAVP offers answered RTP/SAVP with one a=crypto (the offer's tag and suite, our own fresh key,
 * base64 that parses back), both suites, the offerer's order of preference, suites/keys/session parameters we
 * cannot honour (488 'No acceptable crypto suite'); RTP/AVP with a=crypto (RFC 8643 OSRTP) taken as SRTP,
 * or as plain RTP when its crypto is unusable or SRTP is off; policy 'off' refusing RTP/SAVP; policy
 * 'required' refusing plain RTP (488 'SRTP required'); reuse of srtpLocalKey across a re-INVITE; rejected
 * m= lines without a=crypto; hold (sendonly, c=0.0.0.0) with SRTP; serialize → parse round trip; our offers
 * under each policy; the answer's crypto checked against our offer (tag, suite, key); full exchanges where
 * both ends agree on who decrypts with which key.
 * Does not cover: the SRTP packet transform (media-srtp.test.ts), a=crypto parsing details (media-sdes.test.ts),
 * DTLS-SRTP, MIKEY, RFC 5939 capability negotiation, the SIP side (Warning header codes), key lifetime expiry.
 */
import { describe, expect, it } from 'vitest';
import { parseCrypto, type SdesCrypto } from '../../src/media/srtp/sdes.js';
import { acceptAnswer, answerOffer, createOffer, WARNING } from '../../src/sdp/negotiate.js';
import { parseSdp } from '../../src/sdp/parse.js';
import { serializeSdp } from '../../src/sdp/serialize.js';
import type { LocalMediaConfig, NegotiatedAudio, SdpMedia, SessionDescription, SrtpPolicy } from '../../src/sdp/types.js';
import { sdp } from './sdp-fixtures.js';

const LOCAL: LocalMediaConfig = { address: '192.0.2.200', port: 20000, codecs: ['PCMU', 'PCMA'], sessionId: '4711', sessionVersion: 1 };
const S80 = 'AES_CM_128_HMAC_SHA1_80';
const S32 = 'AES_CM_128_HMAC_SHA1_32';
/** Offerers' keys: 30 bytes of key||salt in base64, as RFC 4568 §6.2.1 wants for both suites. */
const KEY_A = 'NTYDq0iVjsdDpoFa2PQWFN/q29KBH1OPzuCNLw2s';
const KEY_B = 'iMEDps8dSZB6r5LSb818DZiGJHEfeRN8gNAQaRuY';

function local(srtp?: SrtpPolicy, more: Partial<LocalMediaConfig> = {}): LocalMediaConfig {
  return srtp === undefined ? { ...LOCAL, ...more } : { ...LOCAL, srtp, ...more };
}

/** An offer with the given audio m= line and media attributes, session c= 192.0.2.1. */
function offer(mLine: string, ...attributes: string[]): SessionDescription {
  return parseSdp(sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', mLine, ...attributes));
}

function answered(o: SessionDescription, config: LocalMediaConfig = LOCAL): { answer: SessionDescription; audio: NegotiatedAudio } {
  const result = answerOffer(o, config);
  if (!result.ok) throw new Error(`expected an answer, got 488 "${result.warning}" (${result.detail ?? ''})`);
  return result;
}

function cryptoLines(m: SdpMedia): string[] {
  return m.attributes.filter((a) => a.name === 'crypto').map((a) => a.value ?? '');
}

function parsed(value: string): SdesCrypto {
  const r = parseCrypto(value);
  if (!r.ok) throw new Error(r.reason);
  return r.crypto;
}

function keySalt(c: SdesCrypto): string {
  return Buffer.concat([c.masterKey, c.masterSalt]).toString('base64');
}

const SAVP_80 = offer('m=audio 4000 RTP/SAVP 0 101', 'a=rtpmap:101 telephone-event/8000', `a=crypto:1 ${S80} inline:${KEY_A}`, 'a=sendrecv');

describe('answerOffer with SRTP', () => {
  describe('an RTP/SAVP offer with one AES_CM_128_HMAC_SHA1_80 crypto (default policy)', () => {
    const { answer, audio } = answered(SAVP_80);
    const m = answer.media[0]!;

    it('accepts the stream and answers in RTP/SAVP', () => {
      expect([m.port, m.proto]).toEqual([20000, 'RTP/SAVP']);
    });

    it('MUST answer with exactly one a=crypto carrying the offer\'s tag and crypto-suite (RFC 4568 §7.1.2)', () => {
      const lines = cryptoLines(m);
      expect(lines).toHaveLength(1);
      expect([parsed(lines[0]!).tag, parsed(lines[0]!).suite]).toEqual([1, S80]);
    });

    it('MUST answer with our own key, not the offerer\'s, as 30 bytes of base64 that parse back to audio.srtp.local', () => {
      const ours = parsed(cryptoLines(m)[0]!);
      expect(keySalt(ours)).not.toBe(KEY_A);
      expect(ours.masterKey).toHaveLength(16);
      expect(ours.masterSalt).toHaveLength(14);
      expect(keySalt(ours)).toBe(keySalt(audio.srtp!.local));
    });

    it('reports the suite, the offerer\'s key to decrypt with and ours to encrypt with', () => {
      expect(audio.srtp?.suite).toBe(S80);
      expect(keySalt(audio.srtp!.remote)).toBe(KEY_A);
      expect(audio.srtp?.local.tag).toBe(1);
    });

    it('adds no lifetime, MKI or session parameters of its own', () => {
      expect(cryptoLines(m)[0]).toMatch(new RegExp(`^1 ${S80} inline:[A-Za-z0-9+/]{40}$`));
    });

    it('serializes to a body that parses back to the same answer, crypto line included', () => {
      const text = serializeSdp(answer);
      expect(text).toContain(`\r\na=crypto:1 ${S80} inline:${keySalt(audio.srtp!.local)}\r\n`);
      expect(parseSdp(text)).toEqual(answer);
    });
  });

  it('makes a fresh key for each answer', () => {
    const first = answered(SAVP_80).audio.srtp!.local;
    const second = answered(SAVP_80).audio.srtp!.local;
    expect(keySalt(first)).not.toBe(keySalt(second));
  });

  it('accepts AES_CM_128_HMAC_SHA1_32 and echoes its tag', () => {
    const { answer, audio } = answered(offer('m=audio 4000 RTP/SAVP 8', `a=crypto:7 ${S32} inline:${KEY_B}`));
    expect(audio.srtp?.suite).toBe(S32);
    expect([parsed(cryptoLines(answer.media[0]!)[0]!).tag, parsed(cryptoLines(answer.media[0]!)[0]!).suite]).toEqual([7, S32]);
    expect(keySalt(audio.srtp!.remote)).toBe(KEY_B);
  });

  it('takes the offerer\'s first acceptable crypto, in the offerer\'s order of preference', () => {
    const { audio } = answered(offer('m=audio 4000 RTP/SAVP 0', `a=crypto:1 ${S32} inline:${KEY_B}`, `a=crypto:2 ${S80} inline:${KEY_A}`));
    expect([audio.srtp?.suite, audio.srtp?.local.tag, keySalt(audio.srtp!.remote)]).toEqual([S32, 1, KEY_B]);
  });

  it('skips a crypto-suite it does not implement and takes the next one', () => {
    const { audio } = answered(
      offer('m=audio 4000 RTP/SAVP 0', `a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:${KEY_A}${KEY_B}`, `a=crypto:2 ${S80} inline:${KEY_A}`),
    );
    expect([audio.srtp?.suite, audio.srtp?.local.tag]).toEqual([S80, 2]);
  });

  it('accepts the RFC 4568 §10 example crypto (lifetime 2^20, MKI 1:4) and keeps them on the remote key', () => {
    const { audio } = answered(offer('m=audio 4000 RTP/SAVP 0', `a=crypto:1 ${S80} inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4`));
    expect([audio.srtp?.remote.lifetime, audio.srtp?.remote.mki]).toEqual([2 ** 20, { value: 1, length: 4 }]);
    expect(audio.srtp?.local.mki).toBeUndefined();
  });

  describe('an RTP/SAVP stream whose crypto we cannot use MUST be rejected (RFC 4568 §7.1.2)', () => {
    const cases: Array<[string, string[], RegExp]> = [
      ['an unknown suite', [`a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:${KEY_A}${KEY_B}`], /unsupported crypto-suite AES_256_CM_HMAC_SHA1_80/],
      ['a key of the wrong length', [`a=crypto:1 ${S80} inline:YUJDZGVmZ2hpSktMbW9QUXJzVHVWd3l6`], /bytes/],
      ['a session parameter we do not honour', [`a=crypto:1 ${S80} inline:${KEY_A} UNENCRYPTED_SRTP`], /UNENCRYPTED_SRTP/],
      ['a key method other than inline', [`a=crypto:1 ${S80} uri:https://keys.example/1`], /key-method/],
      ['no a=crypto at all', [], /without a=crypto/],
    ];
    for (const [what, lines, detail] of cases) {
      it(`488 'No acceptable crypto suite' for ${what}`, () => {
        const result = answerOffer(offer('m=audio 4000 RTP/SAVP 0', ...lines), LOCAL);
        expect(result.ok).toBe(false);
        expect(!result.ok && [result.status, result.warning]).toEqual([488, 'No acceptable crypto suite']);
        expect(!result.ok && result.detail).toMatch(detail);
      });
    }

    it('and the next usable stream is taken instead, the refused one answered with port 0 and no crypto', () => {
      const o = parseSdp(
        sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0',
          'm=audio 4000 RTP/SAVP 0', `a=crypto:1 AES_192_CM_HMAC_SHA1_80 inline:${KEY_A}`, 'm=audio 4002 RTP/AVP 0'),
      );
      const { answer, audio } = answered(o);
      expect(answer.media.map((m) => [m.port, m.proto, cryptoLines(m).length])).toEqual([[0, 'RTP/SAVP', 0], [20000, 'RTP/AVP', 0]]);
      expect(audio.srtp).toBeUndefined();
    });
  });

  describe('RTP/AVP with a=crypto (RFC 8643 OSRTP, "best effort SRTP")', () => {
    const OSRTP = offer('m=audio 4000 RTP/AVP 0', `a=crypto:1 ${S80} inline:${KEY_A}`, `a=crypto:2 ${S32} inline:${KEY_B}`);

    it('policy offered: answers RTP/AVP with one a=crypto and uses SRTP', () => {
      const { answer, audio } = answered(OSRTP, local('offered'));
      expect(answer.media[0]!.proto).toBe('RTP/AVP');
      expect(cryptoLines(answer.media[0]!).map((v) => parsed(v).tag)).toEqual([1]);
      expect([audio.srtp?.suite, keySalt(audio.srtp!.remote)]).toEqual([S80, KEY_A]);
    });

    it('policy required: the offered crypto satisfies it', () => {
      expect(answered(OSRTP, local('required')).audio.srtp?.suite).toBe(S80);
    });

    it('policy off: ignores the crypto and answers plain RTP without a=crypto', () => {
      const { answer, audio } = answered(OSRTP, local('off'));
      expect([answer.media[0]!.proto, cryptoLines(answer.media[0]!), audio.srtp]).toEqual(['RTP/AVP', [], undefined]);
    });

    it('policy offered: falls back to plain RTP when none of its crypto is usable', () => {
      const { answer, audio } = answered(offer('m=audio 4000 RTP/AVP 0', `a=crypto:1 F8_128_HMAC_SHA1_80 inline:${KEY_A}`), local('offered'));
      expect([cryptoLines(answer.media[0]!), audio.srtp]).toEqual([[], undefined]);
    });

    it('policy required: refuses it with 488 when none of its crypto is usable', () => {
      const result = answerOffer(offer('m=audio 4000 RTP/AVP 0', `a=crypto:1 F8_128_HMAC_SHA1_80 inline:${KEY_A}`), local('required'));
      expect(!result.ok && result.warning).toBe('No acceptable crypto suite');
    });
  });

  describe('policy off', () => {
    it('MUST refuse an RTP/SAVP-only offer with 488 Incompatible transport protocol', () => {
      expect(answerOffer(SAVP_80, local('off'))).toEqual({ ok: false, status: 488, warning: 'Incompatible transport protocol' });
    });

    it('takes the plain RTP/AVP stream of an offer that has both, rejecting the SRTP one without crypto', () => {
      const o = parseSdp(
        sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0',
          'm=audio 4000 RTP/SAVP 0', `a=crypto:1 ${S80} inline:${KEY_A}`, 'm=audio 4002 RTP/AVP 0'),
      );
      const { answer, audio } = answered(o, local('off'));
      expect(answer.media.map((m) => [m.port, cryptoLines(m).length])).toEqual([[0, 0], [20000, 0]]);
      expect([audio.remotePort, audio.srtp]).toEqual([4002, undefined]);
    });
  });

  describe('policy offered (the default) with a plain offer', () => {
    it('answers plain RTP/AVP without crypto', () => {
      const { answer, audio } = answered(offer('m=audio 4000 RTP/AVP 0'));
      expect([answer.media[0]!.proto, cryptoLines(answer.media[0]!), audio.srtp]).toEqual(['RTP/AVP', [], undefined]);
    });
  });

  describe('policy required', () => {
    it('MUST refuse a plain RTP/AVP offer with 488 and a warning saying SRTP is required', () => {
      const result = answerOffer(offer('m=audio 4000 RTP/AVP 0 101', 'a=rtpmap:101 telephone-event/8000'), local('required'));
      expect(result.ok).toBe(false);
      expect(!result.ok && [result.status, result.warning]).toEqual([488, 'SRTP required']);
      expect(WARNING.srtpRequired).toBe('SRTP required');
    });

    it('takes the RTP/SAVP stream of an offer that has both, rejecting the plain one', () => {
      const o = parseSdp(
        sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0',
          'm=audio 4002 RTP/AVP 0', 'm=audio 4000 RTP/SAVP 0', `a=crypto:1 ${S80} inline:${KEY_A}`),
      );
      const { answer, audio } = answered(o, local('required'));
      expect(answer.media.map((m) => [m.port, cryptoLines(m).length])).toEqual([[0, 0], [20000, 1]]);
      expect([audio.remotePort, audio.srtp?.suite]).toEqual([4000, S80]);
    });
  });

  describe('rejected m= lines', () => {
    it('MUST NOT carry a=crypto, even when offered with one', () => {
      const o = parseSdp(
        sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0',
          'm=video 5000 RTP/SAVP 96', 'a=rtpmap:96 H264/90000', `a=crypto:1 ${S80} inline:${KEY_B}`,
          'm=audio 4000 RTP/SAVP 0', `a=crypto:1 ${S80} inline:${KEY_A}`,
          'm=audio 4002 RTP/SAVP 8', `a=crypto:1 ${S80} inline:${KEY_B}`),
      );
      const { answer } = answered(o);
      expect(answer.media.map((m) => [m.type, m.port, cryptoLines(m).length])).toEqual([['video', 0, 0], ['audio', 20000, 1], ['audio', 0, 0]]);
      expect(serializeSdp(answer).match(/a=crypto/g)).toHaveLength(1);
    });
  });

  describe('hold keeps SRTP', () => {
    it('answers an RTP/SAVP a=sendonly hold recvonly, with crypto, and marks the call on hold', () => {
      const { answer, audio } = answered(offer('m=audio 4000 RTP/SAVP 0', `a=crypto:1 ${S80} inline:${KEY_A}`, 'a=sendonly'));
      expect([audio.onHold, audio.localDirection, audio.srtp?.suite]).toEqual([true, 'recvonly', S80]);
      expect(answer.media[0]!.attributes.at(-1)).toEqual({ name: 'recvonly' });
      expect(cryptoLines(answer.media[0]!)).toHaveLength(1);
    });

    it('answers an RTP/SAVP c=0.0.0.0 hold with crypto', () => {
      const o = parseSdp(sdp('v=0', 'o=- 1 2 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 0.0.0.0', 't=0 0', 'm=audio 4000 RTP/SAVP 0', `a=crypto:1 ${S80} inline:${KEY_A}`));
      const { audio } = answered(o);
      expect([audio.onHold, audio.remoteAddress, audio.srtp?.suite]).toEqual([true, '0.0.0.0', S80]);
    });
  });

  describe('srtpLocalKey (a re-INVITE keeps our outbound key, RFC 4568 §7.1.4)', () => {
    const first = answered(SAVP_80).audio.srtp!.local;

    it('reuses its key and salt, with the new offer\'s tag, when the suite is the same', () => {
      const reoffer = offer('m=audio 4000 RTP/SAVP 0', `a=crypto:5 ${S80} inline:${KEY_A}`, 'a=sendonly');
      const { answer, audio } = answered(reoffer, local(undefined, { srtpLocalKey: first, sessionVersion: 2 }));
      expect([audio.srtp?.local.tag, keySalt(audio.srtp!.local)]).toEqual([5, keySalt(first)]);
      expect(parsed(cryptoLines(answer.media[0]!)[0]!)).toMatchObject({ tag: 5, suite: S80 });
      expect(keySalt(parsed(cryptoLines(answer.media[0]!)[0]!))).toBe(keySalt(first));
    });

    it('makes a fresh key when the suite changed', () => {
      const reoffer = offer('m=audio 4000 RTP/SAVP 0', `a=crypto:1 ${S32} inline:${KEY_B}`);
      const { audio } = answered(reoffer, local(undefined, { srtpLocalKey: first }));
      expect(audio.srtp?.suite).toBe(S32);
      expect(keySalt(audio.srtp!.local)).not.toBe(keySalt(first));
    });
  });
});

describe('createOffer with SRTP', () => {
  it('policy offered (the default): RTP/AVP with a=crypto for both suites, 80 first with tag 1, 32 with tag 2', () => {
    const m = createOffer(LOCAL).media[0]!;
    expect(m.proto).toBe('RTP/AVP');
    expect(cryptoLines(m).map((v) => [parsed(v).tag, parsed(v).suite])).toEqual([[1, S80], [2, S32]]);
  });

  it('policy required: RTP/SAVP with the same crypto lines', () => {
    const m = createOffer(local('required')).media[0]!;
    expect(m.proto).toBe('RTP/SAVP');
    expect(cryptoLines(m).map((v) => [parsed(v).tag, parsed(v).suite])).toEqual([[1, S80], [2, S32]]);
  });

  it('policy off: RTP/AVP without crypto', () => {
    const m = createOffer(local('off')).media[0]!;
    expect([m.proto, cryptoLines(m)]).toEqual(['RTP/AVP', []]);
  });

  it('uses a different random key per crypto line and per offer', () => {
    const keys = [...cryptoLines(createOffer(LOCAL).media[0]!), ...cryptoLines(createOffer(LOCAL).media[0]!)].map((v) => keySalt(parsed(v)));
    expect(new Set(keys).size).toBe(4);
  });

  it('reuses srtpLocalKey for the line of its suite only', () => {
    const previous = answered(SAVP_80).audio.srtp!.local;
    const [l80, l32] = cryptoLines(createOffer(local(undefined, { srtpLocalKey: previous })).media[0]!).map(parsed);
    expect(keySalt(l80!)).toBe(keySalt(previous));
    expect(keySalt(l32!)).not.toBe(keySalt(previous));
  });

  it('serializes and parses back unchanged', () => {
    const o = createOffer(local('required'));
    expect(parseSdp(serializeSdp(o))).toEqual(o);
  });
});

describe('acceptAnswer with SRTP', () => {
  function remoteAnswer(mLine: string, ...attributes: string[]): SessionDescription {
    return parseSdp(sdp('v=0', 'o=- 9 9 IN IP4 192.0.2.50', 's=-', 'c=IN IP4 192.0.2.50', 't=0 0', mLine, ...attributes));
  }
  function ourKeys(o: SessionDescription): SdesCrypto[] {
    return cryptoLines(o.media[0]!).map(parsed);
  }

  describe('to our policy-offered offer (RTP/AVP with crypto)', () => {
    const ours = createOffer(LOCAL);
    const [our80, our32] = ourKeys(ours);

    it('takes SRTP when the answer echoes tag 1: our tag-1 key to encrypt, theirs to decrypt', () => {
      const result = acceptAnswer(ours, remoteAnswer('m=audio 6000 RTP/AVP 0', `a=crypto:1 ${S80} inline:${KEY_A}`));
      if (!result.ok) throw new Error(result.reason);
      expect(result.audio.srtp?.suite).toBe(S80);
      expect(keySalt(result.audio.srtp!.local)).toBe(keySalt(our80!));
      expect(keySalt(result.audio.srtp!.remote)).toBe(KEY_A);
    });

    it('takes AES_CM_128_HMAC_SHA1_32 when the answer echoes tag 2', () => {
      const result = acceptAnswer(ours, remoteAnswer('m=audio 6000 RTP/AVP 0', `a=crypto:2 ${S32} inline:${KEY_B}`));
      expect(result.ok && [result.audio.srtp?.suite, keySalt(result.audio.srtp!.local)]).toEqual([S32, keySalt(our32!)]);
    });

    it('is plain RTP when the answer has no a=crypto (RFC 8643: the peer declined SRTP)', () => {
      const result = acceptAnswer(ours, remoteAnswer('m=audio 6000 RTP/AVP 0'));
      expect(result.ok && result.audio.srtp).toBeUndefined();
      expect(result.ok).toBe(true);
    });

    it('is plain RTP when the answer\'s a=crypto has a tag we never offered', () => {
      const result = acceptAnswer(ours, remoteAnswer('m=audio 6000 RTP/AVP 0', `a=crypto:9 ${S80} inline:${KEY_A}`));
      expect(result.ok && result.audio.srtp).toBeUndefined();
      expect(result.ok).toBe(true);
    });

    it('fails when the answer echoes our tag with another suite', () => {
      const result = acceptAnswer(ours, remoteAnswer('m=audio 6000 RTP/AVP 0', `a=crypto:1 ${S32} inline:${KEY_A}`));
      expect(!result.ok && result.reason).toMatch(/suite/);
    });

    it('fails when the answer echoes our tag with a key we cannot use (RFC 8643: key management failed)', () => {
      const result = acceptAnswer(ours, remoteAnswer('m=audio 6000 RTP/AVP 0', `a=crypto:1 ${S80} inline:c2hvcnQ=`));
      expect(!result.ok && result.reason).toMatch(/tag 1 is unusable/);
    });

    it('fails when the answer switches the transport to RTP/SAVP', () => {
      const result = acceptAnswer(ours, remoteAnswer('m=audio 6000 RTP/SAVP 0', `a=crypto:1 ${S80} inline:${KEY_A}`));
      expect(!result.ok && result.reason).toMatch(/RTP\/SAVP/);
    });
  });

  describe('to our policy-required offer (RTP/SAVP)', () => {
    const ours = createOffer(local('required'));

    it('takes SRTP from an RTP/SAVP answer with our tag', () => {
      const result = acceptAnswer(ours, remoteAnswer('m=audio 6000 RTP/SAVP 8', `a=crypto:1 ${S80} inline:${KEY_A}`, 'a=sendonly'));
      expect(result.ok && [result.audio.codec, result.audio.srtp?.suite, result.audio.onHold]).toEqual(['PCMA', S80, true]);
    });

    it('fails an RTP/SAVP answer without a=crypto', () => {
      const result = acceptAnswer(ours, remoteAnswer('m=audio 6000 RTP/SAVP 0'));
      expect(!result.ok && result.reason).toMatch(/required SRTP/);
    });

    it('fails a plain RTP/AVP answer', () => {
      const result = acceptAnswer(ours, remoteAnswer('m=audio 6000 RTP/AVP 0'));
      expect(!result.ok && result.reason).toMatch(/RTP\/AVP/);
    });
  });

  it('ignores a=crypto in an answer to our policy-off offer', () => {
    const result = acceptAnswer(createOffer(local('off')), remoteAnswer('m=audio 6000 RTP/AVP 0', `a=crypto:1 ${S80} inline:${KEY_A}`));
    expect(result.ok && result.audio.srtp).toBeUndefined();
    expect(result.ok).toBe(true);
  });

  const exchanges: Array<[SrtpPolicy, SrtpPolicy, string, string | undefined]> = [
    ['offered', 'offered', 'RTP/AVP', S80],
    ['required', 'offered', 'RTP/SAVP', S80],
    ['offered', 'required', 'RTP/AVP', S80],
    ['offered', 'off', 'RTP/AVP', undefined],
  ];
  for (const [offerer, answerer, proto, suite] of exchanges) {
    it(`agrees end to end (offerer ${offerer}, answerer ${answerer}): ${suite ?? 'plain RTP'}, each side decrypting with the other's key`, () => {
      const ours = createOffer(local(offerer));
      const theirs = answerOffer(parseSdp(serializeSdp(ours)), { address: '192.0.2.77', port: 31000, codecs: ['PCMU'], sessionId: '1', sessionVersion: 1, srtp: answerer });
      if (!theirs.ok) throw new Error(theirs.warning);
      const result = acceptAnswer(ours, parseSdp(serializeSdp(theirs.answer)));
      if (!result.ok) throw new Error(result.reason);
      expect([theirs.answer.media[0]!.proto, result.audio.srtp?.suite, theirs.audio.srtp?.suite]).toEqual([proto, suite, suite]);
      if (suite) {
        expect(keySalt(result.audio.srtp!.local)).toBe(keySalt(theirs.audio.srtp!.remote));
        expect(keySalt(result.audio.srtp!.remote)).toBe(keySalt(theirs.audio.srtp!.local));
      }
    });
  }

  it('fails end to end when we require SRTP and the peer has it off (the peer refuses our RTP/SAVP)', () => {
    const ours = createOffer(local('required'));
    const theirs = answerOffer(parseSdp(serializeSdp(ours)), { address: '192.0.2.77', port: 31000, codecs: ['PCMU'], sessionId: '1', sessionVersion: 1, srtp: 'off' });
    expect(theirs).toEqual({ ok: false, status: 488, warning: 'Incompatible transport protocol' });
  });
});
