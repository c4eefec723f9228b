/**
 * Building a response to a request: RFC 3261 §8.2.6.2. Via (all values, in order), From, Call-ID and CSeq are
 * copied; To is copied and gets the UAS's tag unless it already has one; 100 Trying also copies Timestamp.
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
