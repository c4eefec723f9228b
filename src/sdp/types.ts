/**
 * The SDP model (RFC 4566 §5) and the offer/answer types (RFC 3264) the rest of vmpilot codes against.
 *
 * Values are kept as text where vmpilot does not interpret them (b=, t=, unknown lines), so that a parsed
 * description serializes back to what was received. Nothing here parses or negotiates: see parse.ts,
 * serialize.ts and negotiate.ts.
 */
import type { SrtpSuite } from '../media/srtp/context.js';
import type { SdesCrypto } from '../media/srtp/sdes.js';

/** One c= line (RFC 4566 §5.7). */
export interface SdpConnection {
  /** Always "IN" in practice. */
  netType: string;
  /** IP4 | IP6 (other values are kept as received). */
  addrType: string;
  /** The connection address as written, including any /ttl or /count suffix of a multicast address. */
  address: string;
}

/** One a= line (RFC 4566 §5.13): `a=name` (a property) or `a=name:value`. */
export interface SdpAttribute {
  name: string;
  /** undefined for a property attribute such as a=sendrecv; '' for `a=name:` with nothing after the colon. */
  value?: string;
}

/** One media description: an m= line and the lines up to the next m= (RFC 4566 §5.14). */
export interface SdpMedia {
  /** audio, video, text, application, message, image ... as received. */
  type: string;
  /** Transport port; 0 marks a rejected or disabled stream (RFC 3264 §6). */
  port: number;
  /** The n of `port/n`, when present. */
  portCount?: number;
  /** RTP/AVP, RTP/AVPF, RTP/SAVP, UDP/TLS/RTP/SAVPF, udptl ... as received. */
  proto: string;
  /** Format list; for RTP the payload type numbers, as text. */
  formats: string[];
  /** The first media-level c= line (it wins over the session-level one). */
  connection?: SdpConnection;
  attributes: SdpAttribute[];
  /** Values of the media-level b= lines, e.g. "AS:64", "TIAS:64000". */
  bandwidths: string[];
  /** Other media-level lines kept verbatim (i=, k=, further c= lines, unknown letters). */
  other?: string[];
}

/** One session description (RFC 4566 §5). */
export interface SessionDescription {
  /** v= (always 0). */
  version: number;
  /** o= (RFC 4566 §5.2). sessionId and sessionVersion are kept as text: they may exceed 2^53. */
  origin: { username: string; sessionId: string; sessionVersion: string; netType: string; addrType: string; address: string };
  /** s=; '' when the line was missing or blank (tolerated; serialized as "s=-"). */
  sessionName: string;
  /** The first session-level c= line. */
  connection?: SdpConnection;
  /** Values of the t= lines, e.g. "0 0". */
  timing: string[];
  attributes: SdpAttribute[];
  /** Values of the session-level b= lines, e.g. "AS:64". */
  bandwidths: string[];
  media: SdpMedia[];
  /** Session-level lines kept verbatim: i=, u=, e=, p=, r=, z=, k=, further c= lines, unknown letters. */
  other: string[];
}

/** RFC 3264 §5.1 stream direction, from our or the remote side's point of view as the field says. */
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** The two G.711 laws vmpilot speaks: μ-law (static PT 0) and A-law (static PT 8), RFC 3551 §6. */
export type Codec = 'PCMU' | 'PCMA';

/**
 * Per-PBX SRTP policy for SDES keying (RFC 4568):
 * - 'off': never SRTP. RTP/SAVP streams are unusable; a=crypto on an RTP/AVP stream is ignored.
 * - 'offered': SRTP whenever the peer offers it (RTP/SAVP, or RTP/AVP carrying a=crypto as in RFC 8643
 *   OSRTP), plain RTP otherwise; our own offers are RTP/AVP with a=crypto.
 * - 'required': only SRTP; a stream without a crypto attribute we can use is refused (488).
 */
export type SrtpPolicy = 'off' | 'offered' | 'required';

/** The SRTP keys of a negotiated stream (RFC 4568 §6.1: each side sends with its own key). */
export interface NegotiatedSrtp {
  suite: SrtpSuite;
  /** The peer's key: decrypts what it sends to us. */
  remote: SdesCrypto;
  /** Our key: encrypts what we send. */
  local: SdesCrypto;
}

/** What vmpilot puts in its own offers and answers. */
export interface LocalMediaConfig {
  /** Our RTP address as advertised in c= and o= (an IPv4 or IPv6 literal, never 0.0.0.0). */
  address: string;
  /** Our RTP port (even; RTCP is port+1). */
  port: number;
  /** Codecs we accept, in our preference order (used when WE offer). When answering, the offerer's order
   * decides among these; an empty list means both PCMU and PCMA. */
  codecs: Codec[];
  /** o= session id; constant for the dialog. */
  sessionId: string;
  /** o= session version; the caller MUST raise it for each new offer/answer sent in the dialog. */
  sessionVersion: number;
  /** o= username; default 'vmpilot'. */
  username?: string;
  /** SRTP policy for this PBX; default 'offered'. */
  srtp?: SrtpPolicy;
  /** Our SRTP key from the previous exchange in this dialog, so a re-INVITE keeps the outbound key: reused
   * (with the new tag) when its suite is the one negotiated; default none (a fresh key every time). */
  srtpLocalKey?: SdesCrypto;
}

/** The outcome of one offer/answer exchange for the single audio stream vmpilot uses. */
export interface NegotiatedAudio {
  codec: Codec;
  /** RTP payload type of `codec` in both directions (the offerer's number). */
  payloadType: number;
  /** PT of telephone-event/8000 (RFC 4733) when both sides have it. */
  telephoneEvent?: number;
  /** Where to send RTP: the remote's connection address (media c= over session c=), without /ttl. */
  remoteAddress: string;
  remotePort: number;
  /** The direction the remote declared (media-level a= over session-level a=, default sendrecv). */
  remoteDirection: Direction;
  /** What we may do, from our side: the direction we declared narrowed by the remote's (for an answer we
   * send, exactly the direction in it). sendonly = we only send, recvonly = we only receive. */
  localDirection: Direction;
  /** The remote holds us: it declared sendonly/inactive, or c=0.0.0.0 (RFC 2543 hold). Do not send RTP,
   * whatever localDirection says (with c=0.0.0.0 there is nowhere to send it). */
  onHold: boolean;
  /** Packetization we send and ask for, in ms. */
  ptime: 20;
  /** Where to send RTCP: a=rtcp (RFC 3605) or remotePort + 1. */
  remoteRtcpPort: number;
  /** The SRTP suite and keys when the stream is SRTP; absent means plain RTP. */
  srtp?: NegotiatedSrtp;
}

/** answerOffer's result: an answer to send (200 OK / ACK body) or a 488 to send with a Warning header. */
export type AnswerResult =
  | { ok: true; answer: SessionDescription; audio: NegotiatedAudio }
  | {
      ok: false;
      status: 488;
      /** Text for the Warning header, e.g. 'Incompatible media format', 'SRTP required'. */
      warning: string;
      /** Why, in more words, for the log (e.g. "unsupported crypto-suite AES_256_CM_HMAC_SHA1_80"); not sent. */
      detail?: string;
    };
