/**
 * The Warning header for an SDP we refuse (RFC 3261 §20.43): the warn-code that matches the reason the
 * negotiator gave, so a PBX engineer reading a trace sees the standard code, not just our text.
 */
import { WARNING } from '../sdp/negotiate.js';

const CODES: Record<string, number> = {
  [WARNING.incompatibleAddress]: 301, // Incompatible network address formats (IPv4 vs IPv6)
  [WARNING.incompatibleTransport]: 302, // Incompatible transport protocol (SRTP-only offer)
  // A missing c= line has no code of its own: 399 (miscellaneous) via the default below.
  [WARNING.incompatibleMedia]: 305,
};

export function sdpWarning(text: string): string {
  return `${CODES[text] ?? 399} vmpilot "${text.replace(/"/g, "'")}"`;
}
