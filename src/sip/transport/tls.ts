/**
 * TLS sockets for SIP (RFC 3261 §26.2.1, §18): a server that presents our certificate and, when asked, demands a
 * client certificate signed by our CA; and outbound connections that verify the peer. TLS 1.2 at least, and by
 * default only forward-secret AEAD cipher suites. A server-side handshake that does not finish in time, or
 * fails, has its socket destroyed here (Node only reports it).
 * The sockets are carried by StreamConnection (tcp.ts) like plain TCP ones.
 *
 * Not here: framing, connection reuse, limits (tcp.ts, connection-table.ts, connection-quota.ts).
 */
import { isIP, type Socket } from 'node:net';
import { connect, createServer, type ConnectionOptions, type SecureVersion, type Server, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { TlsOptions } from './types.js';

const MIN_VERSION: SecureVersion = 'TLSv1.2';

/**
 * The default cipher list: TLS 1.3's suites (all AEAD with ephemeral key exchange), and for TLS 1.2 ECDHE with
 * AES-GCM or ChaCha20-Poly1305 (RFC 7525 §4.2 recommends these; RFC 9325 keeps them). Left out: static-RSA key
 * exchange (no forward secrecy: a stolen key decrypts every recorded call set-up, SDES keys included) and CBC
 * with SHA-1 MACs (Lucky13 and friends). Node's default list also allows DHE and CBC suites.
 */
export const FORWARD_SECRET_AEAD_CIPHERS = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
].join(':');

/** The protocol settings both sides use: the operator's, else ours. */
function protocolOptions(tls: TlsOptions | undefined): { ciphers: string; minVersion: SecureVersion; honorCipherOrder: true } {
  return { ciphers: tls?.ciphers ?? FORWARD_SECRET_AEAD_CIPHERS, minVersion: tls?.minVersion ?? MIN_VERSION, honorCipherOrder: true };
}

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
        ...protocolOptions(tls),
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
    // Node reports a handshake timeout (ERR_TLS_HANDSHAKE_TIMEOUT) here and leaves the socket open: thousands of
    // half-open handshakes would hold every connection slot. A failed handshake has nothing left to say either.
    socket.destroy();
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
    ...protocolOptions(tls),
    rejectUnauthorized: true,
  };
  return connect(options);
}
