/**
 * Our Contact for a dialog a request creates (an INVITE's 2xx, a SUBSCRIBE's): the host and port the peer
 * reached us on, in the request's transport, with the user part it dialled.
 */
import type { IncomingRequest } from './incoming-request.js';
import type { SipStack } from './stack.js';
import { parseUri, uriScheme, uriUser } from './uri.js';
import { parseNameAddr } from './headers/name-addr.js';

/** RFC 3261 §12.1.1: whether the dialog-creating request used a SIPS URI where the rule looks. */
function dialogIsSips(inc: IncomingRequest): boolean {
  const h = inc.message.headers;
  const top = h.getAll('record-route')[0] ?? h.getAll('contact')[0];
  const topUri = top !== undefined ? parseNameAddr(top)?.uri : undefined;
  return uriScheme(inc.message.uri) === 'sips' || (topUri !== undefined && uriScheme(topUri) === 'sips');
}

export function localContact(stack: SipStack, inc: IncomingRequest): string {
  const flow = inc.flow;
  // Our address as the peer of this flow reaches it (the route's source address, or sip.advertise).
  const local = stack.localEndpoint({ transport: flow.transport, address: flow.remoteAddress, port: flow.remotePort });
  const host = local.address.includes(':') ? `[${local.address}]` : local.address;
  const uri = parseUri(inc.message.uri);
  const user = uri ? uriUser(uri) : undefined;
  // RFC 3261 §12.1.1: "If the request that initiated the dialog contained a SIPS URI in the Request-URI or in
  // the top Record-Route header field value, if there was any, or the Contact header field if there was no
  // Record-Route header field, the Contact header field in the response MUST be a SIPS URI."
  // Otherwise answer in kind with sip:...;transport=tls: a caller that dialled a sip: URI over TLS may not
  // handle a sips: remote target (baresip/libre drops the call with ENOSYS and never sends the ACK).
  const scheme = flow.transport === 'tls' && dialogIsSips(inc) ? 'sips' : 'sip';
  const params = flow.transport === 'udp' ? '' : `;transport=${flow.transport}`;
  return `<${scheme}:${user ? `${user}@` : ''}${host}:${flow.localPort}${params}>`;
}
