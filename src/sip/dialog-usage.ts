/**
 * The one dialog table of the UA core (user-agent-core.ts), as SIP.js keeps it (UserAgentCore.dialogs): every
 * dialog vmpilot is in, whichever side created it, the INVITE sessions it answered (invite-session.ts) and the
 * calls it placed (outgoing-invite.ts). The core runs every request through the RFC 3261 §8.2 checks first,
 * then hands a request or ACK whose tags name a dialog here to that dialog's usage (§12.2.2).
 */
import type { IncomingRequest } from './incoming-request.js';
import type { SipResponse } from './message.js';

/** What the UA core delivers a dialog's traffic to. */
export interface DialogUsage {
  /** A request inside the dialog that passed the §8.2 checks (its To tag is already set on `inc` for the response). */
  inDialog(inc: IncomingRequest): void;
  /** An ACK inside the dialog (for a 2xx we sent: to the INVITE that made it, or to a re-INVITE). */
  ack(inc: IncomingRequest): void;
  /** A 2xx to an INVITE of ours that no client transaction took any more (§13.2.2.4): resend its ACK. */
  stray2xx?(res: SipResponse): void;
}

/** Where a dialog usage registers (the UA core). */
export interface DialogTable {
  /** Routes the dialog's traffic (RFC 3261 §12: Call-ID, local tag, remote tag) to `usage` until the returned function is called. */
  addDialog(id: string, usage: DialogUsage): () => void;
}
