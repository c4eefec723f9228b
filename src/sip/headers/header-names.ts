/**
 * Header names: compact forms (RFC 3261 §7.3.3 and later RFCs), the canonical spelling we write on the
 * wire, and which headers are comma-separated lists that the parser splits into one value per element.
 *
 * Inside the stack a header name is always its lower-case long form ("call-id", "via").
 */

/** Compact form -> long form, lower case. RFC 3261 §7.3.3, RFC 3515 (r, b), RFC 4028 (x), RFC 6665 (o, u). */
const COMPACT: Record<string, string> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};

/** Spellings that plain Title-Case would get wrong, or that are hot enough to skip computing. */
const CANONICAL: Record<string, string> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  'rack': 'RAck',
  'rseq': 'RSeq',
  'p-asserted-identity': 'P-Asserted-Identity',
  'p-preferred-identity': 'P-Preferred-Identity',
  via: 'Via',
  from: 'From',
  to: 'To',
  contact: 'Contact',
  'content-length': 'Content-Length',
  'content-type': 'Content-Type',
  'max-forwards': 'Max-Forwards',
  'user-agent': 'User-Agent',
  'record-route': 'Record-Route',
  route: 'Route',
  allow: 'Allow',
  supported: 'Supported',
  require: 'Require',
  'session-expires': 'Session-Expires',
  'min-se': 'Min-SE',
  'history-info': 'History-Info',
  diversion: 'Diversion',
};

/**
 * Headers whose grammar is a comma-separated list (RFC 3261 §7.3.1: "#" rules). The parser splits these so
 * that `getAll('via')` returns one entry per Via value whether they came on one line or several. Headers
 * like Authorization, WWW-Authenticate and Date contain commas that are not separators and are never split.
 */
export const LIST_HEADERS: ReadonlySet<string> = new Set([
  'via',
  'contact',
  'route',
  'record-route',
  'allow',
  'supported',
  'require',
  'proxy-require',
  'unsupported',
  'accept',
  'accept-encoding',
  'accept-language',
  'content-encoding',
  'content-language',
  'allow-events',
  'diversion',
  'history-info',
  'p-asserted-identity',
  'p-preferred-identity',
  'warning',
  'in-reply-to',
  'call-info',
  'alert-info',
  'error-info',
  'path',
  'service-route',
  'reason',
]);

/** Lower-case long form of a header name as it appears on the wire (compact forms expanded). */
export function normalizeHeaderName(name: string): string {
  const lower = name.toLowerCase();
  return lower.length === 1 ? (COMPACT[lower] ?? lower) : lower;
}

/** The spelling written on the wire for a lower-case long name: "call-id" -> "Call-ID". */
export function canonicalHeaderName(lower: string): string {
  const known = CANONICAL[lower];
  if (known !== undefined) return known;
  let out = '';
  let upper = true;
  for (const ch of lower) {
    out += upper ? ch.toUpperCase() : ch;
    upper = ch === '-';
  }
  return out;
}
