/**
 * Answering a new offer inside an established dialog (re-INVITE or UPDATE: hold, resume, a new address or
 * law), for either leg of a call. RFC 3264 §8: the answer takes the next o= version — the caller passes it in
 * `local` and keeps it only when an answer is sent (a refused re-offer, 488, sends no SDP).
 */
import type { OfferAnswer } from '../sip/invite-session.js';
import { parseSdp, SdpError } from '../sdp/parse.js';
import { serializeSdp } from '../sdp/serialize.js';
import { answerOffer } from '../sdp/negotiate.js';
import type { LocalMediaConfig, NegotiatedAudio } from '../sdp/types.js';
import { sdpWarning } from './sdp-warning.js';

/** The reply for the dialog, and the new media when it was accepted. */
export function answerReoffer(sdp: Buffer, local: LocalMediaConfig): { reply: OfferAnswer; audio?: NegotiatedAudio } {
  let offer;
  try {
    offer = parseSdp(sdp.toString('utf8'));
  } catch (err) {
    return { reply: { ok: false, status: 488, warning: sdpWarning(err instanceof SdpError ? err.message : 'Malformed SDP') } };
  }
  const result = answerOffer(offer, local);
  if (!result.ok) return { reply: { ok: false, status: 488, warning: sdpWarning(result.warning) } };
  return { reply: { ok: true, answer: Buffer.from(serializeSdp(result.answer)) }, audio: result.audio };
}
