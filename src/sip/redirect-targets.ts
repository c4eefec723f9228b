/**
 * The target set of a redirected request (RFC 3261 §8.1.3.4): the Contact URIs of a 3xx response, in
 * decreasing q order, each at most once over the whole request.
 *
 * "In order to create a request based on a contact address in a 3xx response, a UAC MUST copy the entire URI
 * from the target set into the Request-URI, except for the "method-param" and "header" URI parameters"; and
 * "Placing any given URI in the target set only once prevents infinite redirection loops."
 *
 * Pure: no I/O. Only sip: and sips: contacts are kept (a tel: or http: contact cannot be called from here).
 */
import type { SipResponse } from './message.js';
import { parseNameAddr } from './headers/name-addr.js';
import { formatUri, parseUri } from './uri.js';

/** The URI a request to this contact uses, or undefined for one we cannot call. */
export function requestUriOf(contactUri: string): string | undefined {
  const uri = parseUri(contactUri);
  if (uri === undefined || uri.scheme === 'tel') return undefined;
  const copy = { ...uri, params: new Map(uri.params), headers: new Map<string, string>() };
  copy.params.delete('method');
  return formatUri(copy);
}

/**
 * New targets from a 3xx's Contact header fields, best q first (equal q keep their order; a missing q counts
 * as 1.0), leaving out URIs in `seen` (which this adds them to).
 */
export function redirectTargets(res: SipResponse, seen: Set<string>): string[] {
  const found: { uri: string; q: number; order: number }[] = [];
  res.headers.getAll('contact').forEach((value, order) => {
    const contact = parseNameAddr(value);
    if (!contact) return;
    const uri = requestUriOf(contact.uri);
    if (uri === undefined || seen.has(uri)) return;
    seen.add(uri);
    const qText = contact.params.get('q');
    const q = typeof qText === 'string' && Number.isFinite(Number(qText)) ? Number(qText) : 1;
    found.push({ uri, q, order });
  });
  return found.sort((a, b) => b.q - a.q || a.order - b.order).map((t) => t.uri);
}
