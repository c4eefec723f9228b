/**
 * Keys sent in SIP INFO bodies: `application/dtmf-relay` ("Signal=5\r\nDuration=160") and `application/dtmf`
 * ("5"). Neither has an RFC; both are de-facto formats (Cisco's dtmf-relay and the draft application/dtmf)
 * that PBXs send when configured for "SIP INFO" keypad signalling.
 *
 * Accepted signal values: 0-9, *, #, A-D (any case), the RFC 4733 event numbers 10-16 that some PBXs send
 * instead of "*", "#", "A"-"D" and flash, and "!" for flash. Anything else yields undefined.
 *
 * Not here: the INFO transaction itself (the dialog answers 200 whatever the body), RTP events.
 */
import { EVENT_KEYS, type DtmfKey } from './rfc4733.js';

/** Content types this module reads (lower case, without parameters). */
export const DTMF_INFO_CONTENT_TYPES = ['application/dtmf-relay', 'application/dtmf'] as const;

/**
 * The key in an INFO body, or undefined when the content type is not a DTMF one or the body names no key.
 * `contentType` is the Content-Type header value as received (parameters and case are ignored).
 */
export function parseDtmfInfoBody(contentType: string, body: string): DtmfKey | undefined {
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  if (type === 'application/dtmf') return signalToKey(body.trim());
  if (type !== 'application/dtmf-relay') return undefined;
  // One "name=value" per line, CRLF or LF; names case-insensitive; whitespace around either side.
  for (const line of body.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    if (line.slice(0, eq).trim().toLowerCase() === 'signal') return signalToKey(line.slice(eq + 1).trim());
  }
  return undefined;
}

/** The duration of a dtmf-relay body in ms (its "Duration=" line), or undefined. */
export function parseDtmfRelayDuration(body: string): number | undefined {
  const match = /^[ \t]*duration[ \t]*=[ \t]*(\d{1,6})[ \t]*$/im.exec(body);
  return match ? Number(match[1]) : undefined;
}

function signalToKey(signal: string): DtmfKey | undefined {
  if (signal.length === 1) {
    if (signal === '!') return 'flash';
    const upper = signal.toUpperCase();
    // Single characters 0-9, *, #, A-D are keys; other single characters are not.
    const index = EVENT_KEYS.indexOf(upper as DtmfKey);
    return index >= 0 && index < 16 ? EVENT_KEYS[index] : undefined;
  }
  if (/^1[0-6]$/.test(signal)) return EVENT_KEYS[Number(signal)];
  if (signal.toLowerCase() === 'flash') return 'flash';
  return undefined;
}
