/**
 * The numbers a call was for before it reached us, from the INVITE's redirection headers, most recent first:
 *
 * 1. Diversion (RFC 5806), when present: a proxy that diverts adds its entry at the top, so the top-most
 *    entry sent the call here and the bottom-most is the party the caller first dialled.
 * 2. Otherwise History-Info (RFC 7044 with the RFC 4458 `cause` and `target` URI parameters), when it shows a
 *    retargeting (more than one entry): the entry retargeted to us is the last one carrying a cause (else the
 *    last entry); the redirects are the entries it came from, following its mp/rc/np index back to the first
 *    (else the entry before it), then the other earlier entries, newest first, as fall-backs.
 * 3. RFC 4458 `target=` names the user the call is for outright: on History-Info's retargeted entry, else on
 *    the Request-URI (requestTarget).
 *
 * Pure and synchronous; entries that do not parse or name no number are skipped.
 */
import { parseNameAddr } from '../sip/headers/name-addr.js';
import { paramText, parseParams } from '../sip/headers/params.js';
import { listElements } from '../sip/headers/tokens.js';
import { parseUri, type Uri } from '../sip/uri.js';
import { calleeStatus } from '../sip/callee-status.js';
import type { Redirect, RedirectReason } from './parties.js';
import { uriNumber } from './uri-number.js';

// ---------------------------------------------------------------------------------------------- Diversion

export interface DiversionEntry {
  number: string;
  /** The reason parameter as sent, lower-cased; '' when absent. */
  reasonText: string;
  reason: RedirectReason;
  /** counter=: how many diversions this entry stands for (default 1). */
  counter: number;
}

/**
 * RFC 5806 §4: diversion-reason = "unknown" / "user-busy" / "no-answer" / "unavailable" / "unconditional" /
 * "time-of-day" / "do-not-disturb" / "deflection" / "follow-me" / "out-of-service" / "away" / token /
 * quoted-string. Vendors add their own spellings: Avaya "busy" and "fwd-all", Cisco "no-answer".
 */
export function diversionReason(text: string): RedirectReason {
  switch (text) {
    case 'user-busy':
    case 'busy':
      return 'busy';
    case 'no-answer':
    case 'noanswer':
    case 'no-reply':
      return 'no-answer';
    case 'unconditional':
    case 'fwd-all':
    case 'always':
      return 'unconditional';
    case 'unavailable':
    case 'out-of-service':
    case 'do-not-disturb':
    case 'away':
      return 'unavailable';
    case 'deflection':
    case 'follow-me':
      return 'forwarded';
    default:
      return 'other';
  }
}

/**
 * Diversion entries top-most first, whether they came comma-separated or as repeated headers (RFC 5806 §4:
 * "Diversion = "Diversion" ":" 1# (name-addr *( ";" diversion_params ))").
 */
export function parseDiversion(values: readonly string[]): DiversionEntry[] {
  const out: DiversionEntry[] = [];
  for (const element of listElements(values)) {
    const entry = parseNameAddr(element);
    const number = entry ? uriNumber(parseUri(entry.uri)) : undefined;
    if (!entry || number === undefined) continue;
    const reasonText = (paramText(entry.params.get('reason')) ?? '').toLowerCase();
    const counter = Number(entry.params.get('counter') ?? '1');
    out.push({ number, reasonText, reason: diversionReason(reasonText), counter: Number.isInteger(counter) && counter > 0 ? counter : 1 });
  }
  return out;
}

// ------------------------------------------------------------------------------------------- History-Info

export interface HistoryEntry {
  /** The hi-targeted-to-uri's number; undefined for a URI with no user part. */
  number: string | undefined;
  /** index=, e.g. "1.1.2"; '' when absent (RFC 4244-era PBXs). */
  index: string;
  /** The index named by rc=, mp= or np= (RFC 7044 §4.1: the entry this one was retargeted from). */
  from: string | undefined;
  /** The RFC 4458 cause= URI parameter of this entry (why the call was retargeted TO it). */
  cause: number | undefined;
  /** The RFC 4458 target= URI parameter (the user the call was originally for). */
  target: string | undefined;
  /** The cause of the Reason header escaped in the URI (RFC 7044 §4.2: why the call LEFT this entry). */
  leftWith: number | undefined;
}

/** "SIP;cause=486;text=..." → 486 (only the SIP protocol's causes are status codes). */
function reasonCause(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const semi = value.indexOf(';');
  if (semi < 0 || value.slice(0, semi).trim().toUpperCase() !== 'SIP') return undefined;
  const params = parseParams(value, semi);
  const cause = Number(params?.get('cause'));
  return Number.isInteger(cause) && cause >= 100 && cause < 700 ? cause : undefined;
}

function uriHeader(uri: Uri | undefined, name: string): string | undefined {
  if (!uri || uri.scheme === 'tel') return undefined;
  for (const [key, value] of uri.headers) if (key.toLowerCase() === name) return value;
  return undefined;
}

/** RFC 4458 §3: target= carries a URI (escaped), some PBXs put a bare number there. */
function targetNumber(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  const uri = parseUri(value);
  if (uri) return uriNumber(uri);
  return /^\+?[0-9*#]+$/.test(value) ? value : undefined;
}

function causeParam(uri: Uri | undefined): number | undefined {
  const cause = Number(uri?.params.get('cause'));
  return Number.isInteger(cause) && cause > 0 ? cause : undefined;
}

/** History-Info entries in the order received (RFC 7044 §4: entries are added in the order retargeting happened). */
export function parseHistoryInfo(values: readonly string[]): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  for (const element of listElements(values)) {
    const entry = parseNameAddr(element);
    if (!entry) continue;
    const uri = parseUri(entry.uri);
    const p = entry.params;
    out.push({
      number: uriNumber(uri),
      index: p.get('index') ?? '',
      from: p.get('mp') ?? p.get('rc') ?? p.get('np') ?? undefined,
      cause: causeParam(uri),
      target: targetNumber(uri?.params.get('target')),
      leftWith: reasonCause(uriHeader(uri, 'reason')),
    });
  }
  return out;
}

/**
 * RFC 4458 §3.1 redirecting reasons as SIP status codes: 404 unknown/not available, 302 unconditional,
 * 486 user busy, 408 no reply, 487 deflection during alerting, 480 deflection immediate response, 503 mobile
 * subscriber not reachable. A deflection is the called user not taking the call, said to the caller as no
 * answer (the unavailable greeting either way).
 */
export function causeReason(cause: number | undefined): RedirectReason {
  if (cause === undefined) return 'other';
  // RFC 4458 §2: 302 is an unconditional forward; 404/410/503 a user not reachable.
  if (cause === 302) return 'unconditional';
  if (cause === 410 || cause === 503) return 'unavailable';
  const status = calleeStatus(cause);
  if (status === 'busy' || status === 'no-answer') return status;
  return status === 'invalid' ? 'unavailable' : 'other';
}

/** The History-Info chain behind the entry retargeted to us, most recent first, and that entry's target=. */
function historyRedirects(entries: readonly HistoryEntry[]): { redirects: Redirect[]; target: Redirect | undefined } {
  // One entry is no retargeting: it is the Request-URI itself.
  if (entries.length < 2) return { redirects: [], target: undefined };
  let v = entries.length - 1;
  for (let i = entries.length - 1; i > 0; i--) {
    if (entries[i]!.cause !== undefined) {
      v = i;
      break;
    }
  }
  const us = entries[v]!;
  const parentOf = (i: number): number => {
    const from = entries[i]!.from;
    const byIndex = from !== undefined ? entries.findIndex((e, j) => j < i && e.index === from) : -1;
    return byIndex >= 0 ? byIndex : i - 1;
  };
  const parent = us.from !== undefined ? entries.find((e) => e.index === us.from) : undefined;
  // Why the call came to us: the cause on our entry, else the Reason of the entry it left.
  const reason = causeReason(us.cause ?? entries[v - 1]?.leftWith ?? parent?.leftWith);
  // The path back from our entry to the first, then the branches off it (a forked ring that went nowhere).
  const order: number[] = [];
  for (let i = parentOf(v); i >= 0 && !order.includes(i); i = parentOf(i)) order.push(i);
  for (let i = v - 1; i >= 0; i--) if (!order.includes(i)) order.push(i);
  const redirects: Redirect[] = [];
  for (const i of order) {
    const number = entries[i]!.number;
    if (number !== undefined && !redirects.some((r) => r.number === number)) redirects.push({ number, reason, via: 'history-info' });
  }
  return { redirects, target: us.target !== undefined ? { number: us.target, reason, via: 'history-info' } : undefined };
}

// ------------------------------------------------------------------------------------------------ the INVITE

/** Diversion when the PBX sent any, else History-Info. */
export function redirectsOf(diversion: readonly string[], historyInfo: readonly string[]): { redirects: Redirect[]; target: Redirect | undefined } {
  const diverted = parseDiversion(diversion);
  const history = historyRedirects(parseHistoryInfo(historyInfo));
  if (diverted.length > 0) return { redirects: diverted.map((d) => ({ number: d.number, reason: d.reason, via: 'diversion' })), target: history.target };
  return history;
}

/** RFC 4458 target= (and cause=) on the Request-URI. */
export function requestTarget(ruri: Uri | undefined): Redirect | undefined {
  const number = targetNumber(ruri?.params.get('target'));
  return number !== undefined ? { number, reason: causeReason(causeParam(ruri)), via: 'request-uri' } : undefined;
}
