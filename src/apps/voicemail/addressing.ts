/**
 * Who a voicemail call is for, and who is calling: read from the INVITE the PBX sent.
 *
 * The mailbox, in this order:
 * 1. Diversion (RFC 5806), when present: the top-most entry is the user who sent the call here (the last
 *    diversion); `voicemail.diversion: original` takes the bottom-most, the party the caller first dialled.
 * 2. History-Info (RFC 7044 with the RFC 4458 `cause` and `target` URI parameters), when it shows a
 *    retargeting: the entry that was retargeted to voicemail.
 * 3. The Request-URI: its RFC 4458 `target` parameter, else its user when that is not a voicemail pilot (the
 *    PBX addressed the mailbox directly).
 * Numbers are looked up with store.findMailbox, which knows aliases (DID / public forms). When the chosen
 * entry has no mailbox, the next entry is tried (a forward through a hunt group or a DID with no mailbox of
 * its own still reaches the person behind it).
 *
 * A call to a pilot with none of the above is a log-in: with the mailbox when the caller's own number is a
 * mailbox (the "voicemail button"), without one otherwise.
 *
 * The caller: P-Asserted-Identity (RFC 3325) when the call came from a trusted PBX, else From; anonymous
 * callers (RFC 3323 Privacy, RFC 3261 §8.1.1.3's anonymous@anonymous.invalid) become from ''.
 *
 * Everything but addressCall() is pure and synchronous; addressCall() only adds the mailbox look-ups.
 * Not here: what the caller hears (greeting.ts, deposit.ts), the SIP parsing itself (sip/headers).
 */
import { parseNameAddr, type NameAddr } from '../../sip/headers/name-addr.js';
import { paramText, parseParams } from '../../sip/headers/params.js';
import { listElements } from '../../sip/headers/tokens.js';
import { parseUri, uriUser, type Uri } from '../../sip/uri.js';
import type { DepositReason, Mailbox } from '../../store/types.js';
import { calleeStatus } from '../../sip/callee-status.js';

/** The parts of the INVITE addressing reads (a Call provides them; tests give literals). */
export interface InviteView {
  requestUri: string;
  /** Every value of a header, by any spelling of its name. */
  header(name: string): readonly string[];
}

/** Who is calling, as it will be stored with the message. */
export interface Caller {
  /** The number (user part of a sip URI, a tel number); '' when anonymous or unknown. */
  number: string;
  /** The display name; '' when none or anonymous. */
  name: string;
  anonymous: boolean;
}

/** Where the mailbox number came from. */
export type AddressSource = 'diversion' | 'history-info' | 'request-uri';

/** A number the call may be for, most likely first. */
export interface Candidate {
  number: string;
  reason: DepositReason;
  source: AddressSource;
}

export type CallTarget =
  /** Leave a message in `mailbox`. */
  | { kind: 'deposit'; mailbox: Mailbox; reason: DepositReason; source: AddressSource }
  /** A call to a pilot: log in; `mailbox` when the owner's own number is calling. */
  | { kind: 'login'; mailbox?: Mailbox }
  /** The call was diverted or addressed to numbers that are no mailbox. */
  | { kind: 'no-mailbox'; numbers: string[] };

export type Addressing = CallTarget & { caller: Caller };

export interface AddressingOptions {
  /** Voicemail pilot numbers. */
  pilots: readonly string[];
  /** voicemail.diversion */
  diversion: 'top' | 'original';
  /** The call came from a PBX whose P-Asserted-Identity we believe. */
  trustAssertedIdentity: boolean;
  findMailbox(numberOrAlias: string): Promise<Mailbox | undefined>;
}

// ------------------------------------------------------------------------------------------------ numbers

/** The number a URI names: the user part of sip/sips, the number of tel, visual separators removed. */
export function uriNumber(uri: Uri | undefined): string | undefined {
  const user = uri ? uriUser(uri) : undefined;
  if (user === undefined) return undefined;
  // RFC 3966 §5.1.1 visual separators carry no meaning; PBXs also put them in plain sip user parts.
  const number = user.replace(/[-.()\s]/g, '');
  return number.length > 0 ? number : undefined;
}

function entryNumber(entry: NameAddr): string | undefined {
  return uriNumber(parseUri(entry.uri));
}

// ---------------------------------------------------------------------------------------------- Diversion

export interface DiversionEntry {
  number: string;
  /** The reason parameter as sent, lower-cased; '' when absent. */
  reasonText: string;
  reason: DepositReason;
  /** counter=: how many diversions this entry stands for (default 1). */
  counter: number;
}

/**
 * RFC 5806 §4: diversion-reason = "unknown" / "user-busy" / "no-answer" / "unavailable" / "unconditional" /
 * "time-of-day" / "do-not-disturb" / "deflection" / "follow-me" / "out-of-service" / "away" / token /
 * quoted-string. Vendors add their own spellings: Avaya "busy" and "fwd-all", Cisco "no-answer".
 */
export function diversionReason(text: string): DepositReason {
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
 * "Diversion = "Diversion" ":" 1# (name-addr *( ";" diversion_params ))"; a proxy that diverts adds its
 * entry at the top). Entries that do not parse or name no number are skipped.
 */
export function parseDiversion(values: readonly string[]): DiversionEntry[] {
  const out: DiversionEntry[] = [];
  for (const element of listElements(values)) {
    const entry = parseNameAddr(element);
    const number = entry ? entryNumber(entry) : undefined;
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
export function causeReason(cause: number | undefined): DepositReason {
  if (cause === undefined) return 'other';
  // RFC 4458 §2: 302 is an unconditional forward; 404/410/503 a user not reachable.
  if (cause === 302) return 'unconditional';
  if (cause === 410 || cause === 503) return 'unavailable';
  const status = calleeStatus(cause);
  if (status === 'busy' || status === 'no-answer') return status;
  return status === 'invalid' ? 'unavailable' : 'other';
}

/**
 * The numbers a History-Info chain says the call was for, most likely first. The voicemail entry is the last
 * one carrying an RFC 4458 cause (else the last entry); the mailbox is its target= when present, else the
 * entry it was retargeted from (its mp/rc/np index, else the entry before it), then earlier entries back to
 * the first (or from the first, for `original`). Pilot numbers are never candidates.
 */
export function historyCandidates(entries: readonly HistoryEntry[], isPilot: (n: string) => boolean, mode: 'top' | 'original'): Candidate[] {
  if (entries.length === 0) return [];
  let v = entries.length - 1;
  for (let i = entries.length - 1; i > 0; i--) {
    if (entries[i]!.cause !== undefined) {
      v = i;
      break;
    }
  }
  const vm = entries[v]!;
  const parent = vm.from !== undefined ? entries.find((e) => e.index === vm.from) : undefined;
  // Why the call came to voicemail: the cause on the voicemail entry, else the Reason of the entry it left.
  const reason = causeReason(vm.cause ?? entries[v - 1]?.leftWith ?? parent?.leftWith);
  const earlier = entries.slice(0, v);
  const walk = mode === 'original' ? earlier : [...(parent ? [parent] : []), ...earlier.reverse()];
  const numbers = [vm.target, ...walk.map((e) => e.number)];
  const out: Candidate[] = [];
  for (const number of numbers) {
    if (number === undefined || isPilot(number) || out.some((c) => c.number === number)) continue;
    out.push({ number, reason, source: 'history-info' });
  }
  return out;
}

// -------------------------------------------------------------------------------------------- the mailbox

/** Every number the INVITE says the call may be for, most likely first; [] for a plain call to a pilot. */
export function mailboxCandidates(invite: InviteView, pilots: readonly string[], mode: 'top' | 'original'): Candidate[] {
  const isPilot = (n: string): boolean => pilots.includes(n);
  const diversion = parseDiversion(invite.header('diversion')).filter((d) => !isPilot(d.number));
  if (diversion.length > 0) {
    const ordered = mode === 'original' ? [...diversion].reverse() : diversion;
    return ordered.map((d) => ({ number: d.number, reason: d.reason, source: 'diversion' }));
  }
  const history = parseHistoryInfo(invite.header('history-info'));
  // One entry is no retargeting: it is the Request-URI itself.
  if (history.length > 1) {
    const found = historyCandidates(history, isPilot, mode);
    if (found.length > 0) return found;
  }
  const ruri = parseUri(invite.requestUri);
  const target = targetNumber(ruri?.params.get('target'));
  if (target !== undefined && !isPilot(target)) return [{ number: target, reason: causeReason(causeParam(ruri)), source: 'request-uri' }];
  const user = uriNumber(ruri);
  if (user !== undefined && !isPilot(user)) return [{ number: user, reason: 'direct', source: 'request-uri' }];
  return [];
}

// --------------------------------------------------------------------------------------------- the caller

const ANONYMOUS_USERS = new Set(['anonymous', 'restricted', 'unknown', 'unavailable', 'private', 'withheld']);
const ANONYMOUS_NAMES = new Set([...ANONYMOUS_USERS, 'anonymous caller', 'unknown caller', 'private number', 'withheld number']);

/** RFC 3323 §4.2: priv-value "header", "user" or "id" ask that the caller's identity not be shown. */
function privacyRequested(values: readonly string[]): boolean {
  for (const value of values) {
    for (const token of value.split(/[;,]/)) {
      const t = token.trim().toLowerCase();
      if (t === 'id' || t === 'user' || t === 'header') return true;
    }
  }
  return false;
}

/** No number to show: an anonymous URI, or one we cannot read (treated alike: the message is from ''). */
function anonymousUri(uri: Uri | undefined): boolean {
  if (!uri) return true;
  // RFC 3261 §8.1.1.3: "the From field SHOULD contain ... sip:anonymous@anonymous.invalid".
  if (uri.scheme !== 'tel' && uri.host === 'anonymous.invalid') return true;
  const user = uriUser(uri);
  return user === undefined || user.length === 0 || ANONYMOUS_USERS.has(user.toLowerCase());
}

const ANONYMOUS: Caller = { number: '', name: '', anonymous: true };

function callerFrom(entry: NameAddr): Caller {
  const uri = parseUri(entry.uri);
  if (anonymousUri(uri)) return ANONYMOUS;
  const raw = (entry.displayName ?? '').trim();
  const name = ANONYMOUS_NAMES.has(raw.toLowerCase()) ? '' : raw;
  return { number: uriNumber(uri) ?? '', name, anonymous: false };
}

/**
 * The caller. RFC 3325 §9.1: P-Asserted-Identity holds one or two values (a sip/sips URI and a tel URI);
 * the first with a number gives it, a display name from either. Used only from a trusted PBX; otherwise, or
 * when it names nobody, From.
 */
export function callerOf(invite: InviteView, trustAssertedIdentity: boolean): Caller {
  if (privacyRequested(invite.header('privacy'))) return ANONYMOUS;
  if (trustAssertedIdentity) {
    const asserted = listElements(invite.header('p-asserted-identity'))
      .map((v) => parseNameAddr(v))
      .filter((e): e is NameAddr => e !== undefined)
      .map(callerFrom);
    const withNumber = asserted.find((c) => c.number !== '');
    if (withNumber) return { ...withNumber, name: withNumber.name || (asserted.find((c) => c.name !== '')?.name ?? '') };
    if (asserted.length > 0 && asserted.every((c) => c.anonymous)) return ANONYMOUS;
  }
  const from = invite.header('from')[0];
  const entry = from !== undefined ? parseNameAddr(from) : undefined;
  return entry ? callerFrom(entry) : ANONYMOUS;
}

/** Reads the INVITE and looks the numbers up: who the call is for, and who is calling. */
export async function addressCall(invite: InviteView, options: AddressingOptions): Promise<Addressing> {
  const caller = callerOf(invite, options.trustAssertedIdentity);
  const candidates = mailboxCandidates(invite, options.pilots, options.diversion);
  for (const c of candidates) {
    const mailbox = await options.findMailbox(c.number);
    if (mailbox) return { kind: 'deposit', mailbox, reason: c.reason, source: c.source, caller };
  }
  if (candidates.length > 0) return { kind: 'no-mailbox', numbers: candidates.map((c) => c.number), caller };
  const own = caller.number !== '' ? await options.findMailbox(caller.number) : undefined;
  return own ? { kind: 'login', mailbox: own, caller } : { kind: 'login', caller };
}
