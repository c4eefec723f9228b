/**
 * SIP over a byte stream (RFC 3261 §18.2, §18.3): one StreamConnection per TCP socket, plain or wrapped in TLS
 * (a TLSSocket is a net.Socket, so tls.ts only makes the sockets). A connection frames what it reads into
 * messages with a StreamFramer, answers keep-alive pings, queues what is sent while it is still connecting,
 * and closes itself when idle, stuck or out of framing. Also here: binding a stream server and opening an
 * outbound TCP socket.
 *
 * Never throws on the packet path: socket errors are logged at debug and end the connection.
 * Not here: which connection a message goes to (connection-table.ts), TLS options (tls.ts).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { FramerState, StreamFramer } from './stream-framer.js';
import { describeEndpoint, plainAddress, type Flow, type ListenSpec, type TransportLimits } from './types.js';

export type StreamTransport = 'tcp' | 'tls';

/** Lifecycle of a stream connection. */
export enum ConnectionState {
  /** Outbound, not yet connected (or TLS handshake not done): sends are queued. */
  Connecting = 'connecting',
  /** Carrying messages both ways. */
  Open = 'open',
  /** close() was called: no more sends; waiting for the peer to finish or the grace time to run out. */
  Closing = 'closing',
  /** The socket is gone. */
  Closed = 'closed',
}

export interface StreamConnectionEvents {
  onMessage(conn: StreamConnection, data: Buffer): void;
  onFramingError(conn: StreamConnection, reason: string): void;
  /** The connection is open: its flow now has its local address and port. */
  onOpen(conn: StreamConnection): void;
  onClose(conn: StreamConnection): void;
}

export interface StreamConnectionOptions {
  id: number;
  transport: StreamTransport;
  socket: Socket;
  /** Inbound sockets are open already; outbound ones wait for this event ('connect', or 'secureConnect'). */
  readyEvent?: 'connect' | 'secureConnect';
  /**
   * Inbound: the first message (or keep-alive) must arrive within messageTimeoutMs of the accept. For strangers'
   * connections: one that only holds a slot is a slow-loris too. A trusted PBX may open a connection early and
   * stay quiet until it has something to send. Default false.
   */
  firstMessageDue?: boolean;
  /** Outbound: where it is going (inbound: read from the socket). */
  remote?: { address: string; port: number };
  limits: TransportLimits;
  logger: Logger;
  events: StreamConnectionEvents;
}

type SendFailed = (err: Error) => void;

const PONG = Buffer.from('\r\n', 'latin1');
/** How long close() lets queued bytes leave before the socket is destroyed. */
const CLOSE_GRACE_MS = 1000;

export class StreamConnection {
  readonly id: number;
  readonly transport: StreamTransport;
  private stateValue: ConnectionState;
  private flowValue: Flow;
  private readonly socket: Socket;
  private readonly framer: StreamFramer;
  private readonly limits: TransportLimits;
  private readonly log: Logger;
  private readonly events: StreamConnectionEvents;
  private queue: { data: Buffer; onError: SendFailed }[] = [];
  private queuedBytes = 0;
  private graceTimer?: NodeJS.Timeout;
  /** When the message now arriving (or an inbound connection's first one) must be complete (ms); 0: none due. */
  private messageDue = 0;
  /** framer.framedCount when last looked at: a change means the message in progress is a new one. */
  private framedMark = 0;
  private closeReason = 'closed';
  private resolveClosed!: () => void;
  /** Resolves when the socket is gone. */
  readonly whenClosed: Promise<void> = new Promise((resolve) => (this.resolveClosed = resolve));

  constructor(opts: StreamConnectionOptions) {
    this.id = opts.id;
    this.transport = opts.transport;
    this.socket = opts.socket;
    this.limits = opts.limits;
    this.log = opts.logger;
    this.events = opts.events;
    this.stateValue = opts.readyEvent ? ConnectionState.Connecting : ConnectionState.Open;
    this.flowValue = opts.readyEvent
      ? { transport: opts.transport, remoteAddress: plainAddress(opts.remote?.address ?? ''), remotePort: opts.remote?.port ?? 0, localAddress: '', localPort: 0, connectionId: opts.id }
      : this.flowFromSocket();
    this.framer = new StreamFramer(
      opts.limits.maxMessageBytes,
      {
        onMessage: (data) => this.events.onMessage(this, data),
        onPing: () => this.pong(),
        onError: (reason) => this.framingError(reason),
      },
      opts.limits.maxHeaderBytes,
    );
    if (opts.firstMessageDue && !opts.readyEvent) this.messageDue = Date.now() + opts.limits.messageTimeoutMs;

    const socket = this.socket;
    socket.setNoDelay(true);
    // Until open, the timer bounds connecting and the TLS handshake; once open, it is the idle timeout.
    socket.setTimeout(opts.readyEvent ? opts.limits.handshakeTimeoutMs : opts.limits.idleTimeoutMs);
    socket.on('timeout', () => this.destroy(this.stateValue === ConnectionState.Connecting ? 'connect timeout' : 'idle timeout'));
    socket.on('data', (chunk: Buffer) => {
      this.framer.push(chunk);
      this.trackMessageDue();
    });
    socket.on('error', (err) => {
      this.closeReason = err.message;
      this.log.debug({ err, connectionId: this.id, peer: this.peer }, 'connection error');
    });
    socket.on('close', () => this.closed());
    if (opts.readyEvent) socket.once(opts.readyEvent, () => this.opened());
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  /** The connection's 5-tuple (remote address is the target's until an outbound connection is open). */
  get flow(): Flow {
    return this.flowValue;
  }

  /** "tcp:192.0.2.1:5060", for logs. */
  get peer(): string {
    return describeEndpoint(this.transport, this.flowValue.remoteAddress, this.flowValue.remotePort);
  }

  /** Memory held for a message still arriving (bytes). */
  get heldBytes(): number {
    return this.framer.retainedBytes;
  }

  /**
   * Closes the connection if the message arriving on it (or an inbound connection's first one) is overdue at
   * `now`. Called from the transport layer's one sweep timer (no timer per connection or per message).
   * Returns true when it closed it.
   */
  expireOverdue(now: number): boolean {
    if (this.messageDue === 0 || now < this.messageDue || this.stateValue !== ConnectionState.Open) return false;
    this.destroy(`no complete message within ${this.limits.messageTimeoutMs} ms`);
    return true;
  }

  /** Queues or writes one message; `onError` is told if it cannot leave. Never throws. */
  send(data: Buffer, onError: SendFailed): void {
    if (this.stateValue === ConnectionState.Closing || this.stateValue === ConnectionState.Closed) {
      onError(new Error(`connection to ${this.peer} is closed`));
      return;
    }
    const pending = this.stateValue === ConnectionState.Connecting ? this.queuedBytes : this.socket.writableLength;
    if (pending + data.length > this.limits.maxBufferedBytes) {
      // A peer that leaves this much unread is stuck or hostile; a SIP flow cannot recover from dropped bytes.
      onError(new Error(`connection to ${this.peer} has ${pending} bytes unsent; closing it`));
      this.destroy('send buffer full');
      return;
    }
    if (this.stateValue === ConnectionState.Connecting) {
      this.queue.push({ data, onError });
      this.queuedBytes += data.length;
      return;
    }
    this.write(data, onError);
  }

  /** Ends the connection after what was written has left (at most CLOSE_GRACE_MS). Idempotent. */
  close(): void {
    if (this.stateValue === ConnectionState.Closed || this.stateValue === ConnectionState.Closing) return;
    if (this.stateValue === ConnectionState.Connecting) {
      this.destroy('closed while connecting');
      return;
    }
    this.stateValue = ConnectionState.Closing;
    this.framer.close();
    this.socket.end();
    this.graceTimer = setTimeout(() => this.destroy('close grace time over'), CLOSE_GRACE_MS);
    this.graceTimer.unref();
  }

  /** Drops the socket now. Idempotent. */
  destroy(reason: string): void {
    if (this.stateValue === ConnectionState.Closed) return;
    this.closeReason = reason;
    // No more sends from now on; Closed comes with the socket's 'close' event.
    if (this.stateValue !== ConnectionState.Connecting) this.stateValue = ConnectionState.Closing;
    this.socket.destroy();
  }

  private write(data: Buffer, onError: SendFailed): void {
    this.socket.write(data, (err) => {
      if (err) onError(err);
    });
  }

  /** After each chunk: a message in progress has a due time from its first chunk; none in progress, none due. */
  private trackMessageDue(): void {
    const framer = this.framer;
    const newMessage = framer.framedCount !== this.framedMark;
    this.framedMark = framer.framedCount;
    const state = framer.currentState;
    if (state === FramerState.Headers || state === FramerState.Body) {
      if (newMessage || this.messageDue === 0) this.messageDue = Date.now() + this.limits.messageTimeoutMs;
    } else if (framer.framedCount > 0) {
      this.messageDue = 0;
    }
  }

  private pong(): void {
    if (this.stateValue === ConnectionState.Open) this.socket.write(PONG);
  }

  private framingError(reason: string): void {
    this.log.debug({ connectionId: this.id, peer: this.peer, reason }, 'stream framing lost; closing the connection');
    this.events.onFramingError(this, reason);
    // RFC 3261 §18.3: without a usable Content-Length the end of this message, and so the start of the next,
    // cannot be found; nothing more read on this connection can be trusted.
    this.destroy(`framing error: ${reason}`);
  }

  private opened(): void {
    if (this.stateValue !== ConnectionState.Connecting) return;
    this.stateValue = ConnectionState.Open;
    this.flowValue = this.flowFromSocket();
    this.socket.setTimeout(this.limits.idleTimeoutMs);
    this.events.onOpen(this);
    const queue = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    for (const { data, onError } of queue) this.write(data, onError);
  }

  private closed(): void {
    if (this.stateValue === ConnectionState.Closed) return;
    this.stateValue = ConnectionState.Closed;
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.framer.close();
    const queue = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    if (queue.length > 0) {
      const err = new Error(`cannot reach ${this.peer}: ${this.closeReason}`);
      for (const { onError } of queue) onError(err);
    }
    this.log.debug({ connectionId: this.id, peer: this.peer, reason: this.closeReason }, 'connection closed');
    this.events.onClose(this);
    this.resolveClosed();
  }

  private flowFromSocket(): Flow {
    const s = this.socket;
    return {
      transport: this.transport,
      remoteAddress: plainAddress(s.remoteAddress ?? this.flowValue?.remoteAddress ?? ''),
      remotePort: s.remotePort ?? this.flowValue?.remotePort ?? 0,
      localAddress: plainAddress(s.localAddress ?? ''),
      localPort: s.localPort ?? 0,
      connectionId: this.id,
    };
  }
}

/** Binds a stream server (plain TCP or TLS); rejects with the address in the message if it cannot. */
export function listenStream(server: Server, spec: ListenSpec): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(new Error(`cannot listen on ${describeEndpoint(spec.transport, spec.host, spec.port)}: ${bindProblem(err)}`));
    };
    const onListening = (): void => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : spec.port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host: spec.host, port: spec.port, exclusive: true });
  });
}

/** A plain TCP server that hands on each accepted socket. */
export function createTcpServer(onSocket: (socket: Socket) => void): Server {
  return createServer({ noDelay: true }, onSocket);
}

/** Starts an outbound TCP connection; it is open on 'connect'. */
export function connectTcp(address: string, port: number, localAddress?: string): Socket {
  return connect({ host: address, port, localAddress, noDelay: true });
}

/** "address already in use (EADDRINUSE)" and the like, for an operator. */
export function bindProblem(err: NodeJS.ErrnoException): string {
  const known: Record<string, string> = {
    EADDRINUSE: 'address already in use',
    EADDRNOTAVAIL: 'address not available on this machine',
    EACCES: 'permission denied (ports below 1024 need privileges)',
    ENOTFOUND: 'unknown host',
  };
  const text = err.code ? known[err.code] : undefined;
  return text ? `${text} (${err.code})` : err.message;
}
