/**
 * Writes a SessionDescription as an SDP body (RFC 4566 §5): CRLF line ends, lines in the RFC's order.
 *
 * Lines kept verbatim in `other` go back where RFC 4566 §5 places their letter, so a parsed description
 * serializes to the same lines. A description with no t= gets "t=0 0" and an empty name "s=-", since both
 * lines are mandatory. Never throws.
 */
import type { SdpAttribute, SdpConnection, SdpMedia, SessionDescription } from './types.js';

const CRLF = '\r\n';

/** Session-level letters in RFC 4566 §5 order; a line of any other letter goes just before the a= lines. */
const SESSION_BEFORE_C = ['i', 'u', 'e', 'p'];
const SESSION_AFTER_T = ['r', 'z', 'k'];
const SESSION_KNOWN = new Set(['v', 'o', 's', 'c', 'b', 't', 'a', 'm', ...SESSION_BEFORE_C, ...SESSION_AFTER_T]);
const MEDIA_KNOWN = new Set(['m', 'i', 'c', 'b', 'k', 'a']);

export function serializeSdp(sdp: SessionDescription): string {
  const out: string[] = [];
  const o = sdp.origin;
  const other = sdp.other ?? [];
  out.push(`v=${sdp.version}`);
  out.push(`o=${o.username || '-'} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addrType} ${o.address}`);
  out.push(`s=${sdp.sessionName === '' ? '-' : sdp.sessionName}`);
  pushLetters(out, other, SESSION_BEFORE_C);
  if (sdp.connection) out.push(connectionLine(sdp.connection));
  pushLetters(out, other, ['c']);
  for (const b of sdp.bandwidths) out.push(`b=${b}`);
  if (sdp.timing.length === 0) out.push('t=0 0');
  for (const t of sdp.timing) out.push(`t=${t}`);
  pushLetters(out, other, SESSION_AFTER_T);
  for (const line of other) if (!SESSION_KNOWN.has(line.charAt(0))) out.push(line);
  for (const a of sdp.attributes) out.push(attributeLine(a));
  for (const m of sdp.media) pushMedia(out, m);
  return out.join(CRLF) + CRLF;
}

function pushMedia(out: string[], m: SdpMedia): void {
  const port = m.portCount === undefined ? `${m.port}` : `${m.port}/${m.portCount}`;
  out.push(['m=' + m.type, port, m.proto, ...m.formats].join(' '));
  const other = m.other ?? [];
  pushLetters(out, other, ['i']);
  if (m.connection) out.push(connectionLine(m.connection));
  pushLetters(out, other, ['c']);
  for (const b of m.bandwidths) out.push(`b=${b}`);
  pushLetters(out, other, ['k']);
  for (const line of other) if (!MEDIA_KNOWN.has(line.charAt(0))) out.push(line);
  for (const a of m.attributes) out.push(attributeLine(a));
}

function pushLetters(out: string[], lines: readonly string[], letters: readonly string[]): void {
  for (const letter of letters) for (const line of lines) if (line.charAt(0) === letter) out.push(line);
}

function connectionLine(c: SdpConnection): string {
  return `c=${c.netType} ${c.addrType} ${c.address}`;
}

function attributeLine(a: SdpAttribute): string {
  return a.value === undefined ? `a=${a.name}` : `a=${a.name}:${a.value}`;
}
