/**
 * Non-INVITE server transaction: RFC 3261 §17.2.2 (Figure 8). Absorbs request retransmissions, resending the
 * last response; lingers in Completed for Timer J (64*T1 on UDP, 0 on reliable transports).
 */
import type { SipResponse } from '../message.js';
import { serializeMessage } from '../serialize.js';
import { TimerBag } from './timer-bag.js';
import type { TimerSet } from './timers.js';

export enum NonInviteServerState {
  /** Request received, nothing sent yet. */
  Trying = 'trying',
  /** A provisional was sent. */
  Proceeding = 'proceeding',
  /** A final was sent; absorbing retransmissions (Timer J). */
  Completed = 'completed',
  Terminated = 'terminated',
}

export class NonInviteServerTransaction {
  state = NonInviteServerState.Trying;
  private lastResponse: Buffer | undefined;
  private readonly timers = new TimerBag<'J'>();

  constructor(
    readonly key: string,
    private readonly send: (data: Buffer) => void,
    private readonly timerSet: TimerSet,
    private readonly onTerminated: () => void,
  ) {}

  /** A retransmission of the request. §17.2.2: Trying discards it; later states resend the last response. */
  receiveRequest(): void {
    if (this.lastResponse && this.state !== NonInviteServerState.Trying) this.send(this.lastResponse);
  }

  respond(res: SipResponse): void {
    if (this.state === NonInviteServerState.Completed || this.state === NonInviteServerState.Terminated) return;
    const bytes = serializeMessage(res);
    this.lastResponse = bytes;
    this.send(bytes);
    if (res.status < 200) {
      this.state = NonInviteServerState.Proceeding;
      return;
    }
    this.state = NonInviteServerState.Completed;
    this.timers.start('J', this.timerSet.J, () => this.terminate());
  }

  get finalSent(): boolean {
    return this.state === NonInviteServerState.Completed || this.state === NonInviteServerState.Terminated;
  }

  transportError(): void {
    this.terminate();
  }

  terminate(): void {
    if (this.state === NonInviteServerState.Terminated) return;
    this.state = NonInviteServerState.Terminated;
    this.timers.clearAll();
    this.onTerminated();
  }
}
