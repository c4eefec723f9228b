/**
 * The `challenge` / `credentials` grammar shared by WWW-Authenticate, Proxy-Authenticate, Authorization and
 * Proxy-Authorization (RFC 3261 §25.1, RFC 7235 §2.1):
 *
 *   challenge   = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param  = token BWS "=" BWS ( token / quoted-string )
 *
 * One header value may hold several challenges ("Digest realm=a, nonce=b, Digest realm=c, ..."): a token NOT
 * followed by "=" starts a new scheme. Parsing is lenient where real equipment is sloppy: whitespace around
 * "=", unquoted values that are not tokens (`uri=sip:a@b`, `nonce=ab/c+d==`), commas missing between
 * parameters, parameter names in any case (stored lower-case), quoted values with `\"` escapes (resolved).
 *
 * This module knows nothing about Digest; it only splits and unquotes. It never throws.
 */
import { TOKEN_CHARS, closingQuote, unescapeQuoted } from '../headers/tokens.js';

export interface AuthChallengeText {
  /** The scheme as written ("Digest", "Basic"); compare case-insensitively. */
  scheme: string;
  /** Parameter names lower-case; values unquoted. The first occurrence of a name wins. */
  params: Map<string, string>;
  /** A token68 after the scheme ("Negotiate YIIG..."), when there is one. */
  token68?: string;
}

/** token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
function isToken68Char(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 95 || c === 126 || c === 43 || c === 47;
}

function isWs(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}

function skipWs(s: string, i: number): number {
  while (i < s.length && isWs(s.charCodeAt(i))) i++;
  return i;
}

function scanToken(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN_CHARS[c] !== 1) break;
    i++;
  }
  return i;
}

/**
 * Every challenge (or credentials) in one header value, in order. Returns an empty array when the value does
 * not start with a scheme; stops at the first thing it cannot read and returns what came before it.
 */
export function parseAuthHeader(value: string): AuthChallengeText[] {
  const out: AuthChallengeText[] = [];
  const n = value.length;
  let current: AuthChallengeText | undefined;
  let i = 0;
  while (i < n) {
    // Separators: commas and whitespace in any number (RFC 7230 §7 allows empty list elements).
    while (i < n && (value.charCodeAt(i) === 44 || isWs(value.charCodeAt(i)))) i++;
    if (i >= n) break;
    const nameEnd = scanToken(value, i);
    if (nameEnd === i) break;
    const name = value.slice(i, nameEnd);
    const afterName = skipWs(value, nameEnd);
    if (afterName < n && value.charCodeAt(afterName) === 61 /* = */ && current) {
      const parsed = readValue(value, skipWs(value, afterName + 1));
      if (!parsed) break;
      const key = name.toLowerCase();
      if (!current.params.has(key)) current.params.set(key, parsed.text);
      i = parsed.end;
      continue;
    }
    if (afterName < n && value.charCodeAt(afterName) === 61) break; // "a=b" before any scheme
    current = { scheme: name, params: new Map() };
    out.push(current);
    i = readToken68(value, afterName, current);
  }
  return out;
}

/** A token or quoted-string value starting at `i`, or undefined when there is none. */
function readValue(s: string, i: number): { text: string; end: number } | undefined {
  if (i < s.length && s.charCodeAt(i) === 34 /* " */) {
    const close = closingQuote(s, i);
    if (close < 0) return undefined;
    return { text: unescapeQuoted(s.slice(i + 1, close)), end: close + 1 };
  }
  // Leniency: anything up to a comma, whitespace or quote, so `uri=sip:a@b;x=y` and `nonce=Zm9v+/==` survive.
  let end = i;
  while (end < s.length) {
    const c = s.charCodeAt(end);
    if (c === 44 || c === 34 || isWs(c)) break;
    end++;
  }
  if (end === i) return undefined;
  return { text: s.slice(i, end), end };
}

/**
 * After a scheme: a token68 is a run of token68 characters and "=" padding that is followed by a comma or the
 * end, and not by a value (which would make it an auth-param). Returns where parsing resumes.
 */
function readToken68(s: string, i: number, into: AuthChallengeText): number {
  let end = i;
  while (end < s.length && isToken68Char(s.charCodeAt(end))) end++;
  if (end === i) return i;
  let pad = end;
  while (pad < s.length && s.charCodeAt(pad) === 61) pad++;
  const next = skipWs(s, pad);
  const atBoundary = next >= s.length || s.charCodeAt(next) === 44;
  if (pad === end) {
    // No "=": a token68 only if nothing but a comma or the end follows; otherwise it is the next param name.
    if (!atBoundary) return i;
  } else if (!atBoundary) {
    return i; // "name = value": an auth-param, read by the caller
  }
  into.token68 = s.slice(i, pad);
  return next;
}
