import type { SipResponse } from '../message.js';

/** What a client transaction tells the layer above (the UAC core or a dialog). */
export interface ClientTransactionUser {
  /** Every response the TU must see: provisionals, the final, and (INVITE, RFC 6026) retransmitted 2xx. */
  onResponse(res: SipResponse): void;
  /** Timer B or F fired with no final response: the TU treats it as 408 (§8.1.3.1). */
  onTimeout(): void;
  /** The transport failed to send (§8.1.3.1: treated as 503). */
  onTransportError(): void;
  onTerminated?(): void;
}
