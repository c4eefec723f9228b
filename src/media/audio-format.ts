/**
 * The one audio format vmpilot speaks on the wire: G.711 at 8 kHz, 20 ms packets (RFC 3551 §4.5.14, and the
 * ptime our SDP asks for). Every media module takes its rates and frame sizes from here.
 */

/** Samples per second, and the RTP timestamp clock rate for PCMU/PCMA. */
export const SAMPLE_RATE = 8000;
/** Milliseconds of audio in one packet. */
export const FRAME_MS = 20;
/** Samples (and G.711 bytes) in one 20 ms packet. */
export const FRAME_SAMPLES = (SAMPLE_RATE * FRAME_MS) / 1000;
