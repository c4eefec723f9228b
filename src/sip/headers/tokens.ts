/**
 * Lexical building blocks of the SIP grammar (RFC 3261 §25.1) shared by the header and URI parsers:
 * character classes as lookup tables, whitespace skipping, quoted strings, host scanning and splitting of
 * comma-separated header lists. Everything here works on strings whose folded lines are already joined, so
 * the only whitespace left is SP and HTAB.
 *
 * Nothing here allocates beyond the strings it returns, and nothing throws.
 */

function table(extra: string, alphanumeric: boolean): Uint8Array {
  const t = new Uint8Array(128);
  if (alphanumeric) {
    for (let c = 0; c < 128; c++) {
      if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) t[c] = 1;
    }
  }
  for (let i = 0; i < extra.length; i++) t[extra.charCodeAt(i)] = 1;
  return t;
}

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const TOKEN_CHARS = table("-.!%*_+`'~", true);

/**
 * Characters of an unquoted parameter value: gen-value = token / host / quoted-string. A host adds ":" and
 * the brackets of an IPv6 reference (RFC 5118 also allows a bare IPv6 address in Via received).
 */
export const PARAM_VALUE_CHARS = table("-.!%*_+`'~:[]", true);

/** hostname / IPv4address characters; "_" is not in the grammar but appears in real host names. */
const HOST_CHARS = table('-._', true);
/** Characters inside an IPv6 reference: hex digits, ":" and "." for an embedded IPv4 tail. */
const IPV6_CHARS = table(':.', true);

export function isToken(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN_CHARS[c] !== 1) return false;
  }
  return true;
}

/** Index of the first character at or after `i` that is not a token character. */
export function scanToken(s: string, i: number): number {
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN_CHARS[c] !== 1) break;
    i++;
  }
  return i;
}

/** Skips SP and HTAB from `i`. */
export function skipWs(s: string, i: number): number {
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9) break;
    i++;
  }
  return i;
}

/**
 * `s[from, to)` without leading and trailing SP, HTAB, CR and LF. Unlike String.prototype.trim it keeps
 * U+FEFF, U+00A0 and the like, which are text in SIP (TEXT-UTF8char), not whitespace.
 */
export function trimLws(s: string, from = 0, to = s.length): string {
  while (from < to) {
    const c = s.charCodeAt(from);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) break;
    from++;
  }
  while (to > from) {
    const c = s.charCodeAt(to - 1);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) break;
    to--;
  }
  return from === 0 && to === s.length ? s : s.slice(from, to);
}

/**
 * Index of the DQUOTE closing the quoted-string that opens at `open`, honouring quoted-pair ("\" followed by
 * any character), or -1 when the string is unterminated.
 */
export function closingQuote(s: string, open: number): number {
  const n = s.length;
  for (let i = open + 1; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 92) i++;
    else if (c === 34) return i;
  }
  return -1;
}

/** The text of a quoted-string without its quotes, with quoted-pairs resolved: `a \"b\"` → `a "b"`. */
export function unescapeQuoted(inner: string): string {
  if (inner.indexOf('\\') < 0) return inner;
  let out = '';
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i];
    if (ch === '\\' && i + 1 < inner.length) {
      out += inner[i + 1];
      i++;
    } else out += ch;
  }
  return out;
}

/** A quoted-string for any text: DQUOTE, the text with `"` and `\` escaped, DQUOTE. */
export function quoteString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    // CR and LF cannot be escaped (quoted-pair excludes them); they would end the header line.
    if (ch === '\r' || ch === '\n') out += ' ';
    else if (ch === '"' || ch === '\\') out += '\\' + ch;
    else out += ch;
  }
  return out + '"';
}

/**
 * host = hostname / IPv4address / IPv6reference, scanned from `i`. Returns the host lower-cased with IPv6
 * brackets removed, and the index after it; undefined when there is no host there.
 */
export function scanHost(s: string, i: number): { host: string; end: number } | undefined {
  const n = s.length;
  if (i < n && s.charCodeAt(i) === 91 /* [ */) {
    const close = s.indexOf(']', i + 1);
    if (close <= i + 1) return undefined;
    for (let j = i + 1; j < close; j++) {
      const c = s.charCodeAt(j);
      if (c >= 128 || IPV6_CHARS[c] !== 1) return undefined;
    }
    const inner = s.slice(i + 1, close);
    if (inner.indexOf(':') < 0) return undefined;
    return { host: inner.toLowerCase(), end: close + 1 };
  }
  let j = i;
  while (j < n) {
    const c = s.charCodeAt(j);
    if (c >= 128 || HOST_CHARS[c] !== 1) break;
    j++;
  }
  if (j === i) return undefined;
  return { host: s.slice(i, j).toLowerCase(), end: j };
}

/** A port: 1*DIGIT no larger than 65535. Returns the number and the index after it. */
export function scanPort(s: string, i: number): { port: number; end: number } | undefined {
  const n = s.length;
  let port = 0;
  let j = i;
  while (j < n) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) break;
    port = port * 10 + (c - 48);
    if (port > 65535) return undefined;
    j++;
  }
  if (j === i) return undefined;
  return { port, end: j };
}

/** Host as written inside a URI or Via: IPv6 addresses get their brackets back. */
export function formatHost(host: string): string {
  return host.indexOf(':') >= 0 ? `[${host}]` : host;
}

/**
 * Splits a list header value (RFC 3261 §7.3.1: `#element`) at commas that are outside quoted strings and
 * outside `<...>`. Elements are trimmed; empty elements (`a,,b`) are dropped. An unterminated quote leaves
 * the rest of the value as one element, for the element's own parser to reject.
 */
/** Every element of every value of a list header (Require, Supported, Accept...), for checks that read tokens. */
export function listElements(values: readonly string[]): string[] {
  return values.flatMap((v) => splitList(v)).filter((t) => t.length > 0);
}

export function splitList(value: string): string[] {
  const out: string[] = [];
  const n = value.length;
  let start = 0;
  let angle = false;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c === 34 /* " */) {
      const close = closingQuote(value, i);
      if (close < 0) break;
      i = close;
    } else if (c === 60 /* < */) angle = true;
    else if (c === 62 /* > */) angle = false;
    else if (c === 44 /* , */ && !angle) {
      const part = trimLws(value, start, i);
      if (part.length > 0) out.push(part);
      start = i + 1;
    }
  }
  const last = trimLws(value, start);
  if (last.length > 0 || out.length === 0) out.push(last);
  return out;
}
