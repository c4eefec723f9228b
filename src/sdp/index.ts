/** The SDP layer: parse/serialize (RFC 4566) and offer/answer for G.711 audio (RFC 3264). */
export * from './types.js';
export { SdpError } from './sdp-error.js';
export { parseSdp } from './parse.js';
export { serializeSdp } from './serialize.js';
export { answerOffer, createOffer, acceptAnswer, WARNING } from './negotiate.js';
