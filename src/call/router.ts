/**
 * Which service owns a new INVITE: the Request-URI's user part against the configured pilot numbers.
 * Diversion/History-Info (who the call was forwarded from) is the voicemail application's business, not the
 * router's: a forwarded call still arrives at the voicemail pilot or at a mailbox number.
 */
import type { SipRequest } from '../sip/message.js';
import { parseUri, uriUser } from '../sip/uri.js';

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

export class CallRouter {
  private readonly byNumber = new Map<string, ServiceName>();

  constructor(services: ServiceNumbers) {
    for (const n of services.voicemail) this.byNumber.set(n, 'voicemail');
    for (const n of services.attendant) this.byNumber.set(n, 'attendant');
    for (const n of services.echo) this.byNumber.set(n, 'echo');
  }

  route(req: SipRequest): Route | undefined {
    const uri = parseUri(req.uri);
    const user = uri ? uriUser(uri) : undefined;
    if (user === undefined) return undefined;
    // RFC 3966 visual separators in tel: URIs and user=phone numbers ("+1-555-0100") carry no meaning.
    const number = user.replace(/[-.()\s]/g, '');
    const service = this.byNumber.get(number);
    return service ? { service, number } : undefined;
  }
}
