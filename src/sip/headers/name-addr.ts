/**
 * name-addr / addr-spec header values: From, To, Contact, Route, Record-Route, Refer-To, Diversion,
 * P-Asserted-Identity, History-Info (RFC 3261 §20.10, §25.1):
 *
 *   ( name-addr / addr-spec ) *( SEMI generic-param )
 *   name-addr    = [ display-name ] LAQUOT addr-spec RAQUOT
 *   display-name = *(token LWS) / quoted-string
 *
 * §20.10: "when the header field value contains a display name, the URI including all URI parameters is
 * enclosed in "<" and ">". If no "<" and ">" are present, all parameters after the URI are header parameters,
 * not URI parameters." and "if the URI contains a comma, question mark or semicolon, the URI MUST be enclosed
 * in angle brackets" — so an addr-spec ends at the first ";" and may not contain "," or "?".
 *
 * The URI is kept as text and checked only for generic syntax (a scheme, no whitespace, quotes or angle
 * brackets): unknown schemes are legal here (RFC 4475 §3.3.4). Parse it with parseUri when needed.
 * Liberal where RFC 4475 says to be: no LWS is needed between a display name and "<" (§3.1.1.6). Strict
 * where it says rejecting is reasonable: spaces inside <> (§3.1.2.14), unquoted non-token characters in a
 * display name (§3.1.2.15), an unterminated quote (§3.1.2.6).
 */
import { formatParams, parseParams, type Params } from './params.js';
import { TOKEN_CHARS, closingQuote, quoteString, skipWs, unescapeQuoted } from './tokens.js';
import { uriScheme } from '../uri.js';

export interface NameAddr {
  /** Display name as text: quotes removed and quoted-pairs resolved; token words joined by one space. */
  displayName?: string;
  uri: string;
  params: Params;
}

export function parseNameAddr(value: string): NameAddr | undefined {
  const s = value;
  const n = s.length;
  const i = skipWs(s, 0);
  if (i >= n) return undefined;
  const first = s.charCodeAt(i);
  if (first === 34 /* " */) {
    const close = closingQuote(s, i);
    if (close < 0) return undefined;
    const lt = skipWs(s, close + 1);
    if (s.charCodeAt(lt) !== 60 /* < */) return undefined;
    return bracketed(s, lt, unescapeQuoted(s.slice(i + 1, close)));
  }
  if (first === 60) return bracketed(s, i, undefined);
  const lt = s.indexOf('<', i);
  if (lt > i) {
    const words = tokenWords(s, i, lt);
    if (words !== undefined) return bracketed(s, lt, words);
  }
  // addr-spec: the URI runs to the first ";" (or whitespace); the rest are header parameters.
  let end = i;
  while (end < n) {
    const c = s.charCodeAt(end);
    if (c === 59 || c === 32 || c === 9) break;
    end++;
  }
  const uri = s.slice(i, end);
  if (!isUriText(uri) || uri.indexOf('?') >= 0 || uri.indexOf(',') >= 0) return undefined;
  const params = parseParams(s, end);
  return params ? { uri, params } : undefined;
}

export function formatNameAddr(n: NameAddr): string {
  const name = n.displayName === undefined ? '' : `${quoteString(n.displayName)} `;
  return `${name}<${n.uri}>${formatParams(n.params)}`;
}

/** `<uri>` at `lt`, then parameters. */
function bracketed(s: string, lt: number, displayName: string | undefined): NameAddr | undefined {
  const gt = s.indexOf('>', lt + 1);
  if (gt < 0) return undefined;
  const uri = s.slice(lt + 1, gt);
  if (!isUriText(uri)) return undefined;
  const params = parseParams(s, gt + 1);
  if (!params) return undefined;
  const out: NameAddr = { uri, params };
  if (displayName !== undefined) out.displayName = displayName;
  return out;
}

/** `*(token LWS)` between `from` and `to`, words joined by one space; undefined if a non-token char is there. */
function tokenWords(s: string, from: number, to: number): string | undefined {
  let out = '';
  let pendingSpace = false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9) {
      pendingSpace = out.length > 0;
      continue;
    }
    if (c >= 128 || TOKEN_CHARS[c] !== 1) return undefined;
    if (pendingSpace) out += ' ';
    pendingSpace = false;
    out += s[i];
  }
  return out;
}

/** Generic URI syntax: a valid scheme, ":", something, and no whitespace, quotes or angle brackets. */
function isUriText(uri: string): boolean {
  if (uriScheme(uri) === undefined) return false;
  for (let i = 0; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c <= 32 || c === 34 || c === 60 || c === 62 || c === 127) return false;
  }
  return true;
}
