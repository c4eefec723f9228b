/**
 * Where to send a request addressed to a URI (RFC 3263 reduced to what PBX trunks use): the transport from
 * the `transport` parameter or the scheme (sips → TLS), the port from the URI or the transport's default,
 * and the host's address — an IP literal as it is, a name through the system resolver. SRV and NAPTR are not
 * looked up (FIXME: PBX clusters published only by SRV need them; the 302 front door work may add it).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { parseUri } from './uri.js';
import type { SendTarget, TransportName } from './transport/types.js';

export function defaultPort(transport: TransportName): number {
  return transport === 'tls' ? 5061 : 5060;
}

export async function resolveTarget(uriText: string): Promise<SendTarget> {
  const uri = parseUri(uriText);
  if (uri === undefined || uri.scheme === 'tel') throw new TypeError(`cannot send to ${uriText}: not a sip or sips URI`);
  const param = uri.params.get('transport');
  let transport: TransportName = uri.scheme === 'sips' ? 'tls' : 'udp';
  if (typeof param === 'string') {
    const lower = param.toLowerCase();
    if (lower === 'tcp') transport = uri.scheme === 'sips' ? 'tls' : 'tcp';
    else if (lower === 'tls') transport = 'tls';
    else if (lower !== 'udp') throw new TypeError(`cannot send to ${uriText}: transport ${param} is not supported`);
  }
  const maddr = uri.params.get('maddr');
  const host = typeof maddr === 'string' ? maddr : uri.host;
  const address = isIP(host) ? host : (await lookup(host)).address;
  return { transport, address, port: uri.port ?? defaultPort(transport) };
}
