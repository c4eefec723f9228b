/**
 * RTP port allocation from the configured range (rtp.ports). RTP uses even ports and RTCP the odd port above
 * (RFC 3550 §11), so we hand out even ports only and bind both; every even port whose odd partner is still in
 * the range is usable ("20000-29999" gives 5,000 pairs, 20000/20001 to 29998/29999).
 *
 * Unpredictable: each call gets a port drawn uniformly (crypto.randomInt) from the free ones, so that a host
 * that is not party to the call cannot guess where to send RTP from the port the previous call used
 * (RFC 3550 §9.1 and RFC 7201 §3.2 treat guessable media addresses as an injection risk; vmpilot's receiver also
 * refuses sources that are not the call's, see rtp-receiver.ts). O(1): the free ports sit in a dense array and
 * a draw swaps the chosen one with the last.
 *
 * A just-released port is not reused at once: late packets from the previous call would otherwise land in
 * the next one. Released ports wait in a FIFO (no timer) and rejoin the free ones once `quarantine` later
 * releases have queued behind them, or when nothing else is free. A port the OS refuses (in use by another
 * program) is skipped and waits in the same FIFO.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';

export interface RtpPortPair {
  port: number;
  rtp: Socket;
  rtcp: Socket;
}

/** Thrown by allocate() when every pair of the range is in use: the caller answers 503. */
export class RtpPortsExhaustedError extends Error {
  constructor(readonly first: number, readonly last: number, readonly inUse: number) {
    super(`no free RTP port pair in ${first}-${last} (${inUse} in use)`);
    this.name = 'RtpPortsExhaustedError';
  }
}

export class RtpPortPool {
  private readonly inUse = new Set<number>();
  /** Free even ports, in no order; a draw takes a random index. */
  private readonly free: number[] = [];
  /** Released (or refused) ports waiting before reuse, oldest first: a ring of `capacity` slots. */
  private readonly waiting: Int32Array;
  private waitHead = 0;
  private waitCount = 0;
  private readonly quarantine: number;
  private readonly first: number;
  /** The highest port of the range (an RTCP port). */
  private readonly last: number;
  /** Pairs in the range. */
  readonly capacity: number;

  /**
   * @param portMin first port of the range (made even if odd)
   * @param portMax last port of the range, inclusive (the last pair is the even port below it, if odd, and it)
   * @param quarantine releases that must follow a port's release before it is drawn again. Default: a quarter
   *   of the range, at most 256.
   */
  constructor(
    private readonly address: string,
    portMin: number,
    portMax: number,
    quarantine?: number,
  ) {
    this.first = portMin % 2 === 0 ? portMin : portMin + 1;
    this.last = portMax % 2 === 0 ? portMax - 1 : portMax;
    for (let port = this.first; port + 1 <= this.last; port += 2) this.free.push(port);
    this.capacity = this.free.length;
    this.waiting = new Int32Array(Math.max(1, this.capacity));
    this.quarantine = quarantine ?? Math.min(256, Math.floor(this.free.length / 4));
  }

  get allocated(): number {
    return this.inUse.size;
  }

  /** Binds a random free even port and the odd one above it. Rejects with RtpPortsExhaustedError when none is free. */
  async allocate(): Promise<RtpPortPair> {
    // Every pair is tried at most once per call: ports the OS refuses go to the back of the queue.
    for (let tries = this.free.length + this.waitCount; tries > 0; tries--) {
      const port = this.draw();
      if (port === undefined) break;
      this.inUse.add(port);
      const rtp = await bind(this.address, port);
      const rtcp = rtp ? await bind(this.address, port + 1) : undefined;
      if (rtp && rtcp) return { port, rtp, rtcp };
      if (rtp) closeQuietly(rtp);
      this.inUse.delete(port);
      this.enqueue(port);
    }
    throw new RtpPortsExhaustedError(this.first, this.last, this.inUse.size);
  }

  release(pair: RtpPortPair): void {
    if (!this.inUse.delete(pair.port)) return;
    closeQuietly(pair.rtp);
    closeQuietly(pair.rtcp);
    this.enqueue(pair.port);
    if (this.waitCount > this.quarantine) this.free.push(this.dequeue());
  }

  /** A uniformly random free port (removed from the free list), else the longest-waiting released one. */
  private draw(): number | undefined {
    const n = this.free.length;
    if (n === 0) return this.waitCount > 0 ? this.dequeue() : undefined;
    const i = randomInt(n);
    const port = this.free[i]!;
    this.free[i] = this.free[n - 1]!;
    this.free.pop();
    return port;
  }

  private enqueue(port: number): void {
    this.waiting[(this.waitHead + this.waitCount) % this.waiting.length] = port;
    this.waitCount++;
  }

  private dequeue(): number {
    const port = this.waiting[this.waitHead]!;
    this.waitHead = (this.waitHead + 1) % this.waiting.length;
    this.waitCount--;
    return port;
  }
}

/**
 * The address lookup of RTP and RTCP sockets. dgram resolves the destination of every unconnected send() with
 * dns.lookup, which answers an IP literal (what SDP's c= line holds) on the next tick: a process.nextTick and
 * a callback per packet. Unconnected is how a call sends until its caller's RTP arrives (rtp-link.ts), so
 * every prompt played before the caller says anything, the greeting of each new call above all, paid it:
 * in the capacity bench with calls coming and going, two thirds of all RTP sends went that way. A literal is
 * its own answer, given at once; a name (never from our SDP parser, but a config could hold one) still goes
 * to dns.lookup.
 */
export const literalLookup = ((hostname: string, options: unknown, callback: (err: Error | null, address: string, family: number) => void): void => {
  const family = isIP(hostname);
  if (family !== 0) return callback(null, hostname, family);
  dnsLookup(hostname, options as never, callback as never);
}) as unknown as typeof dnsLookup;

function bind(address: string, port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket({ type: address.includes(':') ? 'udp6' : 'udp4', lookup: literalLookup });
    socket.once('error', () => {
      closeQuietly(socket);
      resolve(undefined);
    });
    socket.bind(port, address, () => {
      socket.removeAllListeners('error');
      socket.on('error', () => undefined);
      resolve(socket);
    });
  });
}

function closeQuietly(socket: Socket): void {
  try {
    socket.close();
  } catch {
    // already closed
  }
}
