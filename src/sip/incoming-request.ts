/**
 * A request as the transaction user sees it: the message, where it came from, its server transaction, and a
 * respond() that builds the response per §8.2.6 and sends it through that transaction.
 */
import type { SipRequest, SipResponse } from './message.js';
import type { Via } from './headers/via.js';
import type { Flow } from './transport/types.js';
import { buildResponse, type ResponseOptions } from './response.js';
import { newTag } from './ids.js';
import type { InviteServerTransaction } from './transaction/invite-server-transaction.js';
import type { NonInviteServerTransaction } from './transaction/non-invite-server-transaction.js';

export type ServerTransaction = InviteServerTransaction | NonInviteServerTransaction;

export class IncomingRequest {
  private tag: string | undefined;

  constructor(
    readonly message: SipRequest,
    readonly flow: Flow,
    /** Top Via with received/rport already filled in (§18.2.1, RFC 3581). */
    readonly via: Via,
    /** Absent for ACK, which has no server transaction of its own. */
    readonly transaction: ServerTransaction | undefined,
    private readonly decorate: (res: SipResponse) => void,
  ) {}

  get method(): string {
    return this.message.method;
  }

  get callId(): string {
    return this.message.headers.get('call-id') ?? '';
  }

  /** Our To tag for responses to this request (one per request, so a dialog's responses share it). */
  get toTag(): string {
    this.tag ??= newTag();
    return this.tag;
  }

  /** Sets the To tag, e.g. to the tag of an existing dialog. */
  useToTag(tag: string): void {
    this.tag = tag;
  }

  respond(status: number, opts: ResponseOptions = {}): SipResponse {
    const res = buildResponse(this.message, status, { toTag: this.toTag, ...opts });
    this.decorate(res);
    this.transaction?.respond(res);
    return res;
  }
}
