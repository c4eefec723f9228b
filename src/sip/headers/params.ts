/**
 * Header parameters: `*( SEMI generic-param )` after a Via sent-by, a name-addr, a CSeq-less value...
 * (RFC 3261 §25.1: generic-param = token [ EQUAL gen-value ]; gen-value = token / host / quoted-string;
 * SEMI and EQUAL allow whitespace on both sides).
 *
 * Parameter names are case-insensitive (§7.3.1) and are stored lower-case. Values are stored exactly as
 * written, so a quoted value keeps its quotes and escapes: `+sip.instance="<urn:uuid:...>"` is stored as
 * `"<urn:uuid:...>"` and written back unchanged (a quoted and an unquoted value can mean different things,
 * RFC 3840). Use paramText() for the text a value carries. A parameter without a value maps to null.
 *
 * This module does not know URI parameters (see uri.ts: those are %-escaped, not quoted).
 */
import { PARAM_VALUE_CHARS, TOKEN_CHARS, closingQuote, skipWs, unescapeQuoted } from './tokens.js';

export type Params = Map<string, string | null>;

/**
 * Parses parameters from `start` to the end of `text`; only whitespace may follow the last one. Returns
 * undefined when anything else is there, including empty parameters (`;;`) and `name=` without a value.
 */
export function parseParams(text: string, start: number, into: Params = new Map()): Params | undefined {
  const n = text.length;
  let i = skipWs(text, start);
  while (i < n) {
    if (text.charCodeAt(i) !== 59 /* ; */) return undefined;
    i = skipWs(text, i + 1);
    const nameStart = i;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c >= 128 || TOKEN_CHARS[c] !== 1) break;
      i++;
    }
    if (i === nameStart) return undefined;
    const name = text.slice(nameStart, i).toLowerCase();
    i = skipWs(text, i);
    let value: string | null = null;
    if (i < n && text.charCodeAt(i) === 61 /* = */) {
      i = skipWs(text, i + 1);
      if (i < n && text.charCodeAt(i) === 34 /* " */) {
        const close = closingQuote(text, i);
        if (close < 0) return undefined;
        value = text.slice(i, close + 1);
        i = close + 1;
      } else {
        const valueStart = i;
        while (i < n) {
          const c = text.charCodeAt(i);
          if (c >= 128 || PARAM_VALUE_CHARS[c] !== 1) break;
          i++;
        }
        if (i === valueStart) return undefined;
        value = text.slice(valueStart, i);
      }
      i = skipWs(text, i);
    }
    into.set(name, value);
  }
  return into;
}

/** `;name=value;flag` in map order; values written as stored. */
export function formatParams(params: Params): string {
  let out = '';
  for (const [name, value] of params) out += value === null ? `;${name}` : `;${name}=${value}`;
  return out;
}

/** The text a stored value carries: quotes removed and quoted-pairs resolved; null and tokens unchanged. */
export function paramText(value: string | null | undefined): string | null | undefined {
  if (typeof value !== 'string' || value.length < 2 || value.charCodeAt(0) !== 34) return value;
  return unescapeQuoted(value.slice(1, -1));
}
