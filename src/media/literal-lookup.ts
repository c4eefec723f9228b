import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';

/**
 * The address lookup of RTP and RTCP sockets. dgram resolves the destination of every unconnected send() with
 * dns.lookup, which answers an IP literal (what SDP's c= line holds) on the next tick: a process.nextTick and
 * a callback per packet. Unconnected is how a call sends until its caller's RTP arrives (rtp-link.ts), so
 * every prompt played before the caller says anything, the greeting of each new call above all, paid it:
 * in the capacity bench with calls coming and going, two thirds of all RTP sends went that way. A literal is
 * its own answer, given at once; a name (never from our SDP parser, but a config could hold one) still goes
 * to dns.lookup.
 */
export const literalLookup = ((hostname: string, options: unknown, callback: (err: Error | null, address: string, family: number) => void): void => {
  const family = isIP(hostname);
  if (family !== 0) return callback(null, hostname, family);
  dnsLookup(hostname, options as never, callback as never);
}) as unknown as typeof dnsLookup;
