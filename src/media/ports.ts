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
import type { Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { bindDgram, closeQuietly, DgramRtpSocket } from './dgram-rtp-socket.js';
import { NativeSocketError, nativeRtpIo, loadRtpIoBinding, type NativeRtpIo } from './native-rtp-io.js';
import type { RtpIoChoice, RtpSocket } from './rtp-socket.js';

export interface RtpPortPair {
  port: number;
  /** RTP: native batch I/O or dgram (rtp.io). */
  rtp: RtpSocket;
  /** RTCP: a few packets a minute, always dgram. */
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
  /** The native batch I/O the RTP sockets use, or undefined: dgram (see `io`). */
  private readonly native: NativeRtpIo | undefined;

  /**
   * @param portMin first port of the range (made even if odd)
   * @param portMax last port of the range, inclusive (the last pair is the even port below it, if odd, and it)
   * @param quarantine releases that must follow a port's release before it is drawn again. Default: a quarter
   *   of the range, at most 256.
   * @param io rtp.io: 'native' requires the addon (throws with the reason when it is missing), 'auto' uses it
   *   when available, 'dgram' never.
   */
  constructor(
    private readonly address: string,
    portMin: number,
    portMax: number,
    quarantine?: number,
    io: RtpIoChoice = 'auto',
  ) {
    if (io === 'native') {
      const { reason } = loadRtpIoBinding();
      if (reason !== undefined) throw new Error(`rtp.io is native, but ${reason}`);
    }
    this.native = io === 'dgram' ? undefined : nativeRtpIo();
    this.first = portMin % 2 === 0 ? portMin : portMin + 1;
    this.last = portMax % 2 === 0 ? portMax - 1 : portMax;
    for (let port = this.first; port + 1 <= this.last; port += 2) this.free.push(port);
    this.capacity = this.free.length;
    this.waiting = new Int32Array(Math.max(1, this.capacity));
    this.quarantine = quarantine ?? Math.min(256, Math.floor(this.free.length / 4));
  }

  /** Which RTP socket implementation this pool's calls use. */
  get io(): 'native' | 'dgram' {
    return this.native !== undefined ? 'native' : 'dgram';
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
      const rtp = await this.bindRtp(port);
      const rtcp = rtp ? await bindDgram(this.address, port + 1) : undefined;
      if (rtp && rtcp) return { port, rtp, rtcp };
      rtp?.close();
      this.inUse.delete(port);
      this.enqueue(port);
    }
    throw new RtpPortsExhaustedError(this.first, this.last, this.inUse.size);
  }

  release(pair: RtpPortPair): void {
    if (!this.inUse.delete(pair.port)) return;
    pair.rtp.close();
    closeQuietly(pair.rtcp);
    this.enqueue(pair.port);
    if (this.waitCount > this.quarantine) this.free.push(this.dequeue());
  }

  private async bindRtp(port: number): Promise<RtpSocket | undefined> {
    if (this.native !== undefined) return bindNative(this.native, this.address, port);
    const socket = await bindDgram(this.address, port);
    return socket && new DgramRtpSocket(socket, port);
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

/** An RTP socket on the native I/O, or undefined when the OS refuses the port. Other failures throw. */
function bindNative(io: NativeRtpIo, address: string, port: number): RtpSocket | undefined {
  try {
    return io.open(address, port);
  } catch (err) {
    if (err instanceof NativeSocketError) return undefined;
    throw err;
  }
}
