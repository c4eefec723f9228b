/**
 * The header fields of SIP events that the MWI notifier reads and writes (RFC 6665 §8.2): Event (package and
 * `id`), Expires on SUBSCRIBE (RFC 3261 §20.19), and Subscription-State values. Pure; never throws.
 */
import { TOKEN_CHARS } from '../sip/headers/tokens.js';
import { paramText, parseParams } from '../sip/headers/params.js';

export interface EventHeader {
  /** The event-type: package name with any template suffixes ("message-summary"). */
  type: string;
  /** The `id` parameter (RFC 6665 §8.2.1), which tells apart subscriptions sharing a dialog. */
  id?: string;
}

/** `Event: message-summary;id=7` → { type: 'message-summary', id: '7' }; undefined when absent or malformed. */
export function parseEventHeader(value: string | undefined): EventHeader | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    // event-type = event-package *( "." event-template ); both are token-nodot, so the token set covers it.
    if (c >= 128 || TOKEN_CHARS[c] !== 1) break;
    i++;
  }
  if (i === 0) return undefined;
  const params = parseParams(text, i);
  if (!params) return undefined;
  const out: EventHeader = { type: text.slice(0, i) };
  const id = paramText(params.get('id'));
  if (typeof id === 'string') out.id = id;
  return out;
}

/**
 * RFC 3265 §7.2.1 (unchanged in RFC 6665 §8.2.1): "the event-type portion of the "Event" header is compared
 * byte-by-byte, and the "id" parameter token (if present) is compared byte-by-byte. An "Event" header
 * containing an "id" parameter never matches an "Event" header without an "id" parameter."
 */
export function sameEvent(a: EventHeader, b: EventHeader): boolean {
  return a.type === b.type && a.id === b.id;
}

/** The Event header value we send for a subscription: the package, and the subscriber's `id` if it gave one. */
export function formatEventHeader(e: EventHeader): string {
  return e.id === undefined ? e.type : `${e.type};id=${e.id}`;
}

/** Largest Expires we read (RFC 3261 §20.19: delta-seconds up to 2**32-1). */
const MAX_DELTA_SECONDS = 0xffffffff;

/**
 * The Expires header of a SUBSCRIBE: seconds, `undefined` when absent, `null` when malformed (not
 * 1*DIGIT). Values beyond 2**32-1 are read as 2**32-1 (RFC 3261 §20.19 for the related delta-seconds).
 */
export function parseExpires(value: string | undefined): number | undefined | null {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (!/^\d+$/.test(text)) return null;
  return Math.min(Number(text), MAX_DELTA_SECONDS);
}

/** Subscription-State reason codes (RFC 6665 §4.1.3) that we send in `terminated` states. */
export type TerminationReason =
  /** The subscription ran out of time (or the subscriber set it to 0). */
  | 'timeout'
  /** The mailbox no longer exists. */
  | 'noresource'
  /** The notifier is going away for good; the subscriber may subscribe again at once. */
  | 'deactivated';

/** Subscription-State value: `active;expires=N` or `terminated;reason=R`. */
export function subscriptionState(state: { active: true; expiresS: number } | { active: false; reason: TerminationReason }): string {
  return state.active ? `active;expires=${Math.max(0, Math.floor(state.expiresS))}` : `terminated;reason=${state.reason}`;
}
