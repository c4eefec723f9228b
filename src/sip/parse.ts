/**
 * Bytes → SipMessage (RFC 3261 §7, grammar §25), with the checks that make a message usable by the stack.
 *
 * Covers: start lines, header lines (compact names, case-insensitive names, whitespace around ":", folded
 * lines joined with one space, list headers split one value per element), datagram framing by
 * Content-Length (§18.3), and validation of what every layer relies on: Via, From, To, Call-ID and CSeq
 * present and parseable, CSeq method = request method, single-value headers not repeated, Max-Forwards,
 * Contact, SIP version, Request-URI. The first fault found decides the outcome.
 *
 * Not here: anything an application decides (Require/Proxy-Require → 420, Max-Forwards 0 → 483, unknown
 * methods → 501, unknown Content-Type → 415). Those messages parse; the stack answers them. Structured
 * headers other than the ones validated are left as text for their parsers in ./headers.
 *
 * Hot path: the head is decoded once and walked with indexOf; no regular expressions; never throws.
 */
import { Headers, type SipMessage, type SipRequest } from './message.js';
import { LIST_HEADERS, normalizeHeaderName } from './headers/header-names.js';
import { isToken, splitList, trimLws } from './headers/tokens.js';
import { parseVia } from './headers/via.js';
import { parseNameAddr } from './headers/name-addr.js';
import { parseCSeq } from './headers/cseq.js';
import { parseUri, uriScheme } from './uri.js';

export type ParseOutcome =
  | { ok: true; message: SipMessage }
  | { ok: false; status: number; reason: string; request?: SipRequest };

/** Larger messages are refused with 413 (a UDP datagram cannot be larger; this bounds TCP frames). */
export const MAX_MESSAGE_BYTES = 64 * 1024;

/** Headers that may appear once (§20: not a "#" list); a second copy makes the message ambiguous. */
const SINGLE_VALUE: ReadonlyArray<[string, string]> = [
  ['from', 'From'], ['to', 'To'], ['call-id', 'Call-ID'], ['cseq', 'CSeq'], ['max-forwards', 'Max-Forwards'],
  ['content-length', 'Content-Length'], ['content-type', 'Content-Type'],
];

interface Fault {
  status: number;
  reason: string;
}

interface StartLine {
  kind: 'request' | 'response';
  method: string;
  uri: string;
  status: number;
  reason: string;
  fault?: Fault;
}

export function parseMessage(data: Buffer): ParseOutcome {
  // §7.5: CRLFs before the start line are ignored (keep-alives on streams).
  let start = 0;
  while (start < data.length && (data[start] === 13 || data[start] === 10)) start++;
  let headEnd = data.indexOf('\r\n\r\n', start, 'latin1');
  let bodyStart = headEnd + 4;
  if (headEnd < 0) {
    headEnd = data.indexOf('\n\n', start, 'latin1');
    bodyStart = headEnd + 2;
    if (headEnd < 0) headEnd = bodyStart = data.length;
  }
  if (headEnd - start > MAX_MESSAGE_BYTES) return garbage('Message Too Large');
  const head = data.toString('utf8', start, headEnd);

  const lineEnd = head.indexOf('\n');
  const startText = lineEnd < 0 ? head : head.slice(0, lineEnd);
  const line = parseStartLine(startText.charCodeAt(startText.length - 1) === 13 ? startText.slice(0, -1) : startText);
  if (line === undefined) return garbage('Malformed start line');

  const headers = new Headers();
  let fault = line.fault;
  if (lineEnd >= 0 && !readHeaders(head, lineEnd + 1, headers)) fault ??= { status: 400, reason: 'Malformed header line' };
  if (data.length > MAX_MESSAGE_BYTES) fault ??= { status: 413, reason: 'Message Too Large' };

  // §18.3: Content-Length says how much of the rest is body; without it (datagrams) the body is the rest.
  let body = data.subarray(bodyStart);
  const lengths = headers.getAll('content-length');
  if (lengths.length > 1) fault ??= { status: 400, reason: 'Multiple Content-Length headers' };
  else if (lengths.length === 1) {
    const length = digits(lengths[0]);
    if (length < 0) fault ??= { status: 400, reason: 'Bad Content-Length' };
    else if (length > body.length) fault ??= { status: 400, reason: 'Content-Length exceeds body' };
    else body = body.subarray(0, length);
  }

  const usable = checkHeaders(headers);
  fault ??= usable.fault;

  if (line.kind === 'response') {
    if (fault) return { ok: false, status: fault.status, reason: fault.reason };
    return { ok: true, message: { kind: 'response', status: line.status, reason: line.reason, headers, body } };
  }

  const request: SipRequest = { kind: 'request', method: line.method, uri: line.uri, headers, body };
  fault ??= checkRequest(request, usable.cseqMethod);
  if (!fault) return { ok: true, message: request };
  return usable.ok
    ? { ok: false, status: fault.status, reason: fault.reason, request }
    : { ok: false, status: fault.status, reason: fault.reason };
}

function garbage(reason: string): ParseOutcome {
  return { ok: false, status: reason === 'Message Too Large' ? 413 : 400, reason };
}

/**
 * Request-Line = Method SP Request-URI SP SIP-Version; Status-Line = SIP-Version SP Status-Code SP
 * Reason-Phrase. Undefined when the line is neither (no response can be built for it).
 */
function parseStartLine(text: string): StartLine | undefined {
  const sp = text.indexOf(' ');
  if (sp <= 0) return undefined;
  const first = text.slice(0, sp);
  if (first.length > 4 && first.charCodeAt(3) === 47 && first.slice(0, 4).toUpperCase() === 'SIP/') {
    return parseStatusLine(text, first, sp);
  }
  if (!isToken(first)) return undefined;
  const line: StartLine = { kind: 'request', method: first, uri: '', status: 0, reason: '' };
  let rest = text.slice(sp + 1);
  // RFC 4475 §3.1.2.8–3.1.2.10: extra SP inside or after the request line may be rejected; we do.
  let end = rest.length;
  while (end > 0 && (rest.charCodeAt(end - 1) === 32 || rest.charCodeAt(end - 1) === 9)) end--;
  if (end !== rest.length) {
    line.fault = { status: 400, reason: 'Bad request line: trailing whitespace' };
    rest = rest.slice(0, end);
  }
  const lastSp = rest.lastIndexOf(' ');
  let uri = lastSp < 0 ? rest : rest.slice(0, lastSp);
  const version = lastSp < 0 ? '' : rest.slice(lastSp + 1);
  if (lastSp < 0 || version.length === 0) line.fault ??= { status: 400, reason: 'Bad request line: no SIP-Version' };
  if (uri.length === 0 || uri.charCodeAt(0) === 32 || uri.charCodeAt(uri.length - 1) === 32) {
    line.fault ??= { status: 400, reason: 'Bad request line: extra spaces' };
    uri = trimLws(uri);
  } else if (uri.indexOf(' ') >= 0 || uri.indexOf('\t') >= 0) {
    line.fault ??= { status: 400, reason: 'Bad Request-URI: embedded whitespace' };
  } else if (uri.charCodeAt(0) === 60 /* < */) {
    line.fault ??= { status: 400, reason: 'Bad Request-URI: angle brackets' };
  }
  // §8.2.2 via §7.1: "SIP/2.0" only; RFC 4475 §3.1.2.16 answers other versions with 505.
  if (version.length > 0 && version !== 'SIP/2.0' && version.toUpperCase() !== 'SIP/2.0') {
    line.fault ??= { status: 505, reason: 'Version Not Supported' };
  }
  line.uri = uri;
  return line;
}

function parseStatusLine(text: string, version: string, sp: number): StartLine | undefined {
  if (version.toUpperCase() !== 'SIP/2.0') return undefined;
  const line: StartLine = { kind: 'response', method: '', uri: '', status: 0, reason: '' };
  // Status-Code = 3DIGIT, 100..699; RFC 4475 §3.1.2.19 (4294967301) is dropped.
  const code = digits(text.slice(sp + 1, sp + 4));
  const after = text.charCodeAt(sp + 4);
  if (code < 100 || code > 699 || !(Number.isNaN(after) || after === 32)) {
    line.fault = { status: 400, reason: 'Bad status code' };
  }
  line.status = code;
  // An empty Reason-Phrase is legal (RFC 4475 §3.1.1.13).
  line.reason = text.slice(sp + 5);
  return line;
}

/**
 * Header lines from `pos` to the end of the head into `headers`. A line starting with SP/HTAB continues the
 * previous one (§7.3.1: "the line break and the whitespace at the beginning of the next line [are] treated
 * as a single SP"). Returns false if some line was not `token *WSP ":" value`; such lines are skipped so that
 * the rest of the message can still be read for the error response.
 */
function readHeaders(head: string, pos: number, headers: Headers): boolean {
  let clean = true;
  let name: string | undefined;
  let value = '';
  const n = head.length;
  while (pos < n) {
    let end = head.indexOf('\n', pos);
    if (end < 0) end = n;
    const first = head.charCodeAt(pos);
    if (first === 32 || first === 9) {
      const more = trimLws(head, pos, end);
      if (name === undefined) clean = clean && more.length === 0;
      else if (more.length > 0) value = value.length === 0 ? more : `${value} ${more}`;
    } else {
      if (name !== undefined) store(headers, name, value);
      name = undefined;
      const colon = head.indexOf(':', pos);
      if (colon >= 0 && colon < end) {
        const raw = trimLws(head, pos, colon);
        if (isToken(raw)) {
          name = normalizeHeaderName(raw);
          value = trimLws(head, colon + 1, end);
        } else clean = false;
      } else if (end - pos > 1 || (end - pos === 1 && first !== 13)) clean = false;
    }
    pos = end + 1;
  }
  if (name !== undefined) store(headers, name, value);
  return clean;
}

function store(headers: Headers, name: string, value: string): void {
  if (value.indexOf(',') >= 0 && LIST_HEADERS.has(name)) {
    for (const element of splitList(value)) headers.append(name, element);
  } else headers.append(name, value);
}

interface Usable {
  /**
   * Enough to answer: the top Via parses, so the response can be routed (§18.2.2). buildResponse copies
   * whatever From, To, Call-ID and CSeq there are (§8.2.6.2), malformed or missing ones included: RFC 4475
   * wants a 400 for a malformed To (§3.1.2.6, §3.1.2.14) or CSeq (§3.1.2.4), and §3.3.1 (insuf, no Call-ID,
   * From or To) says "Ideally, it will respond with a 400 Bad Request error".
   */
  ok: boolean;
  cseqMethod?: string;
  fault?: Fault;
}

/** Checks shared by requests and responses (§8.1.1: the headers every request and response carries). */
function checkHeaders(headers: Headers): Usable {
  let fault: Fault | undefined;
  for (const [key, wire] of SINGLE_VALUE) {
    if (headers.getAll(key).length > 1) {
      fault = { status: 400, reason: `Multiple ${wire} headers` };
      break;
    }
  }
  const vias = headers.getAll('via');
  const topViaOk = vias.length > 0 && parseVia(vias[0]) !== undefined;
  let viaOk = topViaOk;
  for (let i = 1; viaOk && i < vias.length; i++) viaOk = parseVia(vias[i]) !== undefined;
  if (!viaOk) fault ??= { status: 400, reason: vias.length === 0 ? 'Missing Via' : 'Bad Via' };
  const from = headers.get('from');
  if (!nameAddrOk(from)) fault ??= missingOrBad(from, 'From');
  const to = headers.get('to');
  if (!nameAddrOk(to)) fault ??= missingOrBad(to, 'To');
  const callId = headers.get('call-id');
  // Call-ID = word [ "@" word ]: no whitespace inside.
  if (!callId || callId.indexOf(' ') >= 0 || callId.indexOf('\t') >= 0) fault ??= missingOrBad(callId, 'Call-ID');
  const cseqText = headers.get('cseq');
  const cseq = cseqText === undefined ? undefined : parseCSeq(cseqText);
  if (!cseq) fault ??= missingOrBad(cseqText, 'CSeq');
  return { ok: topViaOk, cseqMethod: cseq?.method, fault };
}

/** Checks that apply to requests only, after the shared ones passed. */
function checkRequest(req: SipRequest, cseqMethod: string | undefined): Fault | undefined {
  // §8.2.3 / RFC 4475 §3.1.2.17: the CSeq method must match. §3.1.2.18 (an unknown method as well) allows 501
  // or 400; the mismatch is the fault we can name whatever the method, so it is 400 either way.
  if (cseqMethod !== req.method) return { status: 400, reason: 'Bad CSeq: method mismatch' };
  // §20.22: Max-Forwards = 1*DIGIT, 0-255.
  const maxForwards = req.headers.get('max-forwards');
  if (maxForwards !== undefined) {
    const hops = digits(maxForwards);
    if (hops < 0 || hops > 255) return { status: 400, reason: 'Bad Max-Forwards' };
  }
  // §20.10: Contact is "*" or name-addr / addr-spec values (RFC 4475 §3.1.2.1, §3.1.2.13).
  for (const contact of req.headers.getAll('contact')) {
    if (contact !== '*' && parseNameAddr(contact) === undefined) return { status: 400, reason: 'Bad Contact' };
  }
  return checkRequestUri(req.uri);
}

/** §8.2.1: an unknown scheme is 416; a malformed URI, or one with headers (§19.1.1 table), is 400. */
function checkRequestUri(text: string): Fault | undefined {
  const scheme = uriScheme(text);
  if (scheme === undefined) return { status: 400, reason: 'Bad Request-URI' };
  if (scheme !== 'sip' && scheme !== 'sips' && scheme !== 'tel') return { status: 416, reason: 'Unsupported URI Scheme' };
  const uri = parseUri(text);
  if (uri === undefined) return { status: 400, reason: 'Bad Request-URI' };
  if (uri.scheme !== 'tel' && uri.headers.size > 0) return { status: 400, reason: 'Bad Request-URI: headers not allowed' };
  return undefined;
}

function nameAddrOk(value: string | undefined): boolean {
  return value !== undefined && parseNameAddr(value) !== undefined;
}

function missingOrBad(value: string | undefined, wire: string): Fault {
  return { status: 400, reason: value === undefined ? `Missing ${wire}` : `Bad ${wire}` };
}

/** 1*DIGIT with optional surrounding whitespace → its value; -1 when not that or absurdly large. */
function digits(text: string): number {
  const s = trimLws(text);
  if (s.length === 0 || s.length > 9) return -1;
  let value = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    value = value * 10 + (c - 48);
  }
  return value;
}
