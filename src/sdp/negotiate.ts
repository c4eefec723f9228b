/**
 * SDP offer/answer (RFC 3264) for vmpilot's one G.711 audio stream.
 *
 * answerOffer: the PBX offers in its INVITE (or re-INVITE); we answer in the 200 OK or send 488.
 * createOffer + acceptAnswer: the PBX sent an offerless INVITE; we offer in the 200 OK, it answers in ACK.
 * vmpilot accepts exactly one audio stream and rejects every other one. SDES-keyed SRTP (RFC 4568) follows
 * LocalMediaConfig.srtp; the crypto rules live in srtp-negotiation.ts. It does not do DTLS-SRTP, RTCP
 * multiplexing, multicast, or RFC 5939 capability negotiation.
 */
import {
  OUR_TELEPHONE_EVENT_FMTP,
  OUR_TELEPHONE_EVENT_PT,
  STATIC_PT,
  addrTypeOf,
  combineDirections,
  connectionHost,
  declaredDirection,
  effectiveConnection,
  fmtpOf,
  g711Of,
  isHoldAddress,
  isTelephoneEvent8k,
  reverseDirection,
  rtcpPortOf,
  rtpMaps,
  rtpProfileKind,
  type RtpMap,
} from './media-view.js';
import {
  DEFAULT_SRTP_POLICY,
  SRTP_WARNING,
  acceptStreamCrypto,
  answerCryptoAttribute,
  answerStreamCrypto,
  offerCryptoAttributes,
  profileAllowed,
} from './srtp-negotiation.js';
import type {
  AnswerResult,
  Codec,
  Direction,
  LocalMediaConfig,
  NegotiatedAudio,
  NegotiatedSrtp,
  SdpAttribute,
  SdpConnection,
  SdpMedia,
  SessionDescription,
} from './types.js';

/** Warning texts for the 488 (RFC 3261 §20.43 warn-text wording). */
export const WARNING = {
  incompatibleMedia: 'Incompatible media format',
  incompatibleTransport: 'Incompatible transport protocol',
  incompatibleAddress: 'Incompatible network address formats',
  noConnection: 'No connection address for the audio stream',
  srtpRequired: SRTP_WARNING.required,
  noCryptoSuite: SRTP_WARNING.noCryptoSuite,
} as const;

const DEFAULT_USERNAME = 'vmpilot';
const SESSION_NAME = 'vmpilot';
const PTIME_MS = 20;
const BOTH_LAWS: readonly Codec[] = ['PCMU', 'PCMA'];

/** The G.711 and telephone-event formats chosen from one offered m-line. */
interface FormatChoice {
  codec: Codec;
  payloadType: number;
  telephoneEvent?: number;
}

/**
 * Answers an offer (RFC 3264 §6): accepts the first usable audio stream and rejects the others, or 488.
 * A stream is usable when it has a G.711 law we allow, an address we can reach, and, under the SRTP policy,
 * an acceptable protection: see srtp-negotiation.ts.
 */
export function answerOffer(offer: SessionDescription, local: LocalMediaConfig): AnswerResult {
  const allowed = new Set<Codec>(local.codecs.length > 0 ? local.codecs : BOTH_LAWS);
  const ourAddrType = addrTypeOf(local.address);
  const policy = local.srtp ?? DEFAULT_SRTP_POLICY;
  // The most specific reason a candidate stream failed, reported if none succeeds.
  let warning: string = WARNING.incompatibleMedia;
  let detail: string | undefined;

  for (let index = 0; index < offer.media.length; index++) {
    const media = offer.media[index]!;
    // RFC 3264 §6: a stream offered with port zero is already disabled; it cannot be accepted.
    if (media.type.toLowerCase() !== 'audio' || media.port === 0) continue;
    const kind = rtpProfileKind(media.proto);
    if (kind === undefined || !profileAllowed(kind, policy)) {
      if (warning === WARNING.incompatibleMedia) warning = WARNING.incompatibleTransport;
      continue;
    }
    const choice = chooseFormats(media, allowed);
    if (!choice) continue;
    const connection = effectiveConnection(offer, media);
    if (!connection) {
      warning = WARNING.noConnection;
      detail = undefined;
      continue;
    }
    const host = connectionHost(connection);
    if (!isHoldAddress(host) && connection.addrType.toUpperCase() !== ourAddrType) {
      warning = WARNING.incompatibleAddress;
      detail = undefined;
      continue;
    }
    // Last, so that a key is made only for the stream we accept.
    const crypto = answerStreamCrypto(media, kind, policy, local.srtpLocalKey);
    if (!crypto.ok) {
      warning = crypto.warning;
      detail = crypto.detail;
      continue;
    }

    const remoteDirection = declaredDirection(offer, media);
    // RFC 3264 §6.1: "If a stream is offered as sendonly, the corresponding stream MUST be marked as recvonly
    // or inactive in the answer. If a media stream is listed as recvonly in the offer, the answer MUST be
    // marked as sendonly or inactive ... If an offered media stream is listed as inactive, it MUST be
    // marked as inactive in the answer." A sendrecv offer gets sendrecv.
    const localDirection = reverseDirection(remoteDirection);
    const answer = answerSession(offer, local, ourAddrType);
    answer.media = offer.media.map((m, i) =>
      i === index ? acceptedMedia(media, choice, local.port, localDirection, crypto.srtp) : rejectedMedia(m),
    );
    const audio: NegotiatedAudio = {
      ...choice,
      remoteAddress: host,
      remotePort: media.port,
      remoteDirection,
      localDirection,
      onHold: isOnHold(remoteDirection, host),
      ptime: PTIME_MS,
      remoteRtcpPort: rtcpPortOf(media),
    };
    if (crypto.srtp) audio.srtp = crypto.srtp;
    return { ok: true, answer, audio };
  }
  return detail === undefined ? { ok: false, status: 488, warning } : { ok: false, status: 488, warning, detail };
}

/**
 * Our offer for an offerless INVITE (RFC 3264 §5): one sendrecv audio stream, G.711 in our order, DTMF.
 * SRTP policy 'off': plain RTP/AVP. 'offered': RTP/AVP with a=crypto for both suites (RFC 8643 OSRTP), so a
 * peer without SRTP still answers plain RTP. 'required': RTP/SAVP with the same a=crypto lines.
 */
export function createOffer(local: LocalMediaConfig): SessionDescription {
  const codecs = [...new Set(local.codecs)];
  if (codecs.length === 0) throw new TypeError('createOffer needs at least one codec');
  const policy = local.srtp ?? DEFAULT_SRTP_POLICY;
  const addrType = addrTypeOf(local.address);
  const attributes: SdpAttribute[] = codecs.map((c) => rtpmap(STATIC_PT[c], c));
  attributes.push(rtpmap(OUR_TELEPHONE_EVENT_PT, 'telephone-event'));
  attributes.push({ name: 'fmtp', value: `${OUR_TELEPHONE_EVENT_PT} ${OUR_TELEPHONE_EVENT_FMTP}` });
  if (policy !== 'off') attributes.push(...offerCryptoAttributes(local.srtpLocalKey));
  attributes.push({ name: 'ptime', value: String(PTIME_MS) }, { name: 'sendrecv' });
  const sdp = localSession(local, addrType, ['0 0']);
  sdp.media = [
    {
      type: 'audio',
      port: local.port,
      proto: policy === 'required' ? 'RTP/SAVP' : 'RTP/AVP',
      formats: [...codecs.map((c) => String(STATIC_PT[c])), String(OUR_TELEPHONE_EVENT_PT)],
      attributes,
      bandwidths: [],
    },
  ];
  return sdp;
}

/**
 * Checks the remote's answer to our offer (RFC 3264 §6, seen from the offerer) and reads the result. The
 * SRTP policy and our keys are read back from our offer (see acceptStreamCrypto), so nothing else is needed.
 */
export function acceptAnswer(
  offer: SessionDescription,
  answer: SessionDescription,
): { ok: true; audio: NegotiatedAudio } | { ok: false; reason: string } {
  // RFC 3264 §6: "The answer MUST contain exactly the same number of "m=" lines as the offer."
  if (answer.media.length !== offer.media.length) {
    return { ok: false, reason: `answer has ${answer.media.length} m= lines, offer had ${offer.media.length}` };
  }
  const index = offer.media.findIndex(
    (m) => m.type.toLowerCase() === 'audio' && m.port !== 0 && rtpProfileKind(m.proto) !== undefined && chooseFormats(m, new Set(BOTH_LAWS)),
  );
  if (index < 0) return { ok: false, reason: 'offer has no usable audio stream' };
  const ours = offer.media[index]!;
  const theirs = answer.media[index]!;
  if (theirs.type.toLowerCase() !== 'audio') return { ok: false, reason: `answer m= line ${index + 1} is not audio` };
  // RFC 3264 §6: "To reject an offered stream, the port number in the corresponding stream in the answer
  // MUST be set to zero."
  if (theirs.port === 0) return { ok: false, reason: 'audio stream rejected (port 0)' };
  // RFC 3264 §6 answers in the offer's transport; plain RTP for SRTP (or back) cannot be keyed as we offered.
  if (rtpProfileKind(theirs.proto) !== rtpProfileKind(ours.proto)) return { ok: false, reason: `answer uses transport ${theirs.proto}` };

  const choice = chooseAnswered(ours, theirs);
  if (!choice) return { ok: false, reason: 'answer has no G.711 codec that was offered' };
  const connection = effectiveConnection(answer, theirs);
  if (!connection) return { ok: false, reason: 'answer has no connection address' };
  const crypto = acceptStreamCrypto(ours, theirs);
  if (!crypto.ok) return crypto;
  const host = connectionHost(connection);
  const remoteDirection = declaredDirection(answer, theirs);
  const audio: NegotiatedAudio = {
    ...choice,
    remoteAddress: host,
    remotePort: theirs.port,
    remoteDirection,
    localDirection: combineDirections(declaredDirection(offer, ours), remoteDirection),
    onHold: isOnHold(remoteDirection, host),
    ptime: PTIME_MS,
    remoteRtcpPort: rtcpPortOf(theirs),
  };
  if (crypto.srtp) audio.srtp = crypto.srtp;
  return { ok: true, audio };
}

/**
 * The offerer's first G.711 law we allow (RFC 3264 §6.1: the answerer uses the offerer's payload type
 * numbers), and telephone-event/8000 when offered.
 */
function chooseFormats(media: SdpMedia, allowed: ReadonlySet<Codec>): FormatChoice | undefined {
  const maps = rtpMaps(media);
  const choice = firstG711(media.formats, maps, undefined, allowed);
  if (!choice) return undefined;
  const te = media.formats.find((f) => isTelephoneEvent8k(f, maps));
  if (te !== undefined) choice.telephoneEvent = Number(te);
  return choice;
}

/** The answer's first G.711 law that we offered; PT names resolve by the answer's rtpmap, then ours. */
function chooseAnswered(ours: SdpMedia, theirs: SdpMedia): FormatChoice | undefined {
  const ourMaps = rtpMaps(ours);
  const offered = new Set<Codec>();
  for (const f of ours.formats) {
    const codec = g711Of(f, ourMaps);
    if (codec) offered.add(codec);
  }
  const theirMaps = rtpMaps(theirs);
  const choice = firstG711(theirs.formats, theirMaps, ourMaps, offered);
  if (!choice) return undefined;
  const weOfferedTe = ours.formats.some((f) => isTelephoneEvent8k(f, ourMaps));
  const te = theirs.formats.find((f) => isTelephoneEvent8k(f, theirMaps, ourMaps));
  if (weOfferedTe && te !== undefined) choice.telephoneEvent = Number(te);
  return choice;
}

function firstG711(
  formats: readonly string[],
  maps: ReadonlyMap<number, RtpMap>,
  fallback: ReadonlyMap<number, RtpMap> | undefined,
  allowed: ReadonlySet<Codec>,
): FormatChoice | undefined {
  for (const f of formats) {
    const codec = g711Of(f, maps, fallback);
    if (codec && allowed.has(codec)) return { codec, payloadType: Number(f) };
  }
  return undefined;
}

/** RFC 3264 §8.4 and RFC 2543: hold is a=sendonly / a=inactive, or the old c=0.0.0.0. */
function isOnHold(remoteDirection: Direction, host: string): boolean {
  return remoteDirection === 'sendonly' || remoteDirection === 'inactive' || isHoldAddress(host);
}

function answerSession(offer: SessionDescription, local: LocalMediaConfig, addrType: 'IP4' | 'IP6'): SessionDescription {
  // RFC 3264 §6: "The "t=" line in the answer MUST equal that of the offer."
  return localSession(local, addrType, offer.timing.length > 0 ? [...offer.timing] : ['0 0']);
}

function localSession(local: LocalMediaConfig, addrType: 'IP4' | 'IP6', timing: string[]): SessionDescription {
  const connection: SdpConnection = { netType: 'IN', addrType, address: local.address };
  return {
    version: 0,
    origin: {
      username: local.username ?? DEFAULT_USERNAME,
      sessionId: local.sessionId,
      sessionVersion: String(local.sessionVersion),
      netType: 'IN',
      addrType,
      address: local.address,
    },
    sessionName: SESSION_NAME,
    connection,
    timing,
    attributes: [],
    bandwidths: [],
    media: [],
    other: [],
  };
}

function acceptedMedia(offered: SdpMedia, choice: FormatChoice, port: number, direction: Direction, srtp?: NegotiatedSrtp): SdpMedia {
  const formats = [String(choice.payloadType)];
  const attributes: SdpAttribute[] = [rtpmap(choice.payloadType, choice.codec)];
  if (choice.telephoneEvent !== undefined) {
    formats.push(String(choice.telephoneEvent));
    attributes.push(rtpmap(choice.telephoneEvent, 'telephone-event'));
    // RFC 4733 §7.1.1: without fmtp the events are 0-15; we echo the offerer's list, which we can receive.
    const fmtp = fmtpOf(offered, choice.telephoneEvent);
    if (fmtp) attributes.push({ name: 'fmtp', value: `${choice.telephoneEvent} ${fmtp}` });
  }
  // RFC 4568 §7.1.2: exactly one crypto attribute, with the accepted offer's tag and suite and our key. The
  // profile stays the offer's: RTP/SAVP, or RTP/AVP for an RFC 8643 OSRTP offer.
  if (srtp) attributes.push(answerCryptoAttribute(srtp));
  attributes.push({ name: 'ptime', value: String(PTIME_MS) }, { name: direction });
  return { type: 'audio', port, proto: offered.proto, formats, attributes, bandwidths: [] };
}

// RFC 3264 §6: "To reject an offered stream, the port number in the corresponding stream in the answer MUST
// be set to zero. Any media formats listed are ignored. At least one MUST be present, as specified by SDP."
// No attributes are copied: in particular no a=crypto, so no key material goes out for a stream without media.
function rejectedMedia(offered: SdpMedia): SdpMedia {
  const formats = offered.formats.length > 0 ? [...offered.formats] : ['0'];
  return { type: offered.type, port: 0, proto: offered.proto, formats, attributes: [], bandwidths: [] };
}

function rtpmap(payloadType: number, encoding: string): SdpAttribute {
  return { name: 'rtpmap', value: `${payloadType} ${encoding}/8000` };
}
