/**
 * Finding the session description in a message body: either the whole body (application/sdp) or one part of a
 * multipart/mixed body (RFC 4475 §3.1.1.11 sends SDP next to another part; RFC 5621 body handling).
 */
import type { SipMessage } from './message.js';

export type SdpLookup = { kind: 'none' } | { kind: 'sdp'; sdp: Buffer } | { kind: 'unsupported'; contentType: string };

function mediaType(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

export function findSdp(msg: SipMessage): SdpLookup {
  if (msg.body.length === 0) return { kind: 'none' };
  const contentType = msg.headers.get('content-type') ?? 'application/sdp';
  const type = mediaType(contentType);
  if (type === 'application/sdp') return { kind: 'sdp', sdp: msg.body };
  if (type.startsWith('multipart/')) {
    const boundary = /boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
    const mark = boundary?.[1] ?? boundary?.[2];
    if (mark !== undefined) {
      for (const part of splitMultipart(msg.body, mark)) {
        if (mediaType(part.contentType) === 'application/sdp') return { kind: 'sdp', sdp: part.body };
      }
    }
  }
  return { kind: 'unsupported', contentType };
}

/** RFC 2046 §5.1.1: parts separated by CRLF--boundary; each part has its own headers then CRLFCRLF. */
function splitMultipart(body: Buffer, boundary: string): { contentType: string; body: Buffer }[] {
  const text = body.toString('latin1');
  const delimiter = `--${boundary}`;
  const parts: { contentType: string; body: Buffer }[] = [];
  let at = text.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (text.startsWith('--', start)) break;
    const next = text.indexOf(`\r\n${delimiter}`, start);
    const end = next >= 0 ? next : text.length;
    const chunk = text.slice(start, end).replace(/^[ \t]*\r?\n/, '');
    const split = chunk.search(/\r?\n\r?\n/);
    const headerText = split >= 0 ? chunk.slice(0, split) : '';
    const partBody = split >= 0 ? chunk.slice(split).replace(/^\r?\n\r?\n/, '') : chunk;
    const ct = /^content-type\s*:\s*(.+)$/im.exec(headerText)?.[1]?.trim() ?? 'text/plain';
    parts.push({ contentType: ct, body: Buffer.from(partBody, 'latin1') });
    at = next >= 0 ? next + 2 : -1;
  }
  return parts;
}
