/**
 * What one client can hold of the admin HTTP server: at most http.maxConnections sockets in all and
 * http.maxConnectionsPerSource from one source (an IPv6 network counting once, sip/source-key.ts), with a tenth
 * of the total kept for this host's own probes (127.0.0.1, ::1) and the listed reverse proxies (http.trustProxy),
 * and a request's header section due within http.headersTimeoutS.
 *
 * Without it, a client opening sockets and sending nothing (or a header a byte at a time) kept each for Node's
 * default 60 s header timeout, without any cap: tens of thousands of them took memory and file descriptors from
 * the process that also carries the calls (and its SIP connections, and its recordings' files).
 *
 * The counting is the SIP transport's (sip/transport/connection-quota.ts); refusals are logged at most once per
 * 10 s with a count. Not here: what the requests may do (auth.ts), body sizes (server.ts).
 */
import type { Server } from 'node:net';
import type { Logger } from 'pino';
import { ConnectionQuota } from '../sip/transport/connection-quota.js';
import { CountedLog } from '../sip/transport/counted-log.js';
import { plainAddress } from '../sip/transport/types.js';
import { AddressMatcher } from '../sip/trust.js';
import { SourceKeys } from '../sip/source-key.js';

export interface HttpConnectionLimits {
  maxConnections: number;
  maxConnectionsPerSource: number;
  /** A request's header section must be complete this long after its connection opened or its last request. */
  headersTimeoutS: number;
  /** http.trustProxy: these peers are not held to the per-source cap (every client behind them shares their address). */
  trustProxy: false | readonly string[];
  ipv6PrefixLength: number;
}

/** This host's own probes: exactly these, the rest of loopback is a client like any other (tests stand clients there). */
const LOCAL = ['127.0.0.1', '::1'];

export function limitConnections(server: Server & { headersTimeout?: number }, limits: HttpConnectionLimits, log: Logger): void {
  const quota = new ConnectionQuota({
    maxConnections: limits.maxConnections,
    maxPerSource: limits.maxConnectionsPerSource,
    reservedForTrusted: Math.floor(limits.maxConnections / 10),
  });
  const trusted = new AddressMatcher([...LOCAL, ...(limits.trustProxy || [])]);
  const keys = new SourceKeys(limits.ipv6PrefixLength);
  const refusals = new CountedLog(log, 'http connections refused: too many connections');
  server.headersTimeout = limits.headersTimeoutS * 1000;
  server.on('connection', (socket) => {
    const address = plainAddress(socket.remoteAddress ?? '');
    const isTrusted = trusted.matches(address);
    const source = keys.keyOf(address);
    const refused = quota.acquire(source, isTrusted);
    if (refused) {
      refusals.note({ peer: `${address}:${socket.remotePort}`, limit: refused, max: limits.maxConnections });
      socket.destroy();
      return;
    }
    socket.once('close', () => quota.release(source, isTrusted));
  });
}
