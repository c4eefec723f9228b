/**
 * SIP message counts for /metrics: requests by method and responses by method and status, in and out, and
 * retransmissions (ours: Timers A/E/G and the 2xx resent until its ACK, §13.3.1.4; theirs: a request that
 * matched a live server transaction, §17.2.3). Plain numbers in maps, read at scrape (metrics/). Counted by
 * the stack (stack.ts), which sees every message that reaches or leaves a transaction.
 *
 * Methods are counted by name only when standard; anything else is 'other', so that a peer inventing
 * methods cannot grow the maps (or the metric's label values) without bound. Status codes are 100-699.
 */
export type Direction = 'in' | 'out';

/** RFC 3261 §27.4 and the extensions vmpilot meets (RFC 3262, 3311, 3428, 3515, 6086, 6665, 3903). */
const METHODS = new Set(['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE']);

export function methodLabel(method: string): string {
  return METHODS.has(method) ? method : 'other';
}

export class SipTraffic {
  /** Requests by direction, then method. */
  readonly requests: Record<Direction, Map<string, number>> = { in: new Map(), out: new Map() };
  /** Responses by direction, then CSeq method, then status. */
  readonly responses: Record<Direction, Map<string, Map<number, number>>> = { in: new Map(), out: new Map() };
  /** Retransmitted requests and responses: 'out' we sent again, 'in' the peer sent again. */
  readonly retransmissions: Record<Direction, number> = { in: 0, out: 0 };

  request(direction: Direction, method: string): void {
    const m = this.requests[direction];
    const key = methodLabel(method);
    m.set(key, (m.get(key) ?? 0) + 1);
  }

  response(direction: Direction, method: string, status: number): void {
    const key = methodLabel(method);
    const byMethod = this.responses[direction];
    let byStatus = byMethod.get(key);
    if (!byStatus) {
      byStatus = new Map();
      byMethod.set(key, byStatus);
    }
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  }

  retransmitted(direction: Direction): void {
    this.retransmissions[direction]++;
  }

  /**
   * Wraps a transaction's send function so that sending the same bytes again (a retransmission, whether the
   * transaction resends its buffer or the TU re-serializes the same 2xx) is counted as one.
   */
  countingResends(send: (data: Buffer) => void): (data: Buffer) => void {
    let last: Buffer | undefined;
    return (data) => {
      if (last !== undefined && (data === last || data.equals(last))) this.retransmissions.out++;
      last = data;
      send(data);
    };
  }
}
