/**
 * The SIP side of a vmpilot process as the config describes it: TLS material read, every sip.listen socket
 * bound, and the stack over them with the site's trust, rate limits, timers and advertised host. Shared by a
 * server (server.ts) and a cluster's front door (cluster/front-door.ts), so that both treat strangers alike.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Config } from './config/schema.js';
import { TransportLayer } from './sip/transport/transport-layer.js';
import { SipStack } from './sip/stack.js';
import { AddressMatcher, LOOPBACK } from './sip/trust.js';
import { SourceRateLimiter } from './sip/rate-limit.js';
import { SourceKeys } from './sip/source-key.js';

/**
 * Where `vmpilot ping` and a container HEALTHCHECK come from. Exactly these, not all of 127.0.0.0/8: the rest of
 * loopback stays a stranger like any other address (tests stand strangers there).
 */
const LOCAL_PROBE = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export interface SipEndpoint {
  transport: TransportLayer;
  stack: SipStack;
  /** The sources trusted as a PBX: every pbx[].addresses, or loopback while no PBX is configured. */
  trusted: AddressMatcher;
  /** The key every per-source limit counts an address under (sip.limits.ipv6PrefixLength): the PIN back-off's too. */
  sourceKeys: SourceKeys;
}

export async function openSipEndpoint(config: Config, logger: Logger): Promise<SipEndpoint> {
  const tls = config.sip.tls
    ? {
        cert: await readFile(config.sip.tls.cert),
        key: await readFile(config.sip.tls.key),
        ca: config.sip.tls.ca ? await readFile(config.sip.tls.ca) : undefined,
        requireClientCert: config.sip.tls.requireClientCert,
        ciphers: config.sip.tls.ciphers,
        minVersion: config.sip.tls.minVersion,
      }
    : undefined;
  // Trust: the union of every PBX's addresses; loopback only when no PBX is configured (DESIGN.md).
  const trusted = config.pbx.length > 0 ? new AddressMatcher(config.pbx.flatMap((p) => p.addresses)) : LOOPBACK;
  // Connection limits keep room for the PBX while strangers flood (issue 9 items 2 and 3).
  const limits = config.sip.limits;
  // Every per-source limit counts an IPv6 network prefix as one source (source-key.ts).
  const sourceKeys = new SourceKeys(limits.ipv6PrefixLength);
  const transport = new TransportLayer({
    logger,
    tls,
    isTrusted: (address) => trusted.matches(address),
    sourceKeys,
    maxConnections: limits.maxConnections,
    maxConnectionsPerSource: limits.maxConnectionsPerSource,
    reservedForTrusted: limits.reservedForTrusted,
    maxHeaderBytes: limits.maxHeaderBytes,
    messageTimeoutMs: limits.messageTimeoutS * 1000,
    handshakeTimeoutMs: limits.tlsHandshakeTimeoutS * 1000,
    newConnectionsPerSourcePerSecond: limits.newConnectionsPerSourcePerSecond,
  });
  await transport.listen(config.sip.listen);
  // Strangers are rate-limited; the PBX's own traffic only when sip.rateLimit.trusted asks for it (issue 9).
  const rate = config.sip.rateLimit;
  const limiter = new SourceRateLimiter({ perSecond: rate.perSourcePerSecond, burst: rate.burst });
  const trustedLimiter = rate.trusted && new SourceRateLimiter({ perSecond: rate.trusted.perSourcePerSecond, burst: rate.trusted.burst });
  const stack = new SipStack(transport, {
    logger,
    timers: config.sip.timers,
    userAgent: config.sip.userAgent,
    isTrusted: (address) => trusted.matches(address),
    admit: (address, isTrusted) => (isTrusted ? (trustedLimiter?.allow(sourceKeys.keyOf(address)) ?? true) : limiter.allow(sourceKeys.keyOf(address))),
    sourceKeys,
    strangers: config.sip.strangers,
    // Health checks on this host (vmpilot ping, HEALTHCHECK) keep working once `pbx` stops trusting loopback.
    isHealthProbe: (address) => LOCAL_PROBE.has(address),
    advertise: config.sip.advertise,
  });
  return { transport, stack, trusted, sourceKeys };
}
