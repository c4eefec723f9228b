/**
 * SDP offer/answer (RFC 3264) for G.711: answerOffer, createOffer, acceptAnswer.
 *
 * Covers: answers to Asterisk, MX-ONE (A-law first), Cisco (telephone-event 101), Avaya (media c=, a=rtcp,
 * PT 127), video+audio, a second audio stream, dynamic/rtpmap-named G.711; codec choice by the offerer's
 * order within our allowed set; telephone-event PT and fmtp echoed; the answer's shape (m= count and
 * order, port 0 rejections, rtpmap, ptime, direction, o=, c=, t=); directions and both hold styles, at
 * session and media level; 488 for video-only, G.729-only, SRTP-only with SRTP off, no c=, IPv6 vs IPv4;
 * our own offer and the checks on the answer to it; a full createOffer → answerOffer → acceptAnswer exchange.
 * Does not cover: SRTP negotiation (test/unit/sdp-srtp.test.ts), RFC 5939 capability negotiation, multicast
 * streams, the SIP side (who sends 488 and the Warning header), glare and re-INVITE sequencing.
 */
import { describe, expect, it } from 'vitest';
import { parseSdp } from '../../src/sdp/parse.js';
import { serializeSdp } from '../../src/sdp/serialize.js';
import { acceptAnswer, answerOffer, createOffer } from '../../src/sdp/negotiate.js';
import type { LocalMediaConfig, NegotiatedAudio, SessionDescription } from '../../src/sdp/types.js';
import * as offers from './sdp-fixtures.js';
import { sdp } from './sdp-fixtures.js';

const LOCAL: LocalMediaConfig = { address: '192.0.2.200', port: 20000, codecs: ['PCMU', 'PCMA'], sessionId: '4711', sessionVersion: 1 };

function answer(text: string, local: LocalMediaConfig = LOCAL): { answer: SessionDescription; audio: NegotiatedAudio } {
  const result = answerOffer(parseSdp(text), local);
  if (!result.ok) throw new Error(`expected an answer, got 488 "${result.warning}"`);
  return result;
}

/** An offer with the given audio m= line and media attributes, session c= 192.0.2.1. */
function audioOffer(mLine: string, ...attributes: string[]): string {
  return sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', mLine, ...attributes);
}

describe('answerOffer', () => {
  describe('the Asterisk offer (PCMU first, telephone-event 0-16)', () => {
    const { answer: ans, audio } = answer(offers.ASTERISK);

    it('MUST choose the offerer\'s first common codec, PCMU (PT 0)', () => {
      expect([audio.codec, audio.payloadType]).toEqual(['PCMU', 0]);
    });

    it('accepts telephone-event with the offerer\'s PT and echoes its fmtp', () => {
      expect(audio.telephoneEvent).toBe(101);
      expect(ans.media[0]!.attributes).toContainEqual({ name: 'fmtp', value: '101 0-16' });
    });

    it('reads where to send RTP and RTCP (port + 1 without a=rtcp)', () => {
      expect([audio.remoteAddress, audio.remotePort, audio.remoteRtcpPort]).toEqual(['192.0.2.10', 17940, 17941]);
    });

    it('answers exactly: our c=, our port, one codec plus DTMF, rtpmap for each, ptime 20, sendrecv', () => {
      expect(serializeSdp(ans)).toBe(
        sdp(
          'v=0',
          'o=vmpilot 4711 1 IN IP4 192.0.2.200',
          's=vmpilot',
          'c=IN IP4 192.0.2.200',
          't=0 0',
          'm=audio 20000 RTP/AVP 0 101',
          'a=rtpmap:0 PCMU/8000',
          'a=rtpmap:101 telephone-event/8000',
          'a=fmtp:101 0-16',
          'a=ptime:20',
          'a=sendrecv',
        ),
      );
    });

    it('is sendrecv both ways and not on hold', () => {
      expect([audio.remoteDirection, audio.localDirection, audio.onHold, audio.ptime]).toEqual(['sendrecv', 'sendrecv', false, 20]);
    });
  });

  describe('the MX-ONE offer (PCMA first, telephone-event 0-15)', () => {
    it('MUST choose PCMA (PT 8) because the offerer listed it first', () => {
      const { audio, answer: ans } = answer(offers.MXONE);
      expect([audio.codec, audio.payloadType]).toEqual(['PCMA', 8]);
      expect(ans.media[0]!.formats).toEqual(['8', '101']);
      expect(ans.media[0]!.attributes).toContainEqual({ name: 'rtpmap', value: '8 PCMA/8000' });
      expect(ans.media[0]!.attributes).toContainEqual({ name: 'fmtp', value: '101 0-15' });
    });

    it('uses the media address from the session-level c= line', () => {
      expect(answer(offers.MXONE).audio.remoteAddress).toBe('198.51.100.21');
    });

    it('skips PCMA when our config allows only PCMU', () => {
      const { audio } = answer(offers.MXONE, { ...LOCAL, codecs: ['PCMU'] });
      expect([audio.codec, audio.payloadType]).toEqual(['PCMU', 0]);
    });

    it('takes both laws when the config lists no codecs', () => {
      expect(answer(offers.MXONE, { ...LOCAL, codecs: [] }).audio.codec).toBe('PCMA');
    });
  });

  it('answers the Cisco offer (no direction attribute means sendrecv) with PCMU and telephone-event 101', () => {
    const { audio, answer: ans } = answer(offers.CISCO);
    expect([audio.codec, audio.telephoneEvent, audio.remoteAddress, audio.remoteDirection]).toEqual(['PCMU', 101, '203.0.113.50', 'sendrecv']);
    expect(ans.media[0]!.attributes.at(-1)).toEqual({ name: 'sendrecv' });
  });

  describe('the Avaya offer (G.729 first, media-level c=, a=rtcp, DTMF PT 127)', () => {
    const { audio } = answer(offers.AVAYA);
    it('skips G.729 and takes PCMU', () => expect(audio.codec).toBe('PCMU'));
    it('MUST prefer the media-level c= over the session one', () => expect(audio.remoteAddress).toBe('192.0.2.31'));
    it('sends RTCP to the a=rtcp port (RFC 3605)', () => expect(audio.remoteRtcpPort).toBe(2049));
    it('keeps the offerer\'s telephone-event PT 127', () => expect(audio.telephoneEvent).toBe(127));
  });

  describe('an offer with video first, then audio', () => {
    const { answer: ans, audio } = answer(offers.VIDEO_AND_AUDIO);

    it('MUST have the same number of m= lines, in the same order', () => {
      expect(ans.media.map((m) => m.type)).toEqual(['video', 'audio']);
    });

    it('rejects the video stream with port 0 and its formats copied', () => {
      expect(ans.media[0]).toMatchObject({ type: 'video', port: 0, proto: 'RTP/AVP', formats: ['96', '97'], attributes: [] });
    });

    it('accepts the audio stream, finding PCMU by static PT 0 without an rtpmap', () => {
      expect(ans.media[1]!.port).toBe(20000);
      expect([audio.codec, audio.payloadType, audio.remotePort]).toEqual(['PCMU', 0, 7078]);
      expect(ans.media[1]!.attributes).toContainEqual({ name: 'rtpmap', value: '0 PCMU/8000' });
    });

    it('serializes to a body that parses back to the same answer', () => {
      expect(parseSdp(serializeSdp(ans))).toEqual(ans);
    });
  });

  it('accepts only the first usable audio stream and rejects a second one with port 0', () => {
    const text = sdp(...offers.ASTERISK.trimEnd().split('\r\n'), 'm=audio 17942 RTP/AVP 8', 'a=rtpmap:8 PCMA/8000');
    const { answer: ans, audio } = answer(text);
    expect(ans.media.map((m) => [m.port, m.formats])).toEqual([[20000, ['0', '101']], [0, ['8']]]);
    expect(audio.remotePort).toBe(17940);
  });

  it('skips an audio stream with no G.711 and accepts the next audio stream that has it', () => {
    const text = sdp(...offers.G729_ONLY.trimEnd().split('\r\n'), 'm=audio 30002 RTP/AVP 8');
    const { answer: ans, audio } = answer(text);
    expect(ans.media.map((m) => m.port)).toEqual([0, 20000]);
    expect([audio.codec, audio.remotePort]).toEqual(['PCMA', 30002]);
  });

  it('skips an RTP/SAVP stream and accepts the RTP/AVP one after it', () => {
    const text = audioOffer('m=audio 4000 RTP/SAVP 0', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abc').concat('m=audio 4002 RTP/AVP 0\r\n');
    const { answer: ans } = answer(text);
    expect(ans.media.map((m) => [m.port, m.proto])).toEqual([[0, 'RTP/SAVP'], [20000, 'RTP/AVP']]);
  });

  it('does not accept an audio stream offered with port 0', () => {
    const text = audioOffer('m=audio 0 RTP/AVP 0').concat('m=audio 4002 RTP/AVP 8\r\n');
    expect(answer(text).answer.media.map((m) => m.port)).toEqual([0, 20000]);
  });

  it('answers RTP/AVPF with RTP/AVPF', () => {
    expect(answer(audioOffer('m=audio 4000 RTP/AVPF 0')).answer.media[0]!.proto).toBe('RTP/AVPF');
  });

  describe('codec names', () => {
    it('honours a dynamic PT declared as PCMU, case-insensitively, and answers with that PT', () => {
      const { audio, answer: ans } = answer(audioOffer('m=audio 4000 RTP/AVP 96 101', 'a=rtpmap:96 pcmu/8000', 'a=rtpmap:101 Telephone-Event/8000'));
      expect([audio.codec, audio.payloadType, audio.telephoneEvent]).toEqual(['PCMU', 96, 101]);
      expect(ans.media[0]!.attributes.slice(0, 2)).toEqual([
        { name: 'rtpmap', value: '96 PCMU/8000' },
        { name: 'rtpmap', value: '101 telephone-event/8000' },
      ]);
    });

    it('lets an rtpmap override a static PT number (PT 0 declared as PCMA is PCMA)', () => {
      expect(answer(audioOffer('m=audio 4000 RTP/AVP 0', 'a=rtpmap:0 PCMA/8000')).audio.codec).toBe('PCMA');
    });

    it('does not take PCMU at a clock rate other than 8000 Hz', () => {
      const result = answerOffer(parseSdp(audioOffer('m=audio 4000 RTP/AVP 96', 'a=rtpmap:96 PCMU/16000')), LOCAL);
      expect(result).toEqual({ ok: false, status: 488, warning: 'Incompatible media format' });
    });

    it('answers without telephone-event when none is offered', () => {
      const { audio, answer: ans } = answer(audioOffer('m=audio 4000 RTP/AVP 8'));
      expect(audio.telephoneEvent).toBeUndefined();
      expect(ans.media[0]!.formats).toEqual(['8']);
    });

    it('takes telephone-event at 8000 Hz, not at 48000 Hz, and adds no fmtp the offerer did not send', () => {
      const { audio, answer: ans } = answer(
        audioOffer('m=audio 4000 RTP/AVP 0 100 101', 'a=rtpmap:100 telephone-event/48000', 'a=rtpmap:101 telephone-event/8000'),
      );
      expect(audio.telephoneEvent).toBe(101);
      expect(ans.media[0]!.formats).toEqual(['0', '101']);
      expect(ans.media[0]!.attributes.some((a) => a.name === 'fmtp')).toBe(false);
    });
  });

  describe('directions (RFC 3264 §6.1)', () => {
    const cases: Array<[string, string, string, boolean]> = [
      ['sendrecv', 'sendrecv', 'sendrecv', false],
      ['sendonly', 'sendonly', 'recvonly', true],
      ['recvonly', 'recvonly', 'sendonly', false],
      ['inactive', 'inactive', 'inactive', true],
    ];
    for (const [offered, remote, answered, held] of cases) {
      it(`MUST answer a ${offered} offer with ${answered}${held ? ' and mark the call on hold' : ''}`, () => {
        const { audio, answer: ans } = answer(audioOffer('m=audio 4000 RTP/AVP 0', `a=${offered}`));
        expect([audio.remoteDirection, audio.localDirection, audio.onHold]).toEqual([remote, answered, held]);
        expect(ans.media[0]!.attributes).toContainEqual({ name: answered });
      });
    }

    it('MUST use a session-level direction when the media has none', () => {
      const text = sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'a=sendonly', 'm=audio 4000 RTP/AVP 0');
      expect(answer(text).audio.localDirection).toBe('recvonly');
    });

    it('MUST let the media-level direction win over the session-level one', () => {
      const text = sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'a=inactive', 'm=audio 4000 RTP/AVP 0', 'a=sendrecv');
      expect([answer(text).audio.localDirection, answer(text).audio.onHold]).toEqual(['sendrecv', false]);
    });
  });

  describe('hold offers', () => {
    it('treats a=sendonly (RFC 3264 §8.4) as hold and answers recvonly', () => {
      const { audio } = answer(offers.HOLD_SENDONLY);
      expect([audio.onHold, audio.localDirection]).toEqual([true, 'recvonly']);
    });

    it('treats c=0.0.0.0 (RFC 2543) as hold, still answering the declared direction', () => {
      const { audio, answer: ans } = answer(offers.HOLD_RFC2543);
      expect([audio.onHold, audio.remoteAddress, audio.remoteDirection]).toEqual([true, '0.0.0.0', 'sendrecv']);
      expect(ans.connection?.address).toBe('192.0.2.200');
    });

    it('accepts c=0.0.0.0 hold even when we are IPv6', () => {
      expect(answer(offers.HOLD_RFC2543, { ...LOCAL, address: '2001:db8::200' }).audio.onHold).toBe(true);
    });
  });

  describe('488 Not Acceptable Here', () => {
    const cases: Array<[string, string, string]> = [
      ['a video-only offer', offers.VIDEO_ONLY, 'Incompatible media format'],
      ['an offer with only G.729 (PT 18)', offers.G729_ONLY, 'Incompatible media format'],
      ['an offer with no m= lines', sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0'), 'Incompatible media format'],
      ['an offer with no c= at session or media level', sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0', 'm=audio 4000 RTP/AVP 0'), 'No connection address for the audio stream'],
      ['an IPv6 offer when our address is IPv4', offers.IPV6, 'Incompatible network address formats'],
    ];
    for (const [what, text, warning] of cases) {
      it(`MUST reject ${what}`, () => {
        expect(answerOffer(parseSdp(text), LOCAL)).toEqual({ ok: false, status: 488, warning });
      });
    }

    it('MUST reject an RTP/SAVP-only offer when the SRTP policy is off', () => {
      const result = answerOffer(parseSdp(offers.SAVP_ONLY), { ...LOCAL, srtp: 'off' });
      expect(result).toEqual({ ok: false, status: 488, warning: 'Incompatible transport protocol' });
    });

    it('MUST reject an A-law-only offer when our config allows only PCMU', () => {
      const result = answerOffer(parseSdp(audioOffer('m=audio 4000 RTP/AVP 8 101', 'a=rtpmap:101 telephone-event/8000')), { ...LOCAL, codecs: ['PCMU'] });
      expect(result).toEqual({ ok: false, status: 488, warning: 'Incompatible media format' });
    });
  });

  it('answers an IPv6 offer from an IPv6 address with IP6 in o= and c=', () => {
    const { answer: ans, audio } = answer(offers.IPV6, { ...LOCAL, address: '2001:db8::200' });
    expect(ans.origin.addrType).toBe('IP6');
    expect(ans.connection).toEqual({ netType: 'IN', addrType: 'IP6', address: '2001:db8::200' });
    expect(audio.remoteAddress).toBe('2001:db8::10');
  });

  describe('origin and timing', () => {
    it('MUST put the caller-given session version in o=, so each new answer in a dialog can raise it', () => {
      const first = answer(offers.ASTERISK, { ...LOCAL, sessionVersion: 1 }).answer.origin;
      const second = answer(offers.HOLD_SENDONLY, { ...LOCAL, sessionVersion: 2 }).answer.origin;
      expect([first.sessionId, first.sessionVersion, second.sessionId, second.sessionVersion]).toEqual(['4711', '1', '4711', '2']);
    });

    it('uses the configured o= username', () => {
      expect(answer(offers.ASTERISK, { ...LOCAL, username: 'vm1' }).answer.origin.username).toBe('vm1');
    });

    it('MUST copy the offer\'s t= line', () => {
      const text = offers.ASTERISK.replace('t=0 0', 't=3034423619 3042462419');
      expect(answer(text).answer.timing).toEqual(['3034423619 3042462419']);
    });
  });
});

describe('createOffer', () => {
  it('offers one sendrecv RTP/AVP audio stream with our codecs in our order, DTMF 101 0-16 and ptime 20 (SRTP off)', () => {
    const offer = createOffer({ ...LOCAL, codecs: ['PCMA', 'PCMU'], srtp: 'off' });
    expect(serializeSdp(offer)).toBe(
      sdp(
        'v=0',
        'o=vmpilot 4711 1 IN IP4 192.0.2.200',
        's=vmpilot',
        'c=IN IP4 192.0.2.200',
        't=0 0',
        'm=audio 20000 RTP/AVP 8 0 101',
        'a=rtpmap:8 PCMA/8000',
        'a=rtpmap:0 PCMU/8000',
        'a=rtpmap:101 telephone-event/8000',
        'a=fmtp:101 0-16',
        'a=ptime:20',
        'a=sendrecv',
      ),
    );
  });

  it('lists a codec given twice once', () => {
    expect(createOffer({ ...LOCAL, codecs: ['PCMU', 'PCMU'] }).media[0]!.formats).toEqual(['0', '101']);
  });

  it('uses IP6 for an IPv6 address', () => {
    const offer = createOffer({ ...LOCAL, address: '2001:db8::200' });
    expect([offer.origin.addrType, offer.connection?.addrType]).toEqual(['IP6', 'IP6']);
  });

  it('refuses an empty codec list with a TypeError', () => {
    expect(() => createOffer({ ...LOCAL, codecs: [] })).toThrow(TypeError);
  });
});

describe('acceptAnswer', () => {
  const offer = createOffer(LOCAL);
  function remoteAnswer(mLine: string, ...attributes: string[]): SessionDescription {
    return parseSdp(sdp('v=0', 'o=- 9 9 IN IP4 192.0.2.50', 's=-', 'c=IN IP4 192.0.2.50', 't=0 0', mLine, ...attributes));
  }

  it('accepts a PCMA answer with telephone-event and reads address, ports and PTs', () => {
    const result = acceptAnswer(offer, remoteAnswer('m=audio 6000 RTP/AVP 8 101', 'a=rtpmap:101 telephone-event/8000', 'a=rtcp:6005'));
    expect(result).toEqual({
      ok: true,
      audio: {
        codec: 'PCMA',
        payloadType: 8,
        telephoneEvent: 101,
        remoteAddress: '192.0.2.50',
        remotePort: 6000,
        remoteDirection: 'sendrecv',
        localDirection: 'sendrecv',
        onHold: false,
        ptime: 20,
        remoteRtcpPort: 6005,
      },
    });
  });

  it('has no telephone-event when the answer drops it', () => {
    const result = acceptAnswer(offer, remoteAnswer('m=audio 6000 RTP/AVP 0'));
    expect(result.ok && result.audio.telephoneEvent).toBeUndefined();
    expect(result.ok && result.audio.codec).toBe('PCMU');
  });

  it('resolves an answer PT by our rtpmap when the answer omits it', () => {
    const result = acceptAnswer(offer, remoteAnswer('m=audio 6000 RTP/AVP 0 101'));
    expect(result.ok && result.audio.telephoneEvent).toBe(101);
  });

  const directions: Array<[string, string, boolean]> = [
    ['recvonly', 'sendonly', false],
    ['sendonly', 'recvonly', true],
    ['inactive', 'inactive', true],
  ];
  for (const [answered, local, held] of directions) {
    it(`narrows our sendrecv to ${local} when the answer is ${answered}`, () => {
      const result = acceptAnswer(offer, remoteAnswer('m=audio 6000 RTP/AVP 0', `a=${answered}`));
      expect(result.ok && [result.audio.remoteDirection, result.audio.localDirection, result.audio.onHold]).toEqual([answered, local, held]);
    });
  }

  const failures: Array<[string, SessionDescription, RegExp]> = [
    ['rejects the audio stream with port 0', remoteAnswer('m=audio 0 RTP/AVP 0'), /rejected/],
    ['has a different number of m= lines', parseSdp(sdp('v=0', 'o=- 9 9 IN IP4 192.0.2.50', 's=-', 'c=IN IP4 192.0.2.50', 't=0 0')), /0 m= lines, offer had 1/],
    ['answers only G.729', remoteAnswer('m=audio 6000 RTP/AVP 18'), /no G.711 codec/],
    ['has no c= line', parseSdp(sdp('v=0', 'o=- 9 9 IN IP4 192.0.2.50', 's=-', 't=0 0', 'm=audio 6000 RTP/AVP 0')), /no connection address/],
    ['switches to RTP/SAVP', remoteAnswer('m=audio 6000 RTP/SAVP 0'), /RTP\/SAVP/],
    ['puts video where our audio was', remoteAnswer('m=video 6000 RTP/AVP 96'), /not audio/],
  ];
  for (const [what, ans, reason] of failures) {
    it(`fails when the answer ${what}`, () => {
      const result = acceptAnswer(offer, ans);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.reason).toMatch(reason);
    });
  }

  it('fails when the answer picks a codec we did not offer', () => {
    const pcmuOnly = createOffer({ ...LOCAL, codecs: ['PCMU'] });
    const result = acceptAnswer(pcmuOnly, remoteAnswer('m=audio 6000 RTP/AVP 8'));
    expect(result.ok).toBe(false);
  });

  it('agrees with answerOffer on both ends of a full exchange through serialized bodies', () => {
    const ours = createOffer({ ...LOCAL, codecs: ['PCMA', 'PCMU'] });
    const theirs = answerOffer(parseSdp(serializeSdp(ours)), { address: '192.0.2.77', port: 31000, codecs: ['PCMU'], sessionId: '1', sessionVersion: 1 });
    if (!theirs.ok) throw new Error(theirs.warning);
    const result = acceptAnswer(ours, parseSdp(serializeSdp(theirs.answer)));
    if (!result.ok) throw new Error(result.reason);
    expect([result.audio.codec, result.audio.telephoneEvent, result.audio.remoteAddress, result.audio.remotePort]).toEqual(['PCMU', 101, '192.0.2.77', 31000]);
    expect([theirs.audio.codec, theirs.audio.remoteAddress, theirs.audio.remotePort]).toEqual(['PCMU', '192.0.2.200', 20000]);
  });
});
