/**
 * Which service owns a new INVITE, from the Request-URI's number:
 *
 *   a configured pilot number (services.voicemail / attendant / echo)  ─► that service
 *   a mailbox number or alias (a PBX or phone dialling the mailbox directly: Asterisk's
 *   Dial(SIP/vmpilot/27000), a DID routed to vmpilot)                  ─► voicemail, to leave a message there
 *   anything else                                                      ─► no route (the server answers 404)
 *
 * Diversion/History-Info (who the call was forwarded from) is the voicemail application's business, not the
 * router's: a forwarded call still arrives at the voicemail pilot or at a mailbox number. The router asks
 * `mailboxes` synchronously (a set kept in memory, store/mailbox-numbers.ts): no store query per INVITE.
 */
import type { SipRequest } from '../sip/message.js';
import { parseUri } from '../sip/uri.js';
import { uriNumber } from './uri-number.js';

export type ServiceName = 'voicemail' | 'attendant' | 'echo';

export interface Route {
  service: ServiceName;
  /** The number dialled, as the PBX sent it (after stripping visual separators). */
  number: string;
}

export interface ServiceNumbers {
  voicemail: readonly string[];
  attendant: readonly string[];
  echo: readonly string[];
}

/** Whether a number is a mailbox's number or one of its aliases, answered from memory. */
export interface MailboxNumberLookup {
  has(number: string): boolean;
}

const NO_MAILBOXES: MailboxNumberLookup = { has: () => false };

export class CallRouter {
  private readonly byNumber = new Map<string, ServiceName>();

  constructor(
    services: ServiceNumbers,
    private readonly mailboxes: MailboxNumberLookup = NO_MAILBOXES,
  ) {
    for (const n of services.voicemail) this.byNumber.set(n, 'voicemail');
    for (const n of services.attendant) this.byNumber.set(n, 'attendant');
    for (const n of services.echo) this.byNumber.set(n, 'echo');
  }

  route(req: SipRequest): Route | undefined {
    const number = uriNumber(parseUri(req.uri));
    if (number === undefined) return undefined;
    const service = this.byNumber.get(number) ?? (this.mailboxes.has(number) ? 'voicemail' : undefined);
    return service ? { service, number } : undefined;
  }
}
