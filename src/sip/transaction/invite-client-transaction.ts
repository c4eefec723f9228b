/**
 * INVITE client transaction: RFC 3261 §17.1.1 (Figure 5) with RFC 6026 §7.2 (the "Accepted" state, in which
 * retransmitted 2xx responses are passed to the TU so that it re-sends the ACK).
 *
 * The transaction generates the ACK for a non-2xx final itself (§17.1.1.3); the ACK for a 2xx belongs to the
 * dialog and is not sent here.
 */
import { Headers, createRequest, type SipRequest, type SipResponse } from '../message.js';
import { serializeMessage } from '../serialize.js';
import type { ClientTransactionUser } from './client-transaction-user.js';
import { TimerBag } from './timer-bag.js';
import type { TimerSet } from './timers.js';

export enum InviteClientState {
  /** INVITE sent, nothing heard; retransmitting on UDP (Timer A) until Timer B. */
  Calling = 'calling',
  /** A provisional arrived; waiting for the final. */
  Proceeding = 'proceeding',
  /** A 300-699 arrived and was ACKed; absorbing its retransmissions (Timer D). */
  Completed = 'completed',
  /** RFC 6026: a 2xx arrived; passing 2xx retransmissions up (Timer M). */
  Accepted = 'accepted',
  Terminated = 'terminated',
}

export class InviteClientTransaction {
  state = InviteClientState.Calling;
  private readonly timers = new TimerBag<'A' | 'B' | 'D' | 'M'>();
  private readonly bytes: Buffer;
  private aInterval: number;
  private ackBytes: Buffer | undefined;

  constructor(
    readonly key: string,
    readonly request: SipRequest,
    private readonly send: (data: Buffer) => void,
    private readonly timerSet: TimerSet,
    private readonly reliable: boolean,
    private readonly user: ClientTransactionUser,
  ) {
    this.bytes = serializeMessage(request);
    this.aInterval = timerSet.A;
  }

  start(): void {
    this.send(this.bytes);
    if (!this.reliable) this.scheduleA();
    this.timers.start('B', this.timerSet.B, () => {
      if (this.state !== InviteClientState.Calling && this.state !== InviteClientState.Proceeding) return;
      this.user.onTimeout();
      this.terminate();
    });
  }

  receiveResponse(res: SipResponse): void {
    switch (this.state) {
      case InviteClientState.Calling:
      case InviteClientState.Proceeding:
        this.timers.stop('A');
        if (res.status < 200) {
          // §17.1.1.2: a provisional moves Calling to Proceeding and stops retransmission; Timer B keeps
          // running only in Calling, but a peer that sends 180 and never answers is the TU's business.
          this.state = InviteClientState.Proceeding;
          this.timers.stop('B');
          this.user.onResponse(res);
        } else if (res.status < 300) {
          this.state = InviteClientState.Accepted;
          this.timers.stop('B');
          this.timers.start('M', this.timerSet.M, () => this.terminate());
          this.user.onResponse(res);
        } else {
          this.state = InviteClientState.Completed;
          this.timers.stop('B');
          this.sendAck(res);
          this.user.onResponse(res);
          this.timers.start('D', this.timerSet.D, () => this.terminate());
        }
        return;
      case InviteClientState.Completed:
        // §17.1.1.2: retransmissions of the final response are answered with the same ACK, not passed up.
        if (res.status >= 300 && this.ackBytes) this.send(this.ackBytes);
        return;
      case InviteClientState.Accepted:
        if (res.status >= 200 && res.status < 300) this.user.onResponse(res);
        return;
      default:
        return;
    }
  }

  transportError(): void {
    if (this.state === InviteClientState.Terminated) return;
    this.user.onTransportError();
    this.terminate();
  }

  terminate(): void {
    if (this.state === InviteClientState.Terminated) return;
    this.state = InviteClientState.Terminated;
    this.timers.clearAll();
    this.user.onTerminated?.();
  }

  /** §17.1.1.3: the ACK for a non-2xx copies Request-URI, Call-ID, From, top Via and Route from the INVITE,
   *  takes To from the response (it carries the tag), and has CSeq with the same number and method ACK. */
  private sendAck(res: SipResponse): void {
    const inv = this.request.headers;
    const headers = new Headers();
    const topVia = inv.getAll('via')[0];
    if (topVia !== undefined) headers.set('via', topVia);
    headers.set('max-forwards', '70');
    headers.set('from', inv.get('from') ?? '');
    headers.set('to', res.headers.get('to') ?? inv.get('to') ?? '');
    headers.set('call-id', inv.get('call-id') ?? '');
    const seq = (inv.get('cseq') ?? '').trim().split(/\s+/)[0] ?? '1';
    headers.set('cseq', `${seq} ACK`);
    const routes = inv.getAll('route');
    if (routes.length > 0) headers.set('route', routes);
    this.ackBytes = serializeMessage(createRequest('ACK', this.request.uri, headers));
    this.send(this.ackBytes);
  }

  private scheduleA(): void {
    this.timers.start('A', this.aInterval, () => {
      if (this.state !== InviteClientState.Calling) return;
      this.send(this.bytes);
      // §17.1.1.2: "the client transaction MUST ... reset the timer with a value of 2*T1" — doubling each time,
      // with no T2 cap for INVITE.
      this.aInterval *= 2;
      this.scheduleA();
    });
  }
}
