/**
 * TLS sockets for SIP (RFC 3261 §26.2.1, §18): a server that presents our certificate and, when asked, demands a
 * client certificate signed by our CA; and outbound connections that verify the peer. TLS 1.2 at least.
 * The sockets are carried by StreamConnection (tcp.ts) like plain TCP ones.
 *
 * Not here: framing, connection reuse, limits (tcp.ts, connection-table.ts).
 */
import { isIP, type Socket } from 'node:net';
import { connect, createServer, type ConnectionOptions, type SecureVersion, type Server, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { TlsOptions } from './types.js';

const MIN_VERSION: SecureVersion = 'TLSv1.2';

/**
 * A TLS server; `onSecure` gets each socket whose handshake succeeded, `onRaw` each accepted TCP socket before
 * its handshake (to count and refuse it). Throws a clear Error when the certificate or key is unusable.
 */
export function createTlsServer(
  tls: TlsOptions,
  handshakeTimeoutMs: number,
  logger: Logger,
  onRaw: (socket: Socket) => void,
  onSecure: (socket: TLSSocket) => void,
): Server {
  const requireClientCert = tls.requireClientCert === true;
  let server: Server;
  try {
    server = createServer(
      {
        cert: tls.cert,
        key: tls.key,
        ca: tls.ca,
        minVersion: MIN_VERSION,
        requestCert: requireClientCert,
        rejectUnauthorized: requireClientCert,
        handshakeTimeout: handshakeTimeoutMs,
      },
      onSecure,
    );
  } catch (err) {
    throw new Error(`the TLS certificate or key is unusable: ${(err as Error).message}`);
  }
  server.on('connection', onRaw);
  server.on('tlsClientError', (err, socket) => {
    logger.debug({ err, peer: `${socket.remoteAddress}:${socket.remotePort}` }, 'TLS handshake failed');
  });
  return server;
}

/**
 * Starts an outbound TLS connection; it is open on 'secureConnect'. The peer's certificate must chain to
 * `tls.ca` (Node's default roots when there is none) and name the host: the servername when the target is a
 * host name, the IP address (subjectAltName IP) when it is one. Our own certificate goes along for peers that
 * ask for one (mutual TLS with a PBX).
 */
export function connectTls(address: string, port: number, tls: TlsOptions | undefined, localAddress?: string): TLSSocket {
  // localAddress is passed on to net.connect by Node, though @types/node does not list it.
  const options: ConnectionOptions & { localAddress?: string } = {
    host: address,
    port,
    localAddress,
    servername: isIP(address) === 0 ? address : undefined,
    ca: tls?.ca,
    cert: tls?.cert,
    key: tls?.key,
    minVersion: MIN_VERSION,
    rejectUnauthorized: true,
  };
  return connect(options);
}
