/**
 * The SIP message model (RFC 3261 §7): a start line, ordered header fields, and a body of bytes.
 *
 * One model for requests and responses, used by every layer of the stack. Header names are kept as their
 * lower-case long form; values are kept as the text received (trimmed, folded lines joined), one entry per
 * list element for list headers (see LIST_HEADERS). Structured views of a header (Via, CSeq, name-addr)
 * come from the parsers in ./headers and are computed on demand, never stored here.
 *
 * This module does not parse bytes or know about transports: see parse.ts and serialize.ts.
 */
import { canonicalHeaderName, normalizeHeaderName } from './headers/header-names.js';

/** Ordered header fields keyed by lower-case long name. Insertion order is wire order. */
export class Headers {
  private readonly fields = new Map<string, string[]>();

  /** First value of a header, or undefined. */
  get(name: string): string | undefined {
    return this.fields.get(normalizeHeaderName(name))?.[0];
  }

  /** Every value of a header in wire order (an empty array when absent). */
  getAll(name: string): readonly string[] {
    return this.fields.get(normalizeHeaderName(name)) ?? EMPTY;
  }

  has(name: string): boolean {
    return this.fields.has(normalizeHeaderName(name));
  }

  /** Replaces every value of a header. */
  set(name: string, value: string | readonly string[]): this {
    const list = typeof value === 'string' ? [value] : [...value];
    this.fields.set(normalizeHeaderName(name), list);
    return this;
  }

  /** Adds a value after the existing ones. */
  append(name: string, value: string): this {
    const key = normalizeHeaderName(name);
    const list = this.fields.get(key);
    if (list) list.push(value);
    else this.fields.set(key, [value]);
    return this;
  }

  /** Adds a value before the existing ones (a proxy's Via, a Route being pushed). */
  prepend(name: string, value: string): this {
    const key = normalizeHeaderName(name);
    const list = this.fields.get(key);
    if (list) list.unshift(value);
    else this.fields.set(key, [value]);
    return this;
  }

  delete(name: string): this {
    this.fields.delete(normalizeHeaderName(name));
    return this;
  }

  /** [lower-case name, values] pairs in wire order. */
  entries(): IterableIterator<[string, string[]]> {
    return this.fields.entries();
  }

  /** Deep copy (values arrays are not shared). */
  clone(): Headers {
    const copy = new Headers();
    for (const [name, values] of this.fields) copy.fields.set(name, [...values]);
    return copy;
  }

  /** The wire spelling of a stored name, for serializers and logs. */
  static wireName(lowerName: string): string {
    return canonicalHeaderName(lowerName);
  }
}

const EMPTY: readonly string[] = Object.freeze([]);

export interface SipRequest {
  readonly kind: 'request';
  /** Method token, case-sensitive (RFC 3261 §7.1): "INVITE", "OPTIONS", or an extension method. */
  method: string;
  /** Request-URI as text, exactly as received (parse it with parseUri from uri.ts). */
  uri: string;
  headers: Headers;
  body: Buffer;
}

export interface SipResponse {
  readonly kind: 'response';
  status: number;
  reason: string;
  headers: Headers;
  body: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

export const EMPTY_BODY: Buffer = Buffer.alloc(0);

export function createRequest(method: string, uri: string, headers = new Headers(), body: Buffer = EMPTY_BODY): SipRequest {
  return { kind: 'request', method, uri, headers, body };
}

export function createResponseMessage(
  status: number,
  reason: string,
  headers = new Headers(),
  body: Buffer = EMPTY_BODY,
): SipResponse {
  return { kind: 'response', status, reason, headers, body };
}

/** A message could not be parsed or fails a rule that makes it unusable. `reason` names the fault. */
export class SipParseError extends Error {
  constructor(
    /** Short human phrase suitable for a 400 reason phrase, e.g. "Bad Content-Length". */
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'SipParseError';
  }
}
