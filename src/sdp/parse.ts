/**
 * Parses an SDP body (RFC 4566 §5) into a SessionDescription.
 *
 * Strict where a wrong reading would send media to the wrong place (v=, o=, c=, m=, ports), tolerant of
 * what real PBXs send: LF-only or CRLF line ends, blank lines, trailing spaces, a missing s= or t=, lines
 * in the wrong order, repeated c= lines, unknown letters and attributes (kept so they serialize back).
 * This module does not negotiate: see negotiate.ts.
 */
import { SdpError } from './sdp-error.js';
import type { SdpAttribute, SdpConnection, SdpMedia, SessionDescription } from './types.js';

export { SdpError } from './sdp-error.js';

const FIELD_SEPARATOR = /[ \t]+/;
const LINE_BREAK = /\r\n|\r|\n/;
const TYPE_LINE = /^([a-zA-Z])[ \t]*=(.*)$/;

/** Parses an SDP body. Throws SdpError, whose message names the fault and the line, on malformed input. */
export function parseSdp(text: string): SessionDescription {
  if (typeof text !== 'string') throw new TypeError('parseSdp expects a string');
  const lines = text.replace(/^\uFEFF/, '').split(LINE_BREAK);
  let sdp: SessionDescription | undefined;
  let media: SdpMedia | undefined;
  let sawName = false;

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!.trim();
    if (line === '') continue;
    const match = TYPE_LINE.exec(line);
    if (!match) throw new SdpError(`expected "<type>=<value>", got "${clip(line)}"`, lineNo);
    const type = match[1]!;
    const value = match[2]!.trim();

    // RFC 4566 §5: "An SDP session description consists of ... The first line MUST be v=0"
    if (!sdp) {
      if (type !== 'v') throw new SdpError('session description must start with v=', lineNo);
      sdp = newSession(parseVersion(value, lineNo));
      continue;
    }
    if (type === 'v') throw new SdpError('second v= line (only one session description per body)', lineNo);
    if (type === 'o') {
      if (media) throw new SdpError('o= line inside a media description', lineNo);
      if (sdp.origin.netType !== '') throw new SdpError('second o= line', lineNo);
      sdp.origin = parseOrigin(value, lineNo);
      continue;
    }
    if (type === 'm') {
      media = parseMediaLine(value, lineNo);
      sdp.media.push(media);
      continue;
    }
    if (media) addMediaLine(media, type, value, line, lineNo);
    else {
      if (type === 's' && !sawName) {
        sawName = true;
        sdp.sessionName = value;
        continue;
      }
      addSessionLine(sdp, type, value, line, lineNo);
    }
  }

  if (!sdp) throw new SdpError('empty session description');
  if (sdp.origin.netType === '') throw new SdpError('missing o= line');
  return sdp;
}

function newSession(version: number): SessionDescription {
  return {
    version,
    origin: { username: '', sessionId: '', sessionVersion: '', netType: '', addrType: '', address: '' },
    sessionName: '',
    timing: [],
    attributes: [],
    bandwidths: [],
    media: [],
    other: [],
  };
}

function addSessionLine(sdp: SessionDescription, type: string, value: string, line: string, lineNo: number): void {
  switch (type) {
    case 'c': {
      const connection = parseConnection(value, lineNo);
      if (sdp.connection) sdp.other.push(line);
      else sdp.connection = connection;
      return;
    }
    case 't':
      sdp.timing.push(value);
      return;
    case 'b':
      sdp.bandwidths.push(value);
      return;
    case 'a':
      sdp.attributes.push(parseAttribute(value, lineNo));
      return;
    default:
      sdp.other.push(line);
  }
}

function addMediaLine(media: SdpMedia, type: string, value: string, line: string, lineNo: number): void {
  switch (type) {
    case 'c': {
      // RFC 4566 §5.7: a media description may carry several c= lines (layered multicast); the first is used.
      const connection = parseConnection(value, lineNo);
      if (media.connection) (media.other ??= []).push(line);
      else media.connection = connection;
      return;
    }
    case 'b':
      media.bandwidths.push(value);
      return;
    case 'a':
      media.attributes.push(parseAttribute(value, lineNo));
      return;
    default:
      (media.other ??= []).push(line);
  }
}

function parseVersion(value: string, lineNo: number): number {
  if (!/^\d+$/.test(value)) throw new SdpError(`bad v= value "${clip(value)}"`, lineNo);
  return Number(value);
}

// RFC 4566 §5.2: o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>
function parseOrigin(value: string, lineNo: number): SessionDescription['origin'] {
  const fields = value.split(FIELD_SEPARATOR);
  if (fields.length < 6) throw new SdpError(`o= needs 6 fields, got ${fields.length}`, lineNo);
  // Some devices put a space in the username; the last five fields are fixed, so the rest is the username.
  const [sessionId, sessionVersion, netType, addrType, address] = fields.slice(-5) as [string, string, string, string, string];
  return { username: fields.slice(0, -5).join(' '), sessionId, sessionVersion, netType, addrType, address };
}

// RFC 4566 §5.7: c=<nettype> <addrtype> <connection-address>
function parseConnection(value: string, lineNo: number): SdpConnection {
  const fields = value.split(FIELD_SEPARATOR);
  if (fields.length !== 3) throw new SdpError(`c= needs 3 fields, got ${fields.length}`, lineNo);
  const [netType, addrType, address] = fields as [string, string, string];
  return { netType, addrType, address };
}

// RFC 4566 §5.14: m=<media> <port>[/<number of ports>] <proto> <fmt> ...
function parseMediaLine(value: string, lineNo: number): SdpMedia {
  const fields = value.split(FIELD_SEPARATOR);
  if (fields.length < 3) throw new SdpError(`m= needs at least 3 fields, got ${fields.length}`, lineNo);
  const [type, portText, proto, ...formats] = fields as [string, string, string, ...string[]];
  const portMatch = /^(\d{1,5})(?:\/(\d{1,5}))?$/.exec(portText);
  const port = portMatch ? Number(portMatch[1]) : NaN;
  if (!portMatch || port > 65535) throw new SdpError(`bad m= port "${clip(portText)}"`, lineNo);
  const media: SdpMedia = { type, port, proto, formats, attributes: [], bandwidths: [] };
  if (portMatch[2] !== undefined) media.portCount = Number(portMatch[2]);
  return media;
}

// RFC 4566 §5.13: a=<attribute> | a=<attribute>:<value>
function parseAttribute(value: string, lineNo: number): SdpAttribute {
  const colon = value.indexOf(':');
  const name = (colon < 0 ? value : value.slice(0, colon)).trim();
  if (name === '') throw new SdpError('a= line without an attribute name', lineNo);
  return colon < 0 ? { name } : { name, value: value.slice(colon + 1).trim() };
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
