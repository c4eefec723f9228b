/**
 * SDES-keyed SRTP in offer/answer (RFC 4568 §7.1), under the per-PBX SrtpPolicy: which a=crypto of an
 * offered stream we take and what key we answer with; the a=crypto lines of our own offer; what the
 * a=crypto of an answer to our offer means.
 *
 * Pure functions over the parsed SDP model; parsing, choosing and making keys is media/srtp/sdes.ts. Nothing
 * here throws on what a peer sent. Not here: the SRTP contexts (media/srtp/context.ts), DTLS-SRTP, MIKEY,
 * RFC 5939 capability negotiation (a=tcap/a=pcfg), several master keys in one a=crypto line, and a=crypto at
 * session level (RFC 4568 defines it for media level only, so it is ignored).
 */
import type { SrtpSuite } from '../media/srtp/context.js';
import { chooseCrypto, createCrypto, formatCrypto, parseCrypto, type SdesCrypto } from '../media/srtp/sdes.js';
import { cryptoValues, rtpProfileKind, type RtpProfileKind } from './media-view.js';
import type { NegotiatedSrtp, SdpAttribute, SdpMedia, SrtpPolicy } from './types.js';

/** The policy when LocalMediaConfig.srtp is absent. */
export const DEFAULT_SRTP_POLICY: SrtpPolicy = 'offered';

/** Warning texts for a 488 caused by SRTP (RFC 3261 §20.43 warn-text). */
export const SRTP_WARNING = {
  /** Policy 'required' and the stream offers no a=crypto (plain RTP only). */
  required: 'SRTP required',
  /** The stream has a=crypto lines but none we can honour (suite, key, lifetime, session parameters). */
  noCryptoSuite: 'No acceptable crypto suite',
} as const;

/**
 * The crypto attributes our offers carry, in our order of preference: RFC 4568 §7.1.1 lets the offerer list
 * several, each with its own tag, the preferred first. The 80-bit tag first; the 32-bit one for PBXs and
 * phones that only do _32.
 */
export const OFFERED_CRYPTO: readonly { readonly tag: number; readonly suite: SrtpSuite }[] = [
  { tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80' },
  { tag: 2, suite: 'AES_CM_128_HMAC_SHA1_32' },
];

/** The SRTP outcome for one stream: plain RTP (no srtp), SRTP with keys, or a refusal. */
export type StreamCrypto =
  | { readonly ok: true; readonly srtp?: NegotiatedSrtp }
  | { readonly ok: false; readonly warning: string; readonly detail: string };

/** Whether the policy lets us use a stream of this RTP profile at all (RTP/SAVP needs SRTP). */
export function profileAllowed(kind: RtpProfileKind, policy: SrtpPolicy): boolean {
  return kind === 'plain' || policy !== 'off';
}

/**
 * Answerer side: plain RTP or SRTP for the offered stream we are about to accept, with our key for the answer.
 * The caller has already checked profileAllowed (an RTP/SAVP stream under policy 'off' never gets here).
 */
export function answerStreamCrypto(
  offered: SdpMedia,
  kind: RtpProfileKind,
  policy: SrtpPolicy,
  previousLocalKey?: SdesCrypto,
): StreamCrypto {
  const lines = cryptoValues(offered);
  if (kind === 'plain') {
    // a=crypto on RTP/AVP is not RFC 4568 (it defines the attribute for the SRTP profiles); it is the RFC 8643
    // OSRTP offer ("best effort SRTP"). Under 'off' we answer it as the plain RTP it also is.
    if (policy === 'off') return { ok: true };
    if (lines.length === 0) {
      if (policy === 'required') return refuse(SRTP_WARNING.required, `${offered.proto} stream without a=crypto`);
      return { ok: true };
    }
  }
  // RFC 4568 §7.1.2: "If the answerer cannot find any valid crypto attributes it supports, or if its
  // configured policy prohibits any cryptographic key parameter (e.g., key length) or cryptographic session
  // parameter (e.g., KDR, FEC_ORDER), it MUST reject the media stream". chooseCrypto takes the first line we
  // can honour, i.e. the offerer's preference (§7.1.1: offers list crypto attributes in preference order).
  const { chosen, rejected } = chooseCrypto(lines);
  if (chosen) return { ok: true, srtp: { suite: chosen.suite, remote: chosen, local: ourKey(chosen.tag, chosen.suite, previousLocalKey) } };
  const detail = lines.length === 0 ? `${offered.proto} stream without a=crypto (only SDES keying is supported)` : rejected.map((r) => r.reason).join('; ');
  // RFC 8643 §3.2 (OSRTP): an answerer that does not take the offered SRTP answers "in the usual manner
  // without containing any SRTP keying attributes, and RTP media is used for this session".
  if (kind === 'plain' && policy === 'offered') return { ok: true };
  return refuse(SRTP_WARNING.noCryptoSuite, detail);
}

/**
 * Our key for the answer. RFC 4568 §7.1.2: the crypto attribute in the answer carries the tag and
 * crypto-suite of the offer's accepted attribute, and the key(s) the answerer will use for the stream — our
 * own key, never the offerer's (each direction is protected with its sender's key, §6.1).
 *
 * RFC 4568 §7.1.4 lets a new offer/answer in the dialog keep the crypto context: the key of the previous
 * exchange is reused (with this exchange's tag) when the suite is unchanged, so a re-INVITE for hold does
 * not re-key a running stream. Any other suite gets a fresh random key.
 */
function ourKey(tag: number, suite: SrtpSuite, previous: SdesCrypto | undefined): SdesCrypto {
  if (previous && previous.suite === suite) {
    return { tag, suite, masterKey: previous.masterKey, masterSalt: previous.masterSalt, sessionParams: [] };
  }
  return createCrypto(tag, suite);
}

/** The a=crypto attributes of our offer: OFFERED_CRYPTO, each with our key (reused per ourKey's rule). */
export function offerCryptoAttributes(previousLocalKey?: SdesCrypto): SdpAttribute[] {
  return OFFERED_CRYPTO.map(({ tag, suite }) => ({ name: 'crypto', value: formatCrypto(ourKey(tag, suite, previousLocalKey)) }));
}

/** The a=crypto attribute of our answer for a stream negotiated as SRTP. */
export function answerCryptoAttribute(srtp: NegotiatedSrtp): SdpAttribute {
  return { name: 'crypto', value: formatCrypto(srtp.local) };
}

/**
 * Offerer side: what the answer's a=crypto means for the stream we offered (RFC 4568 §7.1.3). The policy we
 * offered under is read back from our own offer: no a=crypto = 'off' (any crypto in the answer is ignored),
 * RTP/AVP with a=crypto = 'offered', RTP/SAVP = 'required'. Our keys are read back from it too.
 */
export function acceptStreamCrypto(
  ours: SdpMedia,
  theirs: SdpMedia,
): { readonly ok: true; readonly srtp?: NegotiatedSrtp } | { readonly ok: false; readonly reason: string } {
  const offered = new Map<number, SdesCrypto>();
  for (const value of cryptoValues(ours)) {
    const parsed = parseCrypto(value);
    if (parsed.ok) offered.set(parsed.crypto.tag, parsed.crypto);
  }
  if (offered.size === 0) return { ok: true };
  const secure = rtpProfileKind(ours.proto) === 'secure';

  // RFC 4568 §7.1.3: the offerer checks that the answer echoes one of the offered crypto-suites with its
  // tag, in exactly one crypto attribute. A line with a tag we never offered is not an answer to us and is
  // ignored; a line with our tag that we cannot use means the peer will send SRTP we cannot read, and RFC 8643
  // §3.2 says then "If the SRTP key management fails for any reason, the media session MUST fail."
  for (const value of cryptoValues(theirs)) {
    const tag = /^\s*([0-9]{1,9})\s/.exec(value);
    const mine = tag ? offered.get(Number(tag[1])) : undefined;
    if (!mine) continue;
    const parsed = parseCrypto(value);
    if (!parsed.ok) return { ok: false, reason: `answer a=crypto tag ${mine.tag} is unusable: ${parsed.reason}` };
    if (parsed.crypto.suite !== mine.suite) {
      return { ok: false, reason: `answer a=crypto tag ${mine.tag} has suite ${parsed.crypto.suite}, we offered ${mine.suite}` };
    }
    return { ok: true, srtp: { suite: mine.suite, remote: parsed.crypto, local: mine } };
  }
  // RFC 8643 §3.2, seen from the offerer: an answer to an OSRTP offer "without containing any SRTP keying
  // attributes" means "RTP media is used for this session".
  if (!secure) return { ok: true };
  return { ok: false, reason: 'answer has no a=crypto with a tag we offered, and we required SRTP' };
}

function refuse(warning: string, detail: string): StreamCrypto {
  return { ok: false, warning, detail };
}
