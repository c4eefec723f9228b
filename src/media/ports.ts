/**
 * RTP port allocation from the configured range (rtp.ports). RTP uses even ports and RTCP the odd port above
 * (RFC 3550 §11), so we hand out even ports only and bind both. A port the OS refuses (in use by another
 * program) is skipped. Allocation walks the range round-robin so a just-released port is not reused at once:
 * late packets from the previous call would otherwise land in the next one.
 */
import { createSocket, type Socket } from 'node:dgram';

export interface RtpPortPair {
  port: number;
  rtp: Socket;
  rtcp: Socket;
}

export class RtpPortPool {
  private readonly inUse = new Set<number>();
  private next: number;
  private readonly first: number;
  private readonly last: number;

  constructor(
    private readonly address: string,
    portMin: number,
    portMax: number,
  ) {
    this.first = portMin % 2 === 0 ? portMin : portMin + 1;
    this.last = portMax % 2 === 0 ? portMax - 1 : portMax;
    this.next = this.first;
  }

  get capacity(): number {
    return Math.floor((this.last - this.first + 1) / 2);
  }

  get allocated(): number {
    return this.inUse.size;
  }

  /** Binds the next free even port and the odd one above it. Rejects when the range is exhausted. */
  async allocate(): Promise<RtpPortPair> {
    for (let tries = 0; tries < this.capacity; tries++) {
      const port = this.next;
      this.next = this.next + 2 > this.last ? this.first : this.next + 2;
      if (this.inUse.has(port)) continue;
      this.inUse.add(port);
      const rtp = await bind(this.address, port);
      if (!rtp) {
        this.inUse.delete(port);
        continue;
      }
      const rtcp = await bind(this.address, port + 1);
      if (!rtcp) {
        rtp.close();
        this.inUse.delete(port);
        continue;
      }
      return { port, rtp, rtcp };
    }
    throw new Error(`no free RTP port in ${this.first}-${this.last + 1}`);
  }

  release(pair: RtpPortPair): void {
    if (!this.inUse.delete(pair.port)) return;
    closeQuietly(pair.rtp);
    closeQuietly(pair.rtcp);
  }
}

function bind(address: string, port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket({ type: address.includes(':') ? 'udp6' : 'udp4' });
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
