/**
 * SDP offers in the shape real PBXs and phones send them, for the SDP unit tests. Each is written in
 * RFC 4566 line order with CRLF endings so that parse → serialize must give back the same text. Addresses
 * are documentation ranges; the line sets follow captures of each product's usual offer.
 */

/** Joins lines with CRLF and ends with CRLF, as on the wire. */
export function sdp(...lines: string[]): string {
  return lines.join('\r\n') + '\r\n';
}

/** Asterisk (chan_pjsip): PCMU first, GSM, telephone-event 101 with flash (0-16). */
export const ASTERISK = sdp(
  'v=0',
  'o=- 1837446226 1837446226 IN IP4 192.0.2.10',
  's=Asterisk',
  'c=IN IP4 192.0.2.10',
  't=0 0',
  'm=audio 17940 RTP/AVP 0 8 3 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:3 GSM/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=maxptime:150',
  'a=sendrecv',
);

/** Mitel MX-ONE style: A-law first (European trunk), G.729, telephone-event 0-15. */
export const MXONE = sdp(
  'v=0',
  'o=MX-ONE 1431655765 1 IN IP4 198.51.100.20',
  's=SIP Call',
  'c=IN IP4 198.51.100.21',
  't=0 0',
  'm=audio 41000 RTP/AVP 8 0 18 101',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:18 G729/8000',
  'a=fmtp:18 annexb=no',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=ptime:20',
  'a=sendrecv',
);

/** Cisco CUCM: session and media b= lines, PCMU with telephone-event 101, no direction attribute. */
export const CISCO = sdp(
  'v=0',
  'o=CiscoSystemsCCM-SIP 2000 1 IN IP4 203.0.113.5',
  's=SIP Call',
  'c=IN IP4 203.0.113.50',
  'b=TIAS:64000',
  'b=AS:64',
  't=0 0',
  'm=audio 24580 RTP/AVP 0 101',
  'b=TIAS:64000',
  'a=ptime:20',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
);

/** Avaya Aura: vendor session attributes, a media-level c= unlike the session one, a=rtcp, PT 127 DTMF. */
export const AVAYA = sdp(
  'v=0',
  'o=- 1 1 IN IP4 192.0.2.30',
  's=-',
  'c=IN IP4 192.0.2.30',
  'b=AS:64',
  't=0 0',
  'a=avf:avc=n prio=n',
  'a=csup:avf-v0',
  'm=audio 2048 RTP/AVP 18 0 8 127',
  'c=IN IP4 192.0.2.31',
  'a=rtpmap:18 G729/8000',
  'a=fmtp:18 annexb=no',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:127 telephone-event/8000',
  'a=fmtp:127 0-15',
  'a=sendrecv',
  'a=rtcp:2049 IN IP4 192.0.2.31',
  'a=ptime:20',
);

/** A video phone (Polycom/Linphone style): video first, then audio. */
export const VIDEO_AND_AUDIO = sdp(
  'v=0',
  'o=- 3912345 3912345 IN IP4 192.0.2.40',
  's=-',
  'c=IN IP4 192.0.2.40',
  't=0 0',
  'm=video 9078 RTP/AVP 96 97',
  'b=AS:384',
  'a=rtpmap:96 H264/90000',
  'a=fmtp:96 profile-level-id=42801F',
  'a=rtpmap:97 VP8/90000',
  'a=sendrecv',
  'm=audio 7078 RTP/AVP 9 0 8 101',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=sendrecv',
);

export const VIDEO_ONLY = sdp(
  'v=0',
  'o=- 55 55 IN IP4 192.0.2.41',
  's=-',
  'c=IN IP4 192.0.2.41',
  't=0 0',
  'm=video 9080 RTP/AVP 96',
  'a=rtpmap:96 H264/90000',
);

/** Only G.729 (static PT 18): nothing vmpilot can decode. */
export const G729_ONLY = sdp(
  'v=0',
  'o=- 77 77 IN IP4 192.0.2.42',
  's=-',
  'c=IN IP4 192.0.2.42',
  't=0 0',
  'm=audio 30000 RTP/AVP 18 101',
  'a=rtpmap:18 G729/8000',
  'a=rtpmap:101 telephone-event/8000',
);

/** RFC 3264 §8.4 hold: a=sendonly (the way RFC 3264 asks for). */
export const HOLD_SENDONLY = sdp(
  'v=0',
  'o=- 1837446226 1837446227 IN IP4 192.0.2.10',
  's=Asterisk',
  'c=IN IP4 192.0.2.10',
  't=0 0',
  'm=audio 17940 RTP/AVP 0 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=sendonly',
);

/** RFC 2543 hold: c=0.0.0.0 and no direction attribute. */
export const HOLD_RFC2543 = sdp(
  'v=0',
  'o=CiscoSystemsCCM-SIP 2000 2 IN IP4 203.0.113.5',
  's=SIP Call',
  'c=IN IP4 0.0.0.0',
  't=0 0',
  'm=audio 24580 RTP/AVP 0 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
);

/** SRTP only (RFC 4568 SDES): RTP/SAVP with a=crypto. */
export const SAVP_ONLY = sdp(
  'v=0',
  'o=- 1 1 IN IP4 192.0.2.30',
  's=-',
  'c=IN IP4 192.0.2.30',
  't=0 0',
  'm=audio 2048 RTP/SAVP 0 8 127',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:127 telephone-event/8000',
  'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4',
  'a=sendrecv',
);

/** An IPv6 offer. */
export const IPV6 = sdp(
  'v=0',
  'o=- 9 9 IN IP6 2001:db8::10',
  's=-',
  'c=IN IP6 2001:db8::10',
  't=0 0',
  'm=audio 5004 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
);
