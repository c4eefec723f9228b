/**
 * The out-of-dialog ("unsolicited") NOTIFY message-summary sent to a PBX, as MX-ONE's `mwinumber`, Asterisk's
 * unsolicited MWI and most SIP trunks to a voicemail system expect it:
 *
 *   NOTIFY sip:27000@192.168.222.10:5060 SIP/2.0       the target URI with the mailbox as its user
 *   From: <sip:27000@vm-host>;tag=...                  the mailbox, at us
 *   To: <sip:27000@192.168.222.10:5060>                the mailbox, at the PBX
 *   Contact: <sip:27000@vm-host:5060>
 *   Event: message-summary
 *   Subscription-State: active
 *   Content-Type: application/simple-message-summary
 *
 * Why `Subscription-State: active`: RFC 3265 §3.2.2 (kept by RFC 6665 §4.2.2): "NOTIFY requests MUST contain
 * a "Subscription-State" header with a value of "active", "pending", or "terminated"", and strict parsers
 * (pjsip, sofia) reject a NOTIFY without one. Of the three values, `terminated` tells a receiver
 * that this is the last NOTIFY it will get and some PBXs then ignore the body (or answer 481 for a
 * subscription they never had), and `pending` says the state is not yet authorised; `active` is what phone
 * vendors' documentation of unsolicited MWI shows and what Asterisk and Cisco send. No `expires` parameter:
 * there is no subscription to expire.
 *
 * Pure: builds a SipRequest; the stack adds Via and Max-Forwards when it sends it.
 */
import { Headers, createRequest, type SipRequest } from '../sip/message.js';
import { formatUri, type SipUri } from '../sip/uri.js';
import { formatHost } from '../sip/headers/tokens.js';
import { newCallId, newTag } from '../sip/ids.js';
import type { TransportName } from '../sip/transport/types.js';
import type { MessageCounts } from '../store/types.js';
import { MESSAGE_SUMMARY_EVENT, MESSAGE_SUMMARY_TYPE, buildMessageSummary } from './message-summary.js';

export interface UnsolicitedNotifyInput {
  /** A configured `pbx[].mwi.targets` entry, parsed. */
  target: SipUri;
  mailbox: string;
  counts: MessageCounts;
  /** Our address and port as the PBX reaches them (stack.localEndpoint). */
  local: { address: string; port: number };
  /** The transport the request goes over (for our Contact). */
  transport: TransportName;
}

/** The Request-URI: the target with the mailbox number as its user part. */
export function notifyRequestUri(target: SipUri, mailbox: string): string {
  return formatUri({ ...target, user: mailbox, password: undefined, headers: new Map() });
}

export function buildUnsolicitedNotify(input: UnsolicitedNotifyInput): SipRequest {
  const { target, mailbox, local, transport } = input;
  const requestUri = notifyRequestUri(target, mailbox);
  // The account the summary is about, as the PBX knows it: the Request-URI without its parameters.
  const account = formatUri({ scheme: target.scheme, user: mailbox, host: target.host, port: target.port, params: new Map(), headers: new Map() });
  const localHost = formatHost(local.address);
  const h = new Headers();
  h.set('from', `<${target.scheme}:${escapeUser(mailbox)}@${localHost}>;tag=${newTag()}`);
  h.set('to', `<${account}>`);
  h.set('call-id', newCallId(local.address.includes(':') ? undefined : local.address));
  h.set('cseq', '1 NOTIFY');
  h.set('contact', `<${target.scheme}:${escapeUser(mailbox)}@${localHost}:${local.port}${transport === 'udp' ? '' : `;transport=${transport}`}>`);
  h.set('event', MESSAGE_SUMMARY_EVENT);
  h.set('subscription-state', 'active');
  h.set('content-type', MESSAGE_SUMMARY_TYPE);
  return createRequest('NOTIFY', requestUri, h, buildMessageSummary(input.counts, account));
}

/** A mailbox number in a URI user part: digits, '*', '#' (escaped) and '+'. */
function escapeUser(user: string): string {
  return formatUri({ scheme: 'sip', user, host: 'x', params: new Map(), headers: new Map() }).slice(4, -2);
}
