/**
 * The transport layer (RFC 3261 §18) as the SIP stack sees it: listen on UDP, TCP and TLS; hand on every whole
 * message received with the flow it came on; send a message to a target, over an open connection when there
 * is one and a new one when there is not; say which local address and port a target sees.
 *
 * Owns every socket: one close() ends listeners, connections and probes, and leaves no handle behind.
 * Never throws on the packet path: send errors go to onSendError, framing errors to onFramingError, and the
 * stack's onFrame is shielded so that nothing it throws can reach a socket's event handler.
 *
 * Not here: any SIP beyond framing (no parsing, no Via, no retransmission), DNS SRV/NAPTR (RFC 3263).
 */
import type { Server, Socket } from 'node:net';
import type { RemoteInfo } from 'node:dgram';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { ConnectionTable } from './connection-table.js';
import { ConnectionQuota } from './connection-quota.js';
import { CountedLog } from './counted-log.js';
import { connectTcp, createTcpServer, listenStream, StreamConnection, type StreamConnectionEvents, type StreamTransport } from './tcp.js';
import { connectTls, createTlsServer } from './tls.js';
import { RouteSource, UdpEndpoint } from './udp.js';
import { SourceKeys } from '../source-key.js';
import { SourceRateLimiter } from '../rate-limit.js';
import {
  DEFAULT_LIMITS,
  describeEndpoint,
  isWildcard,
  plainAddress,
  type Flow,
  type InboundFrame,
  type ListenSpec,
  type SendTarget,
  type TlsOptions,
  type TransportLimits,
} from './types.js';

export type { Flow, InboundFrame, ListenSpec, SendTarget, TlsOptions, TransportName } from './types.js';

export interface TransportLayerOptions extends Partial<TransportLimits> {
  logger: Logger;
  /** Needed for tls listeners; also used for outbound TLS (our client certificate and the CA to verify with). */
  tls?: TlsOptions;
  /**
   * Whether an inbound connection's source is trusted (a PBX): trusted sources are not held to
   * maxConnectionsPerSource and may use the reservedForTrusted slots. Default: no source is.
   */
  isTrusted?(address: string): boolean;
  /** What maxConnectionsPerSource counts under (IPv6 per prefix, source-key.ts). Default: a /64. */
  sourceKeys?: SourceKeys;
}

export interface TransportStats {
  /** Stream connections registered (connecting or open). */
  connections: number;
  /** Stream sockets holding a slot (TLS handshakes in progress included). */
  sockets: number;
  udpSockets: number;
  /** Untrusted source addresses holding a stream socket. */
  untrustedSources: number;
  /** Memory held for messages still arriving, over every connection (bytes). */
  heldBytes: number;
  /** The most one connection holds (bytes). */
  maxHeldBytes: number;
}

/** Peers remembered for "answer from the socket that heard them" when several UDP sockets are bound. */
const MAX_REMEMBERED_PEERS = 10_000;
/** How often overdue messages are looked for, at most (the sweep runs 4 times per messageTimeoutMs). */
const SWEEP_MAX_INTERVAL_MS = 1000;

export class TransportLayer {
  /** Set by the stack: called synchronously with each whole message. */
  onFrame: (frame: InboundFrame) => void = () => {};
  /** A stream lost framing (the connection is then closed), or a datagram was over maxMessageBytes. */
  onFramingError?: (flow: Flow, reason: string) => void;
  /** A message could not be sent (no route, connection refused or lost, TLS verification failed, ...). */
  onSendError?: (target: SendTarget, err: Error) => void;

  private readonly log: Logger;
  private readonly limits: TransportLimits;
  private readonly tls?: TlsOptions;
  private readonly udp: UdpEndpoint[] = [];
  private readonly servers: Server[] = [];
  /** Every stream socket holding a connection slot (inbound from accept, outbound from connect). */
  private readonly sockets = new Set<Socket>();
  private readonly specs: ListenSpec[] = [];
  private readonly table: ConnectionTable;
  private readonly routes: RouteSource;
  private readonly udpPeers = new Map<string, UdpEndpoint>();
  private readonly events: StreamConnectionEvents;
  private closing?: Promise<void>;
  private readonly quota: ConnectionQuota;
  private readonly isTrusted: (address: string) => boolean;
  private readonly sourceKeys: SourceKeys;
  /** New connections per untrusted source per second (undefined: no limit). */
  private readonly connectionRate: SourceRateLimiter | undefined;
  private readonly refusals: CountedLog;
  private readonly overdue: CountedLog;
  private readonly sweeper: NodeJS.Timeout;

  constructor(opts: TransportLayerOptions) {
    this.log = opts.logger;
    this.tls = opts.tls;
    const given = Object.fromEntries(Object.entries(opts).filter(([key, value]) => key in DEFAULT_LIMITS && value !== undefined));
    this.limits = { ...DEFAULT_LIMITS, ...given };
    this.isTrusted = opts.isTrusted ?? (() => false);
    this.sourceKeys = opts.sourceKeys ?? new SourceKeys();
    const rate = this.limits.newConnectionsPerSourcePerSecond;
    this.connectionRate = rate > 0 ? new SourceRateLimiter({ perSecond: rate, burst: Math.max(1, 2 * rate) }) : undefined;
    this.quota = new ConnectionQuota({
      maxConnections: this.limits.maxConnections,
      maxPerSource: this.limits.maxConnectionsPerSource,
      reservedForTrusted: this.limits.reservedForTrusted,
    });
    this.refusals = new CountedLog(this.log, 'connections refused: too many connections');
    this.overdue = new CountedLog(this.log, 'connections closed: no complete message in time (slow or silent peer)');
    this.sweeper = setInterval(() => this.sweep(), Math.min(SWEEP_MAX_INTERVAL_MS, Math.max(10, this.limits.messageTimeoutMs / 4)));
    this.sweeper.unref();
    this.table = new ConnectionTable();
    this.routes = new RouteSource(this.log);
    this.events = {
      onMessage: (conn, data) => this.deliver(data, conn.flow),
      onFramingError: (conn, reason) => this.shielded('onFramingError', () => this.onFramingError?.(conn.flow, reason)),
      onOpen: (conn) => this.table.alias(conn, conn.flow.remoteAddress, conn.flow.remotePort),
      onClose: (conn) => this.table.remove(conn),
    };
  }

  /**
   * Binds every spec, in order. On the first failure everything bound by this call is closed again and the
   * promise rejects with an Error naming the address and the cause (address in use, bad certificate, ...).
   */
  async listen(specs: ListenSpec[]): Promise<void> {
    if (this.closing) throw new Error('the transport layer is closed');
    const udp: UdpEndpoint[] = [];
    const servers: Server[] = [];
    const bound: ListenSpec[] = [];
    try {
      for (const spec of specs) {
        if (spec.transport === 'udp') {
          const endpoint = await UdpEndpoint.bind(spec, this.log, (ep, data, from) => this.datagram(ep, data, from));
          udp.push(endpoint);
          bound.push({ ...spec, port: endpoint.port });
        } else {
          const server = this.streamServer(spec);
          servers.push(server);
          const port = await listenStream(server, spec);
          bound.push({ ...spec, port });
        }
      }
    } catch (err) {
      await Promise.all([...udp.map((u) => u.close()), ...servers.map(closeServer)]);
      throw err;
    }
    this.udp.push(...udp);
    this.servers.push(...servers);
    this.specs.push(...bound);
  }

  /** What is bound, in listen order, with ephemeral ports resolved. */
  bound(): ListenSpec[] {
    return this.specs.map((s) => ({ ...s }));
  }

  /** Sends one whole message. Never throws: failures are logged at debug and reported to onSendError. */
  send(target: SendTarget, data: Buffer): void {
    const failed = (err: Error): void => {
      this.log.debug({ err, target: describeEndpoint(target.transport, target.address, target.port) }, 'send failed');
      // Always after send() has returned: a transaction that is told of the error must not be in mid-send.
      queueMicrotask(() => this.shielded('onSendError', () => this.onSendError?.(target, err)));
    };
    if (this.closing) return failed(new Error('the transport layer is closed'));
    if (target.transport === 'udp') {
      const endpoint = this.udpFor(target.address, target.port);
      if (!endpoint) return failed(new Error(`no UDP socket can reach ${target.address}`));
      endpoint.send(data, target.address, target.port, (err) => err && failed(err));
      return;
    }
    const conn = this.table.find(target) ?? this.connect(target.transport, target.address, target.port, failed);
    conn?.send(data, failed);
  }

  /**
   * The address and port to put in Via and Contact for a message to `target`: the socket's own when it is bound
   * to one address; else, for an open connection, the connection's local address; else the address the OS
   * routes from towards the target. The port of a stream transport is its listening port (where the peer can
   * open a connection back), not an outbound connection's ephemeral one.
   */
  localEndpoint(target: SendTarget): { address: string; port: number } {
    if (target.transport === 'udp') {
      const endpoint = this.udpFor(target.address, target.port);
      if (!endpoint) return { address: this.routes.sourceFor(target.address), port: 0 };
      const address = isWildcard(endpoint.address) ? this.routes.sourceFor(target.address) : endpoint.address;
      return { address, port: endpoint.port };
    }
    const conn = this.table.find(target);
    const connLocal = conn && conn.flow.localPort !== 0 ? conn.flow : undefined;
    const listener = this.listenerFor(target.transport, connLocal?.localAddress ?? target.address);
    let address: string;
    if (listener && !isWildcard(listener.host)) address = listener.host;
    else if (connLocal) address = connLocal.localAddress;
    else address = this.routes.sourceFor(target.address);
    return { address, port: listener?.port ?? connLocal?.localPort ?? 0 };
  }

  /** Closes listeners, every connection and every probe. Idempotent; resolves when all sockets are closed. */
  close(): Promise<void> {
    this.closing ??= this.closeAll();
    return this.closing;
  }

  /**
   * Counts for metrics and leak tests. heldBytes: memory held for messages still arriving, over every
   * connection; maxHeldBytes: the most one connection holds.
   */
  stats(): TransportStats {
    let heldBytes = 0;
    let maxHeldBytes = 0;
    for (const conn of this.table.all()) {
      heldBytes += conn.heldBytes;
      maxHeldBytes = Math.max(maxHeldBytes, conn.heldBytes);
    }
    return {
      connections: this.table.size,
      sockets: this.quota.total,
      udpSockets: this.udp.length,
      untrustedSources: this.quota.untrustedSources,
      heldBytes,
      maxHeldBytes,
    };
  }

  /** Closes connections whose message (or first message) is overdue. */
  private sweep(): void {
    const now = Date.now();
    for (const conn of this.table.all()) {
      if (conn.expireOverdue(now)) this.overdue.note({ peer: conn.peer, timeoutMs: this.limits.messageTimeoutMs });
    }
  }

  // ---------------------------------------------------------------------------------------------- inbound

  private datagram(endpoint: UdpEndpoint, data: Buffer, from: RemoteInfo): void {
    const flow: Flow = {
      transport: 'udp',
      remoteAddress: plainAddress(from.address),
      remotePort: from.port,
      localAddress: endpoint.address,
      localPort: endpoint.port,
    };
    if (this.udp.length > 1) this.rememberPeer(flow.remoteAddress, flow.remotePort, endpoint);
    if (data.length > this.limits.maxMessageBytes) {
      const reason = `datagram of ${data.length} bytes exceeds ${this.limits.maxMessageBytes}`;
      this.log.debug({ remote: `${flow.remoteAddress}:${flow.remotePort}`, reason }, 'datagram dropped');
      this.shielded('onFramingError', () => this.onFramingError?.(flow, reason));
      return;
    }
    this.deliver(data, flow);
  }

  private deliver(data: Buffer, flow: Flow): void {
    try {
      this.onFrame({ data, flow, receivedAt: process.hrtime.bigint() });
    } catch (err) {
      this.log.error({ err, remote: `${flow.remoteAddress}:${flow.remotePort}` }, 'onFrame threw; message dropped');
    }
  }

  /** Runs a stack callback from a socket's event handler, where a throw would end the process. */
  private shielded(name: string, callback: () => void): void {
    try {
      callback();
    } catch (err) {
      this.log.error({ err }, `${name} handler threw`);
    }
  }

  private streamServer(spec: ListenSpec): Server {
    if (spec.transport === 'tcp') {
      return createTcpServer((socket) => {
        if (this.admit(socket, 'tcp')) this.adopt(socket, 'tcp');
      });
    }
    if (!this.tls) throw new Error(`cannot listen on ${describeEndpoint('tls', spec.host, spec.port)}: no TLS certificate and key configured`);
    try {
      return createTlsServer(
        this.tls,
        this.limits.handshakeTimeoutMs,
        this.log,
        (raw) => this.admit(raw, 'tls'),
        (secure) => this.adopt(secure, 'tls'),
      );
    } catch (err) {
      throw new Error(`cannot listen on ${describeEndpoint('tls', spec.host, spec.port)}: ${(err as Error).message}`);
    }
  }

  /**
   * Counts an accepted socket (for TLS, before its handshake) against the connection quota (released when it
   * closes), or refuses it: too many in all, too many from strangers, or too many from this stranger.
   */
  private admit(socket: Socket, transport: StreamTransport): boolean {
    if (this.closing) {
      socket.destroy();
      return false;
    }
    const address = plainAddress(socket.remoteAddress ?? '');
    const trusted = this.isTrusted(address);
    // A stranger's IPv6 network counts as one source: its /64 holds 2^64 addresses (source-key.ts).
    const source = this.sourceKeys.keyOf(address);
    const refused = !trusted && this.connectionRate?.allow(source) === false ? 'rate' : this.quota.acquire(source, trusted);
    if (refused) {
      this.refusals.note({ transport, peer: `${address}:${socket.remotePort}`, trusted, limit: refused, max: this.limits.maxConnections });
      socket.destroy();
      return false;
    }
    this.hold(socket, source, trusted);
    return true;
  }

  /** Keeps the socket's slot until it closes. `source` (its key) undefined: a socket we opened. */
  private hold(socket: Socket, source: string | undefined, trusted: boolean): void {
    this.sockets.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.quota.release(source, trusted);
    });
  }

  /** Wraps an accepted (and, for TLS, handshaken) socket. */
  private adopt(socket: Socket, transport: StreamTransport): void {
    if (this.closing || socket.destroyed) {
      socket.destroy();
      return;
    }
    const firstMessageDue = !this.isTrusted(plainAddress(socket.remoteAddress ?? ''));
    const conn = new StreamConnection({ id: this.table.nextId(), transport, socket, firstMessageDue, limits: this.limits, logger: this.log, events: this.events });
    this.table.add(conn);
    this.log.debug({ connectionId: conn.id, peer: conn.peer }, 'connection accepted');
  }

  // --------------------------------------------------------------------------------------------- outbound

  private connect(transport: StreamTransport, address: string, port: number, failed: (err: Error) => void): StreamConnection | undefined {
    if (transport === 'tls' && !this.tls) {
      this.log.debug({ address, port }, 'outbound TLS without our own certificate: connecting as an anonymous client');
    }
    if (this.quota.acquire(undefined, true)) {
      failed(new Error(`cannot connect to ${describeEndpoint(transport, address, port)}: ${this.limits.maxConnections} connections open`));
      return undefined;
    }
    const local = this.listenerFor(transport, address);
    const localAddress = local && !isWildcard(local.host) ? local.host : undefined;
    let socket: Socket;
    try {
      socket = transport === 'tls' ? connectTls(address, port, this.tls, localAddress) : connectTcp(address, port, localAddress);
    } catch (err) {
      this.quota.release(undefined, true);
      failed(err as Error);
      return undefined;
    }
    this.hold(socket, undefined, true);
    const conn = new StreamConnection({
      id: this.table.nextId(),
      transport,
      socket,
      readyEvent: transport === 'tls' ? 'secureConnect' : 'connect',
      remote: { address, port },
      limits: this.limits,
      logger: this.log,
      events: this.events,
    });
    this.table.add(conn);
    this.log.debug({ connectionId: conn.id, peer: conn.peer }, 'connecting');
    return conn;
  }

  /** The UDP socket to send to a peer from: the one that last heard from it, else the first of its family. */
  private udpFor(address: string, port: number): UdpEndpoint | undefined {
    if (this.udp.length > 1) {
      const plain = plainAddress(address);
      const known = this.udpPeers.get(`${plain}|${port}`) ?? this.udpPeers.get(plain);
      if (known) return known;
    }
    const family = isIP(plainAddress(address));
    return this.udp.find((u) => u.family === family && u.reaches(address)) ?? this.udp.find((u) => u.reaches(address));
  }

  private rememberPeer(address: string, port: number, endpoint: UdpEndpoint): void {
    for (const key of [`${address}|${port}`, address]) {
      if (this.udpPeers.get(key) === endpoint) continue;
      this.udpPeers.delete(key);
      this.udpPeers.set(key, endpoint);
    }
    while (this.udpPeers.size > MAX_REMEMBERED_PEERS) {
      const oldest = this.udpPeers.keys().next().value;
      if (oldest === undefined) break;
      this.udpPeers.delete(oldest);
    }
  }

  /** A bound listener of this transport that can serve `address`'s family (same family first). */
  private listenerFor(transport: StreamTransport, address: string): ListenSpec | undefined {
    const family = isIP(plainAddress(address)) || 4;
    const candidates = this.specs.filter((s) => s.transport === transport);
    return (
      candidates.find((s) => (isIP(s.host) || 4) === family) ??
      candidates.find((s) => family === 4 && isIP(s.host) === 6 && isWildcard(s.host))
    );
  }

  private async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    this.routes.close();
    const servers = this.servers.map(closeServer);
    // Connections first, gracefully (what was written leaves); then whatever is left: TLS handshakes in progress.
    await Promise.all(
      this.table.all().map((conn) => {
        conn.close();
        return conn.whenClosed;
      }),
    );
    const stragglers = [...this.sockets].map(
      (socket) =>
        new Promise<void>((resolve) => {
          socket.once('close', () => resolve());
          socket.destroy();
        }),
    );
    await Promise.all([...servers, ...stragglers, ...this.udp.map((u) => u.close())]);
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}
