/**
 * Transaction matching keys (RFC 3261 §17.1.3 for client transactions, §17.2.3 for server transactions).
 *
 * RFC 3261 branches start with the magic cookie "z9hG4bK" and are unique, so a server transaction is keyed by
 * branch + sent-by + method, where an ACK matches the INVITE it acknowledges. Requests from RFC 2543 elements
 * (no cookie) fall back to the older rule: Call-ID, From tag, CSeq number, top Via, and Request-URI (an ACK
 * for a non-2xx and a CANCEL carry the INVITE's Request-URI, so they match it).
 */
import type { SipRequest } from '../message.js';
import type { Via } from '../headers/via.js';
import { tagOf } from '../response.js';

export const MAGIC_COOKIE = 'z9hG4bK';

/** Server transaction key of a request. ACK and CANCEL need care: see the two functions below. */
export function serverKey(req: SipRequest, via: Via, cseqMethod: string): string {
  const method = cseqMethod === 'ACK' ? 'INVITE' : cseqMethod;
  const branch = via.branch;
  if (branch !== undefined && branch.startsWith(MAGIC_COOKIE)) {
    return `${branch}|${via.host}:${via.port ?? ''}|${method}`;
  }
  return legacyKey(req, via, method);
}

/** §9.2: a CANCEL matches the INVITE server transaction with the same key but method INVITE. */
export function inviteKeyForCancel(req: SipRequest, via: Via): string {
  return serverKey(req, via, 'INVITE');
}

/** §17.1.3: a response matches the client transaction whose branch and CSeq method it carries. */
export function clientKey(branch: string, cseqMethod: string): string {
  return `${branch}|${cseqMethod === 'ACK' ? 'INVITE' : cseqMethod}`;
}

/**
 * RFC 2543 matching (§17.2.3, last paragraphs). The To tag is left out so that the ACK to a non-2xx response,
 * which carries the tag we added, still matches its INVITE.
 */
function legacyKey(req: SipRequest, via: Via, method: string): string {
  const callId = req.headers.get('call-id') ?? '';
  const fromTag = tagOf(req.headers.get('from') ?? '') ?? '';
  const cseq = (req.headers.get('cseq') ?? '').trim().split(/\s+/)[0];
  return `2543|${callId}|${fromTag}|${cseq}|${via.host}:${via.port ?? ''}|${method}|${req.uri}`;
}
