/**
 * INVITE server transaction: RFC 3261 §17.2.1 (Figure 7) as amended by RFC 6026 §7.1 (the "Accepted" state).
 *
 * The transaction absorbs retransmitted INVITEs, retransmits non-2xx finals on UDP (Timer G) until the ACK
 * arrives, and stays in Accepted after a 2xx so retransmitted INVITEs are absorbed while the TU (the dialog)
 * retransmits the 2xx itself (§13.3.1.4). It knows nothing about dialogs.
 */
import type { SipResponse } from '../message.js';
import { serializeMessage } from '../serialize.js';
import { TimerBag } from './timer-bag.js';
import type { TimerSet } from './timers.js';

export enum InviteServerState {
  /** INVITE received; provisional responses may be sent. */
  Proceeding = 'proceeding',
  /** A 300-699 was sent; retransmitting it until the ACK comes (Timers G, H). */
  Completed = 'completed',
  /** The ACK for the non-2xx arrived; absorbing ACK retransmissions (Timer I). */
  Confirmed = 'confirmed',
  /** RFC 6026: a 2xx was sent; absorbing INVITE retransmissions (Timer L). */
  Accepted = 'accepted',
  /** Gone; the layer forgets it. */
  Terminated = 'terminated',
}

export interface InviteServerTransactionUser {
  /** Timer H fired in Completed: the peer never acknowledged our failure response. */
  onAckTimeout?(): void;
  /** A final response was sent: the request is no longer pending (CANCEL can no longer apply). */
  onFinal?(): void;
  onTerminated(): void;
}

export class InviteServerTransaction {
  state = InviteServerState.Proceeding;
  private lastResponse: Buffer | undefined;
  private readonly timers = new TimerBag<'G' | 'H' | 'I' | 'L'>();
  private gInterval: number;

  constructor(
    readonly key: string,
    private readonly send: (data: Buffer) => void,
    private readonly timerSet: TimerSet,
    private readonly reliable: boolean,
    private readonly user: InviteServerTransactionUser,
  ) {
    this.gInterval = timerSet.G;
  }

  /** A retransmission of the INVITE (same key). */
  receiveInvite(): void {
    // §17.2.1: "If a request retransmission is received while in the "Proceeding" state, the most recent
    // provisional response that was received from the TU MUST be passed to the transport layer for
    // retransmission." In Completed the final response is resent the same way; Accepted absorbs (RFC 6026).
    if ((this.state === InviteServerState.Proceeding || this.state === InviteServerState.Completed) && this.lastResponse) {
      this.send(this.lastResponse);
    }
  }

  /** An ACK with this transaction's key (the ACK to our non-2xx). Returns true when absorbed here. */
  receiveAck(): boolean {
    if (this.state === InviteServerState.Completed) {
      this.state = InviteServerState.Confirmed;
      this.timers.stop('G');
      this.timers.stop('H');
      this.timers.start('I', this.timerSet.I, () => this.terminate());
      return true;
    }
    return this.state === InviteServerState.Confirmed;
  }

  /** Sends a response from the TU. Responses in the wrong state are ignored (the TU asked too late). */
  respond(res: SipResponse): void {
    const bytes = serializeMessage(res);
    if (this.state === InviteServerState.Accepted && res.status >= 200 && res.status < 300) {
      // RFC 6026 §7.1: 2xx retransmissions from the TU pass through in Accepted.
      this.send(bytes);
      return;
    }
    if (this.state !== InviteServerState.Proceeding) return;
    this.lastResponse = bytes;
    this.send(bytes);
    if (res.status < 200) return;
    this.user.onFinal?.();
    if (res.status < 300) {
      this.state = InviteServerState.Accepted;
      this.timers.start('L', this.timerSet.L, () => this.terminate());
      return;
    }
    this.state = InviteServerState.Completed;
    if (!this.reliable) this.scheduleG();
    this.timers.start('H', this.timerSet.H, () => {
      this.user.onAckTimeout?.();
      this.terminate();
    });
  }

  /** The transport could not deliver a response (§17.2.4): the transaction is over. */
  transportError(): void {
    this.terminate();
  }

  terminate(): void {
    if (this.state === InviteServerState.Terminated) return;
    this.state = InviteServerState.Terminated;
    this.timers.clearAll();
    this.user.onTerminated();
  }

  private scheduleG(): void {
    this.timers.start('G', this.gInterval, () => {
      if (this.state !== InviteServerState.Completed || !this.lastResponse) return;
      this.send(this.lastResponse);
      // §17.2.1: "the value of timer G is doubled, unless it is already at or above T2, in which case it is set to T2"
      this.gInterval = Math.min(this.gInterval * 2, this.timerSet.T2);
      this.scheduleG();
    });
  }
}
