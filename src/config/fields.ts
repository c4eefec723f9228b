/**
 * Parsers for the config file's compact string fields: listen specs ("udp:0.0.0.0:5060"), RTP port ranges
 * ("20000-29999"), addresses and CIDR blocks, dial strings, SIP URIs, host names.
 *
 * Pure functions: each returns the parsed value or a message saying what is wrong, in words an operator can act
 * on. They never throw. The zod schema (schema.ts) turns a message into an issue at the field's path.
 */
import { isIP } from 'node:net';

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

export type ListenTransport = 'udp' | 'tcp' | 'tls';

export interface ListenSpec {
  transport: ListenTransport;
  /** IPv4 or IPv6 address to bind, without brackets. */
  host: string;
  /** 0 means "any free port" (tests use it). */
  port: number;
}

const TRANSPORTS: readonly ListenTransport[] = ['udp', 'tcp', 'tls'];

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(message: string): Parsed<T> => ({ ok: false, message });

/** "udp:0.0.0.0:5060", "tls:[::]:5061". The host must be an address (something to bind), not a name. */
export function parseListenSpec(spec: string): Parsed<ListenSpec> {
  const example = 'expected transport:address:port, e.g. "udp:0.0.0.0:5060" or "udp:[::]:5060"';
  const colon = spec.indexOf(':');
  if (colon < 0) return fail(example);
  const transport = spec.slice(0, colon);
  if (!(TRANSPORTS as readonly string[]).includes(transport)) {
    return fail(`unknown transport "${transport}" (expected udp, tcp or tls)`);
  }
  const bind = parseBindAddress(spec.slice(colon + 1), example, `${transport}:`);
  return bind.ok ? ok({ transport: transport as ListenTransport, ...bind.value }) : bind;
}

/** "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:0": an address to bind and a port (http.listen). */
export function parseHostPort(text: string): Parsed<{ host: string; port: number }> {
  return parseBindAddress(text, 'expected address:port, e.g. "127.0.0.1:8080" or "[::1]:8080"', '');
}

/** "address:port" or "[v6]:port"; `prefix` is what the operator wrote before it, for the bracket hint. */
function parseBindAddress(rest: string, example: string, prefix: string): Parsed<{ host: string; port: number }> {
  let host: string;
  let portText: string;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0 || rest[close + 1] !== ':') return fail(example);
    host = rest.slice(1, close);
    portText = rest.slice(close + 2);
    if (isIP(host) !== 6) return fail(`"${host}" is not an IPv6 address`);
  } else {
    const last = rest.lastIndexOf(':');
    if (last < 0) return fail(example);
    host = rest.slice(0, last);
    portText = rest.slice(last + 1);
    if (host.includes(':')) return fail(`IPv6 addresses go in brackets, e.g. "${prefix}[${host}]:${portText}"`);
    if (isIP(host) !== 4) return fail(`"${host}" is not an IP address (use 0.0.0.0 or [::] for all addresses)`);
  }
  const port = parsePort(portText, 0);
  return port.ok ? ok({ host, port: port.value }) : port;
}

/** A decimal port from `min` to 65535. */
export function parsePort(text: string, min: number): Parsed<number> {
  if (!/^\d{1,5}$/.test(text)) return fail(`port "${text}" is not a number`);
  const port = Number(text);
  if (port < min || port > 65535) {
    return fail(`port ${port} is out of range (${min}-65535${min === 0 ? '; 0 picks a free port' : ''})`);
  }
  return ok(port);
}

export interface PortRange {
  min: number;
  max: number;
}

/** "20000-29999": RTP takes the even ports, RTCP the odd port above each (RFC 3550 §11). */
export function parsePortRange(text: string): Parsed<PortRange> {
  const m = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(text);
  if (!m) return fail(`expected a range of ports like "20000-29999", got "${text}"`);
  const min = Number(m[1]);
  const max = Number(m[2]);
  for (const p of [min, max]) {
    if (p < 1024 || p > 65535) return fail(`port ${p} is out of range (1024-65535)`);
  }
  if (min >= max) return fail(`the first port (${min}) must be below the last (${max})`);
  // RFC 3550 §11: "RTP SHOULD use an even destination port number and the corresponding RTCP stream
  // SHOULD use the next higher (odd) destination port number".
  if (min % 2 !== 0) return fail(`the range must start on an even port (RTP uses even ports, RTCP the odd one above), got ${min}`);
  return ok({ min, max });
}

/** An IPv4/IPv6 address or a CIDR block ("10.0.0.0/8", "2001:db8::/32"). Returns a message, or undefined if valid. */
export function checkAddressOrCidr(text: string): string | undefined {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return `"${text}" is not an IP address or CIDR block`;
  if (slash < 0) return undefined;
  const bits = text.slice(slash + 1);
  const maxBits = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > maxBits) {
    return `"${text}": prefix length must be 0-${maxBits}`;
  }
  return undefined;
}

/** An address to bind to. Returns a message, or undefined if valid. */
export function checkBindAddress(text: string): string | undefined {
  return isIP(text) === 0 ? `"${text}" is not an IP address (use 0.0.0.0 or :: for all addresses)` : undefined;
}

/** An API token's name (http.tokens[].name, `vmpilot http token NAME`): it goes in every request's log line. */
export const HTTP_TOKEN_NAME = /^[A-Za-z0-9_.@-]{1,64}$/;

/** Digits, * and #, optionally after a leading + (E.164). */
export const DIAL_STRING = /^\+?[0-9*#]+$/;

/** A PIN: the PIN policy's format (store/pin.ts), one rule for the config, the CLI and the phone. */
export { PIN_FORMAT as PIN } from '../store/pin.js';

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOSTNAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*\\.?$`);

/**
 * A host name or IP address that peers can reach (sip.advertise). IPv6 may be written with or without
 * brackets; the value returned has none.
 */
export function parseAdvertise(text: string): Parsed<string> {
  const host = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const family = isIP(host);
  if (family !== 0) {
    if (host === '0.0.0.0' || host === '::') return fail(`"${text}" is not reachable; give the address peers should send to`);
    return ok(host);
  }
  if (host !== text || !HOSTNAME.test(host)) return fail(`"${text}" is not a host name or IP address`);
  return ok(host);
}

/**
 * The address written in our SDP c= line (rtp.advertise): an IP address, not a name. RFC 4566 §5.7 allows a
 * name there, but PBXs and SBCs expect an address and do not resolve one on the media path.
 */
export function parseMediaAdvertise(text: string): Parsed<string> {
  const parsed = parseAdvertise(text);
  if (parsed.ok && isIP(parsed.value) === 0) return fail(`"${text}" is not an IP address (SDP needs the address itself)`);
  return parsed;
}

const SIP_URI = /^sips?:(?:[^@\s]+@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?(?:;[^\s]*)?$/i;

/** "sip:192.168.222.10:5060", "sips:pbx.example.com;transport=tcp". Returns a message, or undefined if valid. */
export function checkSipUri(text: string): string | undefined {
  const m = SIP_URI.exec(text);
  if (!m) return `"${text}" is not a SIP URI (expected e.g. "sip:192.168.222.10:5060")`;
  const host = m[1]!;
  if (host.startsWith('[') ? isIP(host.slice(1, -1)) !== 6 : isIP(host) === 0 && !HOSTNAME.test(host)) {
    return `"${text}": "${host}" is not a host name or IP address`;
  }
  if (m[2] !== undefined) {
    const port = parsePort(m[2], 1);
    if (!port.ok) return `"${text}": ${port.message}`;
  }
  return undefined;
}
