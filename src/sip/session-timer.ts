/**
 * Session timers (RFC 4028) as the UAS negotiates them: the interval, who refreshes, and what goes in the 2xx.
 * A PBX that loses a call without a BYE (a crash, a failed trunk) would otherwise hold a voicemail port
 * for hours; session timers bound that.
 */
import type { SipRequest } from './message.js';
import { listElements } from './headers/tokens.js';

const tokenList = (values: readonly string[]): string[] => listElements(values).map((t) => t.toLowerCase());

export type Refresher = 'uac' | 'uas';

export interface SessionTimerNegotiation {
  intervalS: number;
  refresher: Refresher;
}

export type SessionTimerOutcome =
  | { ok: true; timer: SessionTimerNegotiation }
  | { ok: false; status: 422; minSeS: number };

/** RFC 4028 §4: the smallest interval anyone may ask for. */
export const MIN_SE_FLOOR_S = 90;

/**
 * The largest delta-seconds value taken as written. RFC 3261 §20.19 (Expires) treats larger values as 2**32-1;
 * the same cap keeps a Session-Expires of 30 digits from being echoed back as "1e+29". The timers built from
 * it are clamped separately (timer-limit.ts): Node cannot wait even this long.
 */
const MAX_DELTA_SECONDS = 2 ** 32 - 1;

/** A delta-seconds header value (leading digits, as parseInt reads them), capped; NaN when there are none. */
function deltaSeconds(text: string | undefined): number {
  return Math.min(MAX_DELTA_SECONDS, Number.parseInt(text?.trim() ?? '', 10));
}

/** True when the peer lists `timer` in Supported (k) or Require. */
export function peerSupportsTimer(req: SipRequest): boolean {
  return tokenList(req.headers.getAll('supported')).includes('timer') || tokenList(req.headers.getAll('require')).includes('timer');
}

/**
 * RFC 4028 §9 (UAS behaviour) for an INVITE or a refresh (re-INVITE/UPDATE).
 * @param preferredS our interval when the request names none (config sip.sessionExpiresS)
 * @param minSeS our minimum; a smaller Session-Expires gets 422 with this Min-SE
 */
export function negotiateSessionTimer(req: SipRequest, preferredS: number, minSeS: number): SessionTimerOutcome {
  const supported = peerSupportsTimer(req);
  const se = req.headers.get('session-expires');
  const theirMinSe = deltaSeconds(req.headers.get('min-se'));
  let intervalS = Math.max(preferredS, Number.isFinite(theirMinSe) ? theirMinSe : 0, minSeS);
  let refresher: Refresher | undefined;
  if (se !== undefined) {
    const [value, ...params] = se.split(';');
    const requested = deltaSeconds(value);
    if (Number.isFinite(requested)) {
      // §9: "If the value of the Session-Expires header field is lower than the value of the Min-SE ... the UAS
      // MUST reject the request with a 422". Our Min-SE is the one that counts for us.
      if (requested < minSeS) return { ok: false, status: 422, minSeS };
      intervalS = requested;
    }
    for (const p of params) {
      const [k, v] = p.split('=').map((x) => x.trim().toLowerCase());
      if (k === 'refresher' && (v === 'uac' || v === 'uas')) refresher = v;
    }
  }
  // §9: a UAC that does not support timers cannot refresh; we do it ourselves.
  if (!supported) refresher = 'uas';
  refresher ??= 'uac';
  return { ok: true, timer: { intervalS, refresher } };
}

/** Headers for the 2xx: Session-Expires always; Require: timer when the UAC must refresh (§9). */
export function sessionTimerHeaders(timer: SessionTimerNegotiation): Record<string, string> {
  const headers: Record<string, string> = { 'session-expires': `${timer.intervalS};refresher=${timer.refresher}` };
  if (timer.refresher === 'uac') headers['require'] = 'timer';
  return headers;
}

/** §10: when the non-refresher gives up: interval minus min(32 s, interval/3). */
export function expiryMs(timer: SessionTimerNegotiation): number {
  return (timer.intervalS - Math.min(32, timer.intervalS / 3)) * 1000;
}

/** §7.2 / §9: the refresher refreshes at half the interval. */
export function refreshMs(timer: SessionTimerNegotiation): number {
  return (timer.intervalS * 1000) / 2;
}
