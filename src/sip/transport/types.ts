/**
 * The transport layer's vocabulary (RFC 3261 §18): which transports exist, what to listen on, how a message
 * arrived (its flow) and where one goes (its target).
 *
 * The transport moves whole message frames as bytes. It knows framing (where one message ends on a stream)
 * and nothing else about SIP: no parsing, no Via, no transactions.
 */
import { isIPv4 } from 'node:net';

export type TransportName = 'udp' | 'tcp' | 'tls';

/** A socket to bind. */
export interface ListenSpec {
  transport: TransportName;
  /** IPv4 or IPv6 address, without brackets. */
  host: string;
  /** 0 = any free port; bound() tells which one was taken. */
  port: number;
}

/** TLS material, as PEM contents (not file names). */
export interface TlsOptions {
  /** Our certificate chain: presented to TLS clients, and to TLS servers that ask for a client certificate. */
  cert: string | Buffer;
  /** Its private key (unencrypted). */
  key: string | Buffer;
  /** CA bundle that peers' certificates must chain to. Without it, Node's default roots are used. */
  ca?: string | Buffer;
  /** Refuse TLS clients that present no certificate signed by `ca`. Default false. */
  requireClientCert?: boolean;
  /** OpenSSL cipher list, both directions. Default: forward-secret AEAD suites only (tls.ts). */
  ciphers?: string;
  /** Oldest TLS version, both directions. Default TLSv1.2. */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
}

/**
 * How a message arrived: the 5-tuple of the socket (RFC 5626 calls this a flow). For UDP `localAddress` is the
 * address the socket is bound to, which may be a wildcard (0.0.0.0 or ::). Addresses are plain: an IPv4 peer
 * reaching an IPv6 dual-stack socket is reported as 192.0.2.1, not ::ffff:192.0.2.1.
 */
export interface Flow {
  transport: TransportName;
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
  /** The connection that carried it (stream transports only); pass it back in SendTarget to answer on it. */
  connectionId?: number;
}

/** One whole message, as received. */
export interface InboundFrame {
  data: Buffer;
  flow: Flow;
  /** process.hrtime.bigint() when the frame was complete. */
  receivedAt: bigint;
}

/** Where to send one message. */
export interface SendTarget {
  transport: TransportName;
  /** IP address or host name. */
  address: string;
  port: number;
  /** Prefer this connection if it is still open (stream transports; RFC 3261 §18.2.2 answers on the same one). */
  connectionId?: number;
}

/** Limits, each with its default. */
export interface TransportLimits {
  /** Largest message, headers and body together; larger ones are framing errors. Default 65535. */
  maxMessageBytes: number;
  /** A stream connection with no traffic either way for this long is closed. Default 15 minutes. */
  idleTimeoutMs: number;
  /** Open stream connections (inbound, outbound and TLS handshakes in progress) at most. Default 10000. */
  maxConnections: number;
  /** Inbound stream connections from one untrusted address at most. Default 10000 (no limit of its own). */
  maxConnectionsPerSource: number;
  /** Of maxConnections, this many are kept for trusted sources and outbound connections. Default 0. */
  reservedForTrusted: number;
  /** Largest header section on a stream; larger ones are framing errors. Default 16384. */
  maxHeaderBytes: number;
  /**
   * A message on a stream (header section and body) must be complete this long after its first byte, and an
   * untrusted source's inbound connection must send its first message (or keep-alive) this long after it was
   * accepted; else the connection is closed (slow-loris). Default 10 s.
   */
  messageTimeoutMs: number;
  /** Bytes waiting to be written on one connection (queued while connecting, or unread by the peer) at most;
   *  past it the connection is closed as stuck. Default 1 MiB. */
  maxBufferedBytes: number;
  /** A TLS handshake not done in this time is abandoned. Default 10 s. */
  handshakeTimeoutMs: number;
  /**
   * New inbound stream connections one untrusted source may open per second, sustained (twice as many at once).
   * A TLS handshake costs the event loop about a millisecond of crypto: without a rate, one stranger
   * connecting and closing in a loop took a third of the loop that paces RTP. Default 0: no limit.
   */
  newConnectionsPerSourcePerSecond: number;
}

export const DEFAULT_LIMITS: Readonly<TransportLimits> = {
  newConnectionsPerSourcePerSecond: 0,
  maxMessageBytes: 65535,
  idleTimeoutMs: 15 * 60 * 1000,
  maxConnections: 10000,
  maxConnectionsPerSource: 10000,
  reservedForTrusted: 0,
  maxHeaderBytes: 16384,
  messageTimeoutMs: 10_000,
  maxBufferedBytes: 1024 * 1024,
  handshakeTimeoutMs: 10_000,
};

/** "::ffff:192.0.2.1" → "192.0.2.1"; every other address unchanged. */
export function plainAddress(address: string): string {
  if (address.length > 7 && address.slice(0, 7).toLowerCase() === '::ffff:') {
    const v4 = address.slice(7);
    if (isIPv4(v4)) return v4;
  }
  return address;
}

/** True for 0.0.0.0 and :: (a socket bound to every address). */
export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '0:0:0:0:0:0:0:0';
}

/** "tcp:192.0.2.1:5060", "udp:[2001:db8::1]:5060": for logs and error messages. */
export function describeEndpoint(transport: TransportName, address: string, port: number): string {
  return `${transport}:${address.includes(':') ? `[${address}]` : address}:${port}`;
}
