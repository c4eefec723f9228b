/**
 * Delivers in-dialog traffic for dialogs that vmpilot created as a UAC (outgoing-invite.ts): the far end's
 * BYE, re-INVITE, UPDATE and INFO, the ACK for our 2xx to its re-INVITE, and 2xx retransmissions that arrive
 * after the INVITE transaction is gone (§13.2.2.4). Everything else goes on, untouched, to the transaction
 * user that was there before (the UA core, user-agent-core.ts).
 *
 * It sits in front of the UA core on the stack's `tu` slot, the way pjsip's endpoint offers each incoming
 * message to its modules in priority order until one claims it: the UA core keeps its one job (the UAS side),
 * and server.ts does not change. It installs itself the first time a stack needs it (`UacDialogRouter.of`).
 * FIXME: a UserAgentCore created on the same stack after that would displace it; server.ts creates the core
 * once at start-up, before any call. Folding this map into UserAgentCore.inDialog is the longer-term home.
 *
 * It does not check Require or Max-Forwards for the dialogs it claims (the UA core does that for its own).
 */
import type { SipResponse } from './message.js';
import type { IncomingRequest } from './incoming-request.js';
import type { SipStack, TransactionUser } from './stack.js';
import { dialogId } from './dialog.js';
import { tagOf } from './response.js';

/** A dialog usage the router delivers to. */
export interface UacDialogUsage {
  /** A request inside the dialog (its To tag is already set on `inc` for the response). */
  inDialog(inc: IncomingRequest): void;
  /** An ACK inside the dialog (for our 2xx to the far end's re-INVITE). */
  ack(inc: IncomingRequest): void;
  /** A 2xx to our INVITE that no client transaction took (Timer M has fired): resend the ACK. */
  stray2xx(res: SipResponse): void;
}

const ROUTERS = new WeakMap<SipStack, UacDialogRouter>();

export class UacDialogRouter implements TransactionUser {
  private readonly usages = new Map<string, UacDialogUsage>();

  private constructor(private readonly inner: TransactionUser | undefined) {}

  /** The stack's router, installed in front of its current transaction user on first use. */
  static of(stack: SipStack): UacDialogRouter {
    let router = ROUTERS.get(stack);
    if (!router) {
      router = new UacDialogRouter(stack.tu);
      stack.tu = router;
      ROUTERS.set(stack, router);
    }
    return router;
  }

  /** Dialogs registered now (leak tests). */
  get size(): number {
    return this.usages.size;
  }

  /** Routes the dialog's traffic to `usage` until the returned function is called. */
  add(id: string, usage: UacDialogUsage): () => void {
    this.usages.set(id, usage);
    return () => {
      if (this.usages.get(id) === usage) this.usages.delete(id);
    };
  }

  onRequest(inc: IncomingRequest): void {
    const found = this.claim(inc);
    if (!found) {
      this.inner?.onRequest(inc);
      return;
    }
    inc.useToTag(found.localTag);
    found.usage.inDialog(inc);
  }

  onAck(ack: IncomingRequest): void {
    const found = this.claim(ack);
    if (found) found.usage.ack(ack);
    else this.inner?.onAck(ack);
  }

  onCancel(invite: IncomingRequest): void {
    // We answer the far end's re-INVITEs at once, so a CANCEL for one finds nothing to stop (§9.2: "the
    // CANCEL has no effect"); the UA core does the same for an INVITE it does not know.
    this.inner?.onCancel(invite);
  }

  onStray2xx(res: SipResponse): void {
    // Our INVITE: the From tag is ours, the To tag the far end's.
    const local = tagOf(res.headers.get('from') ?? '');
    const remote = tagOf(res.headers.get('to') ?? '');
    const usage = local !== undefined && remote !== undefined ? this.usages.get(dialogId(res.headers.get('call-id') ?? '', local, remote)) : undefined;
    if (usage) usage.stray2xx(res);
    else this.inner?.onStray2xx?.(res);
  }

  /** A request from the far end of one of our dialogs: our tag is in To, theirs in From. */
  private claim(inc: IncomingRequest): { usage: UacDialogUsage; localTag: string } | undefined {
    if (this.usages.size === 0) return undefined;
    const localTag = tagOf(inc.message.headers.get('to') ?? '');
    const remoteTag = tagOf(inc.message.headers.get('from') ?? '');
    if (localTag === undefined || remoteTag === undefined) return undefined;
    const usage = this.usages.get(dialogId(inc.callId, localTag, remoteTag));
    return usage ? { usage, localTag } : undefined;
  }
}
