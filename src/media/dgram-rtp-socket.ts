/**
 * An RTP socket on Node's dgram: the portable implementation (and the one used when the native batch I/O is not
 * built or `rtp.io: dgram`). Sending and connecting go through RtpLink (rtp-link.ts explains dgram's states).
 */
import { createSocket, type Socket } from 'node:dgram';
import { RtpLink } from './rtp-link.js';
import type { DatagramHandler, RtpSocket } from './rtp-socket.js';
import { literalLookup } from './literal-lookup.js';

export class DgramRtpSocket implements RtpSocket {
  readonly kind = 'dgram' as const;
  private readonly link: RtpLink;
  private handler: DatagramHandler | undefined = undefined;

  constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {
    this.link = new RtpLink(socket);
    socket.on('message', (msg, rinfo) => this.handler?.(msg, rinfo));
  }

  get sentConnected(): number {
    return this.link.sentConnected;
  }

  get sentUnconnected(): number {
    return this.link.sentUnconnected;
  }

  get dropped(): number {
    return this.link.dropped;
  }

  setHandler(handler: DatagramHandler | undefined): void {
    this.handler = handler;
  }

  send(buf: Buffer, length: number, port: number, address: string): void {
    this.link.send(buf, length, port, address);
  }

  connect(address: string, port: number): void {
    this.link.connect(address, port);
  }

  disconnect(): void {
    this.link.disconnect();
  }

  close(): void {
    this.handler = undefined;
    this.link.close();
    closeQuietly(this.socket);
  }
}

/** Binds a dgram UDP socket; undefined if the OS refuses the port. */
export function bindDgram(address: string, port: number): Promise<Socket | undefined> {
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

export function closeQuietly(socket: Socket): void {
  try {
    socket.close();
  } catch {
    // already closed
  }
}
