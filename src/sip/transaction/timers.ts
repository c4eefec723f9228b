/**
 * RFC 3261 §17 timer values (Table 4 of Appendix A), derived from T1, T2 and T4 so that a site with a slow
 * network can raise T1 and every timer follows.
 */
export interface TimerBase {
  /** RTT estimate; default 500 ms. */
  t1Ms: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses; default 4 s. */
  t2Ms: number;
  /** Maximum time a message remains in the network; default 5 s. */
  t4Ms: number;
}

export const DEFAULT_TIMERS: TimerBase = { t1Ms: 500, t2Ms: 4000, t4Ms: 5000 };

/** Every §17 timer for one stack, in ms. Reliable transports zero the timers that only absorb UDP stragglers. */
export interface TimerSet {
  T1: number;
  T2: number;
  T4: number;
  /** INVITE request retransmit interval start (UDP only). */
  A: number;
  /** INVITE transaction timeout: 64*T1. */
  B: number;
  /** Wait time for response retransmits in Completed (client INVITE): >32 s for UDP, 0 for reliable. */
  D: number;
  /** Non-INVITE request retransmit interval start (UDP only). */
  E: number;
  /** Non-INVITE transaction timeout: 64*T1. */
  F: number;
  /** INVITE response retransmit interval start (UDP only). */
  G: number;
  /** Wait time for ACK receipt: 64*T1. */
  H: number;
  /** Wait time for ACK retransmits: T4 for UDP, 0 for reliable. */
  I: number;
  /** Wait time for non-INVITE request retransmits: 64*T1 for UDP, 0 for reliable. */
  J: number;
  /** Wait time for response retransmits (client non-INVITE): T4 for UDP, 0 for reliable. */
  K: number;
  /** RFC 6026 §8.7: wait time for accepted INVITE request retransmits: 64*T1. */
  L: number;
  /** RFC 6026 §8.4: wait time for retransmitted 2xx in client Accepted state: 64*T1. */
  M: number;
}

export function timerSet(base: TimerBase, reliable: boolean): TimerSet {
  const { t1Ms: T1, t2Ms: T2, t4Ms: T4 } = base;
  return {
    T1,
    T2,
    T4,
    A: T1,
    B: 64 * T1,
    D: reliable ? 0 : Math.max(32_000, 64 * T1),
    E: T1,
    F: 64 * T1,
    G: T1,
    H: 64 * T1,
    I: reliable ? 0 : T4,
    J: reliable ? 0 : 64 * T1,
    K: reliable ? 0 : T4,
    L: 64 * T1,
    M: 64 * T1,
  };
}
