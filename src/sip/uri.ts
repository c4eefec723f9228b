/**
 * SIP, SIPS and tel URIs: parse, format, and the user part that routing keys on.
 *
 *   SIP-URI = "sip:" [ userinfo ] hostport uri-parameters [ headers ]          (RFC 3261 §19.1.1, §25.1)
 *   userinfo = ( user / telephone-subscriber ) [ ":" password ] "@"
 *   telephone-uri = "tel:" number *( ";" par )                                  (RFC 3966)
 *
 * User, password, parameter names and values, and header names and values are stored %-unescaped (§19.1.4:
 * escaped characters are equivalent to the characters they encode, RFC 4475 §3.1.1.3); formatUri escapes
 * what the grammar requires. Parameter names are lower-cased (they compare case-insensitively). The host is
 * lower-cased and an IPv6 reference is stored without brackets.
 *
 * The user part is read liberally (anything but whitespace, quotes, angle brackets, "@" and ":"), because PBXs
 * put "#" and the like in dialled numbers; "%" escapes must be well formed everywhere.
 *
 * Not here: URI comparison (§19.1.4) and other schemes (parseUri returns undefined; uriScheme tells them apart
 * from garbage).
 */
import { formatHost, scanHost, scanPort } from './headers/tokens.js';

export interface SipUri {
  scheme: 'sip' | 'sips';
  /** Unescaped. */
  user?: string;
  password?: string;
  /** Lower-cased; IPv6 without brackets. */
  host: string;
  port?: number;
  params: Map<string, string | null>;
  headers: Map<string, string>;
}

export interface TelUri {
  scheme: 'tel';
  /** As written (unescaped), visual separators included: "+1-201-555-0123". */
  number: string;
  params: Map<string, string | null>;
}

export type Uri = SipUri | TelUri;

/**
 * The lower-cased scheme when `text` starts with `scheme ":"` and something follows the colon
 * (scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )); undefined otherwise.
 */
export function uriScheme(text: string): string | undefined {
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1) return undefined;
  for (let i = 0; i < colon; i++) {
    const c = text.charCodeAt(i) | 0x20;
    const alpha = c >= 97 && c <= 122;
    if (i === 0 ? !alpha : !(alpha || isDigit(text.charCodeAt(i)) || isSchemeMark(text.charCodeAt(i)))) {
      return undefined;
    }
  }
  const scheme = text.slice(0, colon);
  return scheme === 'sip' ? scheme : scheme.toLowerCase();
}

/** Parses a sip, sips or tel URI; undefined when malformed or of another scheme. */
export function parseUri(text: string): Uri | undefined {
  const scheme = uriScheme(text);
  if (scheme === undefined || !plainText(text)) return undefined;
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(text, scheme, scheme.length + 1);
  if (scheme === 'tel') return parseTelUri(text, 4);
  return undefined;
}

export function formatUri(uri: Uri): string {
  if (uri.scheme === 'tel') return `tel:${escape(uri.number, TEL_CHARS)}${formatUriParams(uri.params)}`;
  let out = `${uri.scheme}:`;
  if (uri.user !== undefined) {
    out += escape(uri.user, USER_CHARS);
    if (uri.password !== undefined) out += `:${escape(uri.password, PASSWORD_CHARS)}`;
    out += '@';
  }
  out += formatHost(uri.host);
  if (uri.port !== undefined) out += `:${uri.port}`;
  out += formatUriParams(uri.params);
  let sep = '?';
  for (const [name, value] of uri.headers) {
    out += `${sep}${escape(name, HEADER_CHARS)}=${escape(value, HEADER_CHARS)}`;
    sep = '&';
  }
  return out;
}

/**
 * What routing keys on: the user part of a sip/sips URI, or the number of a tel URI. Telephone numbers
 * (tel URIs, and sip URIs with user=phone, §19.1.6) lose their visual separators "-", ".", "(", ")" and any
 * ";" parameters, so "tel:+1-201-555-0123" gives "+12015550123".
 */
export function uriUser(uri: Uri): string | undefined {
  if (uri.scheme === 'tel') return phoneDigits(uri.number);
  if (uri.user === undefined) return undefined;
  return uri.params.get('user') === 'phone' ? phoneDigits(uri.user) : uri.user;
}

function parseSipUri(s: string, scheme: 'sip' | 'sips', start: number): SipUri | undefined {
  const n = s.length;
  const uri: SipUri = { scheme, host: '', params: new Map(), headers: new Map() };
  let i = start;
  // "@" cannot appear unescaped after the userinfo, so the first one ends it (RFC 4475 §3.1.1.2 puts ";",
  // "?" and "/" in the user part).
  const at = s.indexOf('@', i);
  if (at >= 0) {
    const colon = s.indexOf(':', i);
    const userEnd = colon >= 0 && colon < at ? colon : at;
    if (userEnd === i) return undefined;
    const user = unescape(s, i, userEnd);
    if (user === undefined) return undefined;
    uri.user = user;
    if (userEnd < at) {
      const password = unescape(s, userEnd + 1, at);
      if (password === undefined) return undefined;
      uri.password = password;
    }
    i = at + 1;
  }
  const host = scanHost(s, i);
  if (!host) return undefined;
  uri.host = host.host;
  i = host.end;
  if (i < n && s.charCodeAt(i) === 58 /* : */) {
    const port = scanPort(s, i + 1);
    if (!port) return undefined;
    uri.port = port.port;
    i = port.end;
  }
  const end = parseUriParams(s, i, uri.params, true);
  if (end === undefined) return undefined;
  i = end;
  if (i < n && s.charCodeAt(i) === 63 /* ? */) {
    for (const pair of s.slice(i + 1).split('&')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) return undefined;
      const name = unescape(pair, 0, eq);
      const value = unescape(pair, eq + 1, pair.length);
      if (name === undefined || value === undefined) return undefined;
      uri.headers.set(name, value);
    }
    i = n;
  }
  return i === n ? uri : undefined;
}

function parseTelUri(s: string, start: number): TelUri | undefined {
  let semi = s.indexOf(';', start);
  if (semi < 0) semi = s.length;
  if (semi === start || s.indexOf('?', start) >= 0) return undefined;
  const number = unescape(s, start, semi);
  if (number === undefined) return undefined;
  const params = new Map<string, string | null>();
  const end = parseUriParams(s, semi, params, false);
  if (end !== s.length) return undefined;
  return { scheme: 'tel', number, params };
}

/** `*( ";" pname [ "=" pvalue ] )` from `i`; returns the index where they stop ("?" or the end). */
function parseUriParams(s: string, i: number, into: Map<string, string | null>, stopAtQuery: boolean): number | undefined {
  const n = s.length;
  while (i < n && s.charCodeAt(i) === 59 /* ; */) {
    let j = i + 1;
    while (j < n) {
      const c = s.charCodeAt(j);
      if (c === 59 || (stopAtQuery && c === 63)) break;
      j++;
    }
    const eq = indexIn(s, 61 /* = */, i + 1, j);
    const nameEnd = eq >= 0 ? eq : j;
    const name = unescape(s, i + 1, nameEnd);
    if (name === undefined || name.length === 0) return undefined;
    let value: string | null = null;
    if (nameEnd < j) {
      value = unescape(s, nameEnd + 1, j) ?? null;
      if (value === null || value.length === 0) return undefined;
    }
    into.set(name.toLowerCase(), value);
    i = j;
  }
  return i;
}

function formatUriParams(params: Map<string, string | null>): string {
  let out = '';
  for (const [name, value] of params) {
    out += `;${escape(name, PARAM_CHARS)}`;
    if (value !== null) out += `=${escape(value, PARAM_CHARS)}`;
  }
  return out;
}

function phoneDigits(text: string): string {
  const semi = text.indexOf(';');
  const number = semi >= 0 ? text.slice(0, semi) : text;
  return number.replace(/[-.()]/g, '');
}

/** No whitespace, control characters, quotes or angle brackets anywhere in a URI. */
function plainText(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c === 34 || c === 60 || c === 62 || c === 127) return false;
  }
  return true;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isSchemeMark(c: number): boolean {
  return c === 43 || c === 45 || c === 46;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

/**
 * The first index of the character `code` in s[from, to), or -1. Not s.indexOf: that searches on to the end of
 * the message, and once per parameter that made a URI of 30,000 parameters (a 64 KB datagram, anyone's to send)
 * cost 80 ms of the loop that paces calls' RTP.
 */
function indexIn(s: string, code: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (s.charCodeAt(i) === code) return i;
  return -1;
}

/** `s[from, to)` with %HH escapes decoded (runs of escapes as UTF-8); undefined for a malformed escape. */
function unescape(s: string, from: number, to: number): string | undefined {
  let pct = indexIn(s, 37 /* % */, from, to);
  if (pct < 0) return s.slice(from, to);
  let out = s.slice(from, pct);
  let i = pct;
  while (i < to) {
    if (s.charCodeAt(i) !== 37) {
      pct = indexIn(s, 37 /* % */, i, to);
      const stop = pct < 0 ? to : pct;
      out += s.slice(i, stop);
      i = stop;
      continue;
    }
    const bytes: number[] = [];
    let ascii = true;
    while (i < to && s.charCodeAt(i) === 37) {
      if (i + 2 >= to) return undefined;
      const hi = hexValue(s.charCodeAt(i + 1));
      const lo = hexValue(s.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return undefined;
      const b = hi * 16 + lo;
      if (b >= 128) ascii = false;
      bytes.push(b);
      i += 3;
    }
    out += ascii ? String.fromCharCode(...bytes) : Buffer.from(bytes).toString('utf8');
  }
  return out;
}

function charTable(extra: string): Uint8Array {
  const t = new Uint8Array(128);
  for (let c = 0; c < 128; c++) {
    if (isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) t[c] = 1;
  }
  for (let i = 0; i < extra.length; i++) t[extra.charCodeAt(i)] = 1;
  return t;
}

const UNRESERVED_MARKS = "-_.!~*'()";
/** user = 1*( unreserved / escaped / user-unreserved ); user-unreserved = & = + $ , ; ? / */
const USER_CHARS = charTable(`${UNRESERVED_MARKS}&=+$,;?/`);
/** password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ) */
const PASSWORD_CHARS = charTable(`${UNRESERVED_MARKS}&=+$,`);
/** paramchar = param-unreserved / unreserved / escaped; param-unreserved = [ ] / : & + $ */
const PARAM_CHARS = charTable(`${UNRESERVED_MARKS}[]/:&+$`);
/** hname / hvalue = *( hnv-unreserved / unreserved / escaped ); hnv-unreserved = [ ] / ? : + $ */
const HEADER_CHARS = charTable(`${UNRESERVED_MARKS}[]/?:+$`);
/** tel number: digits, hex digits, "*", "+" and visual separators ("#" is escaped). */
const TEL_CHARS = charTable('-.()*+');

function escape(text: string, allowed: Uint8Array): string {
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c >= 128 || allowed[c] !== 1) break;
    i++;
  }
  if (i === n) return text;
  let out = text.slice(0, i);
  for (const ch of text.slice(i)) {
    const c = ch.charCodeAt(0);
    if (c < 128 && allowed[c] === 1) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b < 16 ? '0' : ''}${b.toString(16).toUpperCase()}`;
  }
  return out;
}
