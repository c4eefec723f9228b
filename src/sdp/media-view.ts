/**
 * Reads what one media description means for G.711 audio: its direction, its connection, which payload
 * types carry PCMU, PCMA and telephone-event, where RTCP goes, its RTP profile and its a=crypto lines.
 * Pure functions over the parsed model; nothing here builds SDP (see negotiate.ts) and nothing throws.
 */
import type { Codec, Direction, SdpAttribute, SdpConnection, SdpMedia, SessionDescription } from './types.js';

const DIRECTIONS: ReadonlySet<string> = new Set<Direction>(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

/** RFC 3551 §6 static payload types for the two G.711 laws. */
export const STATIC_PT: Readonly<Record<Codec, number>> = { PCMU: 0, PCMA: 8 };
export const G711_CLOCK_RATE = 8000;
/** The PT vmpilot uses for telephone-event in its own offers (the common choice; any of 96-127 would do). */
export const OUR_TELEPHONE_EVENT_PT = 101;
/** RFC 4733 §7.1.1: our offers advertise the DTMF events 0-15 plus flash (16). */
export const OUR_TELEPHONE_EVENT_FMTP = '0-16';

/** One a=rtpmap value: <payload type> <encoding name>/<clock rate>[/<encoding parameters>]. */
export interface RtpMap {
  payloadType: number;
  encoding: string;
  clockRate: number;
  channels?: number;
}

/** The first attribute with this name (case-insensitive, RFC 4566 §5.13 names are case-sensitive in
 * theory but every stack writes them in lower case and some write them otherwise). */
export function findAttribute(attributes: readonly SdpAttribute[], name: string): SdpAttribute | undefined {
  const wanted = name.toLowerCase();
  return attributes.find((a) => a.name.toLowerCase() === wanted);
}

/** RFC 3264 §5.1: the direction attribute of the stream, media level over session level, default sendrecv. */
export function declaredDirection(session: SessionDescription, media: SdpMedia): Direction {
  return directionIn(media.attributes) ?? directionIn(session.attributes) ?? 'sendrecv';
}

function directionIn(attributes: readonly SdpAttribute[]): Direction | undefined {
  for (const a of attributes) {
    const name = a.name.toLowerCase();
    if (a.value === undefined && DIRECTIONS.has(name)) return name as Direction;
  }
  return undefined;
}

/** RFC 3264 §6.1 answer direction: the mirror image of the offered one. */
export function reverseDirection(direction: Direction): Direction {
  if (direction === 'sendonly') return 'recvonly';
  if (direction === 'recvonly') return 'sendonly';
  return direction;
}

/** The direction both sides allow from our side: we may send only if we said so and they receive. */
export function combineDirections(ours: Direction, theirs: Direction): Direction {
  const send = canSend(ours) && canReceive(theirs);
  const receive = canReceive(ours) && canSend(theirs);
  if (send && receive) return 'sendrecv';
  if (send) return 'sendonly';
  if (receive) return 'recvonly';
  return 'inactive';
}

function canSend(d: Direction): boolean {
  return d === 'sendrecv' || d === 'sendonly';
}

function canReceive(d: Direction): boolean {
  return d === 'sendrecv' || d === 'recvonly';
}

/** RFC 4566 §5.7: the media-level c= line wins over the session-level one. */
export function effectiveConnection(session: SessionDescription, media: SdpMedia): SdpConnection | undefined {
  return media.connection ?? session.connection;
}

/** The unicast address of a c= line: without any /ttl or /count suffix (multicast IPv4 and IPv6). */
export function connectionHost(connection: SdpConnection): string {
  const slash = connection.address.indexOf('/');
  return slash < 0 ? connection.address : connection.address.slice(0, slash);
}

/** RFC 3264 §8.4: "c=0.0.0.0" is the RFC 2543 way of putting the other side on hold. */
export function isHoldAddress(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '0:0:0:0:0:0:0:0';
}

/** IP6 when the address is an IPv6 literal, else IP4. */
export function addrTypeOf(address: string): 'IP4' | 'IP6' {
  return address.includes(':') ? 'IP6' : 'IP4';
}

/** Every a=rtpmap of the media description that parses, keyed by payload type. */
export function rtpMaps(media: SdpMedia): Map<number, RtpMap> {
  const maps = new Map<number, RtpMap>();
  for (const a of media.attributes) {
    if (a.name.toLowerCase() !== 'rtpmap' || a.value === undefined) continue;
    const map = parseRtpMap(a.value);
    if (map && !maps.has(map.payloadType)) maps.set(map.payloadType, map);
  }
  return maps;
}

function parseRtpMap(value: string): RtpMap | undefined {
  const match = /^(\d{1,3})\s+([^/\s]+)\/(\d+)(?:\/(\d+))?\s*$/.exec(value);
  if (!match) return undefined;
  const map: RtpMap = { payloadType: Number(match[1]), encoding: match[2]!, clockRate: Number(match[3]) };
  if (match[4] !== undefined) map.channels = Number(match[4]);
  return map;
}

/**
 * The G.711 law a format carries, if any: by its a=rtpmap (which wins, names compared case-insensitively,
 * 8000 Hz mono only), else by RFC 3551 static payload type 0 or 8.
 */
export function g711Of(format: string, maps: ReadonlyMap<number, RtpMap>, fallback?: ReadonlyMap<number, RtpMap>): Codec | undefined {
  if (!/^\d{1,3}$/.test(format)) return undefined;
  const pt = Number(format);
  const map = maps.get(pt) ?? fallback?.get(pt);
  if (map) {
    if (map.clockRate !== G711_CLOCK_RATE || (map.channels !== undefined && map.channels !== 1)) return undefined;
    const name = map.encoding.toUpperCase();
    return name === 'PCMU' || name === 'PCMA' ? name : undefined;
  }
  if (pt === STATIC_PT.PCMU) return 'PCMU';
  if (pt === STATIC_PT.PCMA) return 'PCMA';
  return undefined;
}

/** True when a format is telephone-event at 8000 Hz (RFC 4733 §7.1.1); it always needs an a=rtpmap. */
export function isTelephoneEvent8k(format: string, maps: ReadonlyMap<number, RtpMap>, fallback?: ReadonlyMap<number, RtpMap>): boolean {
  if (!/^\d{1,3}$/.test(format)) return false;
  const map = maps.get(Number(format)) ?? fallback?.get(Number(format));
  return map !== undefined && map.encoding.toLowerCase() === 'telephone-event' && map.clockRate === G711_CLOCK_RATE;
}

/** The a=fmtp value for one payload type, without the PT, e.g. "0-16". */
export function fmtpOf(media: SdpMedia, payloadType: number): string | undefined {
  for (const a of media.attributes) {
    if (a.name.toLowerCase() !== 'fmtp' || a.value === undefined) continue;
    const match = /^(\d{1,3})(?:\s+(.*))?$/.exec(a.value);
    if (match && Number(match[1]) === payloadType) return (match[2] ?? '').trim();
  }
  return undefined;
}

/** RFC 3605: a=rtcp:<port> [nettype addrtype address]; otherwise RTCP is on the RTP port + 1 (RFC 3550 §11). */
export function rtcpPortOf(media: SdpMedia): number {
  const rtcp = findAttribute(media.attributes, 'rtcp');
  const match = rtcp?.value === undefined ? null : /^(\d{1,5})\b/.exec(rtcp.value);
  const port = match ? Number(match[1]) : NaN;
  return port > 0 && port <= 65535 ? port : media.port + 1;
}

/** How an RTP profile protects media: 'plain' RTP or 'secure' SRTP. */
export type RtpProfileKind = 'plain' | 'secure';

/**
 * The RTP profiles vmpilot speaks: RTP/AVP (RFC 3551) and RTP/AVPF (RFC 4585, feedback not used) are plain
 * RTP; RTP/SAVP (RFC 3711 §12) and RTP/SAVPF (RFC 5124) are SRTP, keyed by a=crypto. Any other transport
 * (UDP/TLS/RTP/SAVPF for DTLS-SRTP, udptl, TCP/MSRP ...) is undefined: not usable.
 */
export function rtpProfileKind(proto: string): RtpProfileKind | undefined {
  const p = proto.toUpperCase();
  if (p === 'RTP/AVP' || p === 'RTP/AVPF') return 'plain';
  if (p === 'RTP/SAVP' || p === 'RTP/SAVPF') return 'secure';
  return undefined;
}

/** The values of a media description's a=crypto lines (RFC 4568 §9.1), in the order written. */
export function cryptoValues(media: SdpMedia): string[] {
  const values: string[] = [];
  for (const a of media.attributes) if (a.name.toLowerCase() === 'crypto' && a.value !== undefined) values.push(a.value);
  return values;
}
