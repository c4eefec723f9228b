/**
 * SIP over UDP (RFC 3261 §18.1.1, §18.2.1): one datagram socket per listen spec, one message per datagram.
 * Keep-alives are dropped here: a datagram of only CRLFs or whitespace (RFC 5626 §4.4.1 "CRLF" style), and
 * STUN (RFC 5389: its first two bits are zero, so a first byte 0x00 or 0x01, which no SIP start line has).
 *
 * Also here: RouteSource, which finds the local address the operating system would send from to a destination
 * (for Via and Contact when a socket is bound to a wildcard address).
 *
 * Not here: Content-Length checks on datagrams (the parser's, RFC 3261 §18.3), choosing which socket sends
 * (transport-layer.ts), switching to TCP for large requests (§18.1.1; the stack's choice).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP, isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import { bindProblem } from './tcp.js';
import { describeEndpoint, isWildcard, plainAddress, type ListenSpec } from './types.js';

/** Receive buffer asked of the kernel (it may grant less): a burst of INVITEs must not be dropped. */
const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;
const SEND_BUFFER_BYTES = 1024 * 1024;

/** True for datagrams that are keep-alives, not SIP messages. */
export function isKeepAlive(data: Buffer): boolean {
  if (data.length === 0) return true;
  const first = data[0];
  if (first === 0x00 || first === 0x01) return true; // STUN
  for (let i = 0; i < data.length; i++) {
    const b = data[i];
    if (b !== 0x0d && b !== 0x0a && b !== 0x20 && b !== 0x09) return false;
  }
  return true;
}

export class UdpEndpoint {
  /** 4 or 6: which destinations this socket can reach (an IPv6 wildcard socket also reaches IPv4 ones). */
  readonly family: 4 | 6;
  readonly address: string;
  readonly port: number;
  private closing?: Promise<void>;

  private constructor(
    private readonly socket: Socket,
    family: 4 | 6,
    address: string,
    port: number,
  ) {
    this.family = family;
    this.address = address;
    this.port = port;
  }

  /** Binds; rejects with the address in the message if it cannot. `onDatagram` gets every non-keep-alive. */
  static bind(spec: ListenSpec, logger: Logger, onDatagram: (endpoint: UdpEndpoint, data: Buffer, from: RemoteInfo) => void): Promise<UdpEndpoint> {
    const family = isIPv6(spec.host) ? 6 : 4;
    const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
    return new Promise((resolve, reject) => {
      socket.once('error', (err: NodeJS.ErrnoException) => {
        socket.close();
        reject(new Error(`cannot listen on ${describeEndpoint('udp', spec.host, spec.port)}: ${bindProblem(err)}`));
      });
      socket.bind({ address: spec.host, port: spec.port, exclusive: true }, () => {
        socket.removeAllListeners('error');
        try {
          socket.setRecvBufferSize(RECEIVE_BUFFER_BYTES);
          socket.setSendBufferSize(SEND_BUFFER_BYTES);
        } catch (err) {
          logger.debug({ err }, 'could not enlarge UDP socket buffers');
        }
        const bound = socket.address();
        const endpoint = new UdpEndpoint(socket, family, plainAddress(bound.address), bound.port);
        socket.on('error', (err) => logger.debug({ err, local: endpoint.describe() }, 'UDP socket error'));
        socket.on('message', (data, from) => {
          if (!isKeepAlive(data)) onDatagram(endpoint, data, from);
        });
        resolve(endpoint);
      });
    });
  }

  /** True when this socket can send to `address` (an IP of either family, or a host name). */
  reaches(address: string): boolean {
    const kind = isIP(plainAddress(address));
    if (kind === 0 || kind === this.family) return true;
    // A dual-stack IPv6 socket bound to the wildcard reaches IPv4 peers through mapped addresses.
    return kind === 4 && this.family === 6 && isWildcard(this.address);
  }

  /** Sends one datagram; `done` is told of any error. Never throws. */
  send(data: Buffer, address: string, port: number, done: (err: Error | null) => void): void {
    const plain = plainAddress(address);
    const to = this.family === 6 && isIP(plain) === 4 ? `::ffff:${plain}` : plain;
    try {
      this.socket.send(data, port, to, (err) => done(err ?? null));
    } catch (err) {
      done(err as Error);
    }
  }

  describe(): string {
    return describeEndpoint('udp', this.address, this.port);
  }

  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
    return this.closing;
  }
}

/**
 * The local address the OS routes from towards a destination. Learning it takes a throwaway UDP socket
 * "connected" to the destination (no packet is sent), which is asynchronous; until the answer is in, a guess
 * from the interface list stands in: loopback for loopback, else an address on the destination's subnet, else
 * the first external address of the family. Each destination is probed once; answers are cached (bounded).
 */
export class RouteSource {
  private readonly cache = new Map<string, string>();
  private readonly probing = new Set<Socket>();
  private closed = false;

  constructor(
    private readonly logger: Logger,
    private readonly maxEntries = 4096,
  ) {}

  /** The cached answer, or a guess while a probe runs. */
  sourceFor(destination: string): string {
    const dest = plainAddress(destination);
    const known = this.cache.get(dest);
    if (known !== undefined) return known;
    const guess = guessSource(dest);
    this.remember(dest, guess);
    this.probe(dest);
    return guess;
  }

  close(): void {
    this.closed = true;
    for (const socket of this.probing) socket.close();
    this.probing.clear();
  }

  private probe(dest: string): void {
    if (this.closed) return;
    const socket = createSocket(isIPv6(dest) ? 'udp6' : 'udp4');
    this.probing.add(socket);
    const finish = (): void => {
      if (this.probing.delete(socket)) socket.close();
    };
    socket.on('error', (err) => {
      this.logger.debug({ err, destination: dest }, 'no route to destination');
      finish();
    });
    socket.connect(9, dest, () => {
      try {
        const address = plainAddress(socket.address().address);
        if (!isWildcard(address)) this.remember(dest, address);
      } catch {
        // closed meanwhile
      }
      finish();
    });
  }

  private remember(dest: string, address: string): void {
    this.cache.delete(dest);
    this.cache.set(dest, address);
    if (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
  }
}

function guessSource(dest: string): string {
  const six = isIPv6(dest);
  if (dest === '::1') return '::1';
  if (dest.startsWith('127.')) return '127.0.0.1';
  let first: string | undefined;
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      if (info.internal || (info.family === 'IPv6') !== six) continue;
      if (six && info.address.toLowerCase().startsWith('fe80:')) continue;
      if (sameSubnet(info.address, info.netmask, dest)) return info.address;
      first ??= info.address;
    }
  }
  return first ?? (six ? '::1' : '127.0.0.1');
}

function sameSubnet(address: string, netmask: string, dest: string): boolean {
  if (isIP(address) !== 4 || isIP(dest) !== 4) return false;
  const n = (a: string): number => a.split('.').reduce((acc, part) => (acc << 8) | Number(part), 0) >>> 0;
  const mask = n(netmask);
  return (n(address) & mask) === (n(dest) & mask);
}
