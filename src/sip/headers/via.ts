/**
 * One Via header field value (RFC 3261 §20.42, grammar §25.1):
 *
 *   via-parm      = sent-protocol LWS sent-by *( SEMI via-params )
 *   sent-protocol = protocol-name SLASH protocol-version SLASH transport
 *   sent-by       = host [ COLON port ]
 *
 * SLASH, COLON and SEMI allow whitespace around them (RFC 4475 §3.1.1.1 puts line folds there). The protocol
 * name and version are checked only as tokens: a "SIP/7.0" Via must still be readable so that the 505 for
 * that request can be routed back (RFC 4475 §3.1.2.16). The host is lower-cased and an IPv6 reference loses
 * its brackets (formatVia puts them back).
 *
 * branch, received and rport are also in `params`; formatVia writes the typed fields over the map entries so
 * that a layer which sets `via.received` alone still gets it on the wire.
 */
import { formatParams, parseParams, type Params } from './params.js';
import { formatHost, scanHost, scanPort, scanToken, skipWs } from './tokens.js';

export interface Via {
  /** Upper-case transport token: UDP, TCP, TLS, SCTP, WS, ... (unknown ones are kept, RFC 4475 §3.1.1.10). */
  transport: string;
  host: string;
  port?: number;
  params: Params;
  branch?: string;
  received?: string;
  /** RFC 3581: null when present without a value (the client asks for it), a number once filled in. */
  rport?: number | null;
}

export function parseVia(value: string): Via | undefined {
  const s = value;
  let i = skipWs(s, 0);
  // protocol-name SLASH protocol-version SLASH transport
  let j = scanToken(s, i);
  if (j === i) return undefined;
  i = skipWs(s, j);
  if (s.charCodeAt(i) !== 47 /* / */) return undefined;
  i = skipWs(s, i + 1);
  j = scanToken(s, i);
  if (j === i) return undefined;
  i = skipWs(s, j);
  if (s.charCodeAt(i) !== 47) return undefined;
  i = skipWs(s, i + 1);
  j = scanToken(s, i);
  if (j === i) return undefined;
  const transport = s.slice(i, j).toUpperCase();
  // LWS, then sent-by
  i = skipWs(s, j);
  if (i === j) return undefined;
  const host = scanHost(s, i);
  if (!host) return undefined;
  i = skipWs(s, host.end);
  let port: number | undefined;
  if (s.charCodeAt(i) === 58 /* : */) {
    const p = scanPort(s, skipWs(s, i + 1));
    if (!p) return undefined;
    port = p.port;
    i = p.end;
  }
  const params = parseParams(s, i);
  if (!params) return undefined;

  const via: Via = { transport, host: host.host, params };
  if (port !== undefined) via.port = port;
  // via-branch = "branch" EQUAL token; via-received = "received" EQUAL (IPv4address / IPv6address)
  const branch = params.get('branch');
  if (branch === null) return undefined;
  if (branch !== undefined) via.branch = branch;
  const received = params.get('received');
  if (received === null) return undefined;
  if (received !== undefined) via.received = received;
  // RFC 3581: response-port = "rport" [EQUAL 1*DIGIT]
  const rport = params.get('rport');
  if (rport === null) via.rport = null;
  else if (rport !== undefined) {
    const p = scanPort(rport, 0);
    if (!p || p.end !== rport.length) return undefined;
    via.rport = p.port;
  }
  return via;
}

export function formatVia(via: Via): string {
  const params: Params = new Map(via.params);
  if (via.branch !== undefined) params.set('branch', via.branch);
  if (via.received !== undefined) params.set('received', via.received);
  if (via.rport !== undefined) params.set('rport', via.rport === null ? null : String(via.rport));
  const port = via.port === undefined ? '' : `:${via.port}`;
  return `SIP/2.0/${via.transport.toUpperCase()} ${formatHost(via.host)}${port}${formatParams(params)}`;
}
