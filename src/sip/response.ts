/**
 * Building a response to a request: RFC 3261 §8.2.6.2. Via (all values, in order), From, Call-ID and CSeq are
 * copied; To is copied and gets the UAS's tag unless it already has one; 100 Trying also copies Timestamp; a
 * response that establishes a dialog copies Record-Route (§12.1.1).
 */
import { Headers, createResponseMessage, type SipRequest, type SipResponse } from './message.js';
import { reasonPhrase } from './reason-phrases.js';

export interface ResponseOptions {
  reason?: string;
  /** Our To tag; ignored when the request's To already has a tag (an in-dialog request). */
  toTag?: string;
  headers?: Record<string, string | readonly string[]>;
  body?: Buffer;
  contentType?: string;
}

/** Requests that create a dialog when answered 1xx (with a To tag) or 2xx: RFC 3261 §12.1, RFC 6665 §4.1.2.2 and §4.2.1, RFC 3515 §2.4.4. */
const DIALOG_CREATING = new Set(['INVITE', 'SUBSCRIBE', 'REFER']);

export function buildResponse(req: SipRequest, status: number, opts: ResponseOptions = {}): SipResponse {
  const src = req.headers;
  const headers = new Headers();
  const vias = src.getAll('via');
  if (vias.length > 0) headers.set('via', vias);
  const from = src.get('from');
  if (from !== undefined) headers.set('from', from);
  const to = src.get('to');
  if (to !== undefined) {
    headers.set('to', opts.toTag !== undefined && status > 100 && !hasTag(to) ? `${to};tag=${opts.toTag}` : to);
  }
  const callId = src.get('call-id');
  if (callId !== undefined) headers.set('call-id', callId);
  const cseq = src.get('cseq');
  if (cseq !== undefined) headers.set('cseq', cseq);
  // §12.1.1: "When a UAS responds to a request with a response that establishes a dialog (such as a 2xx to
  // INVITE), the UAS MUST copy all Record-Route header field values from the request into the response
  // (including the URIs, URI parameters, and any Record-Route header field parameters, whether they are known
  // or unknown to the UAS) and MUST maintain the order of those values." Without them the proxy that asked to
  // stay in the path (Kamailio in front of several hosts) never sees the ACK, BYE or NOTIFYs of the dialog.
  if (status > 100 && status < 300 && DIALOG_CREATING.has(req.method) && !hasTag(to ?? '')) {
    const recordRoute = src.getAll('record-route');
    if (recordRoute.length > 0) headers.set('record-route', recordRoute);
  }
  if (status === 100) {
    const timestamp = src.get('timestamp');
    if (timestamp !== undefined) headers.set('timestamp', timestamp);
  }
  if (opts.headers) {
    for (const [name, value] of Object.entries(opts.headers)) headers.set(name, value);
  }
  if (opts.body && opts.body.length > 0 && opts.contentType) headers.set('content-type', opts.contentType);
  return createResponseMessage(status, opts.reason ?? reasonPhrase(status), headers, opts.body);
}

/** True when a From/To value carries a tag parameter outside its URI. */
export function hasTag(nameAddrValue: string): boolean {
  return tagOf(nameAddrValue) !== undefined;
}

/**
 * The tag parameter of a From/To value, or undefined. Looks only after the URI (after '>' for name-addr form)
 * so that a ";tag=" inside a URI cannot be mistaken for it.
 */
export function tagOf(nameAddrValue: string): string | undefined {
  const close = nameAddrValue.lastIndexOf('>');
  const tail = close >= 0 ? nameAddrValue.slice(close + 1) : nameAddrValue;
  const match = /;\s*tag\s*=\s*([^;\s,]+)/i.exec(tail);
  return match?.[1];
}
