/**
 * Non-INVITE client transaction: RFC 3261 §17.1.2 (Figure 6). Retransmits on UDP (Timer E, doubling up to
 * T2, then every T2 once a provisional arrived) until a final or Timer F; lingers for Timer K to absorb
 * retransmitted responses.
 */
import type { SipRequest, SipResponse } from '../message.js';
import { serializeMessage } from '../serialize.js';
import type { ClientTransactionUser } from './client-transaction-user.js';
import { TimerBag } from './timer-bag.js';
import type { TimerSet } from './timers.js';

export enum NonInviteClientState {
  /** Request sent, nothing heard. */
  Trying = 'trying',
  /** A provisional arrived. */
  Proceeding = 'proceeding',
  /** A final arrived; absorbing retransmissions (Timer K). */
  Completed = 'completed',
  Terminated = 'terminated',
}

export class NonInviteClientTransaction {
  state = NonInviteClientState.Trying;
  private readonly timers = new TimerBag<'E' | 'F' | 'K'>();
  private readonly bytes: Buffer;
  private eInterval: number;

  constructor(
    readonly key: string,
    readonly request: SipRequest,
    private readonly send: (data: Buffer) => void,
    private readonly timerSet: TimerSet,
    private readonly reliable: boolean,
    private readonly user: ClientTransactionUser,
  ) {
    this.bytes = serializeMessage(request);
    this.eInterval = timerSet.E;
  }

  start(): void {
    this.send(this.bytes);
    if (!this.reliable) this.scheduleE();
    this.timers.start('F', this.timerSet.F, () => {
      if (this.state === NonInviteClientState.Completed || this.state === NonInviteClientState.Terminated) return;
      this.user.onTimeout();
      this.terminate();
    });
  }

  receiveResponse(res: SipResponse): void {
    if (this.state === NonInviteClientState.Completed || this.state === NonInviteClientState.Terminated) return;
    if (res.status < 200) {
      this.state = NonInviteClientState.Proceeding;
      this.user.onResponse(res);
      return;
    }
    this.state = NonInviteClientState.Completed;
    this.timers.stop('E');
    this.timers.stop('F');
    this.user.onResponse(res);
    this.timers.start('K', this.timerSet.K, () => this.terminate());
  }

  transportError(): void {
    if (this.state === NonInviteClientState.Terminated) return;
    this.user.onTransportError();
    this.terminate();
  }

  terminate(): void {
    if (this.state === NonInviteClientState.Terminated) return;
    this.state = NonInviteClientState.Terminated;
    this.timers.clearAll();
    this.user.onTerminated?.();
  }

  private scheduleE(): void {
    this.timers.start('E', this.eInterval, () => {
      if (this.state !== NonInviteClientState.Trying && this.state !== NonInviteClientState.Proceeding) return;
      this.send(this.bytes);
      // §17.1.2.2: in Trying the interval doubles up to T2; in Proceeding it is T2.
      this.eInterval = this.state === NonInviteClientState.Proceeding ? this.timerSet.T2 : Math.min(this.eInterval * 2, this.timerSet.T2);
      this.scheduleE();
    });
  }
}
