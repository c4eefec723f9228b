/**
 * RFC 4733 telephone-events: the decoder that turns a stream of event packets into one key press per
 * event, and the encoder that plans the packets for sending a key.
 *
 * Also the keypad vocabulary shared by every DTMF source (RFC 4733 events, SIP INFO, in-band tones).
 *
 * Pure byte-level code: no sockets and no timers. The caller passes "now" (ms, any monotonic clock) with each
 * packet and calls poll(now) from its shared tick so that an event whose end packets were all lost still
 * ends. Nothing is allocated per packet; a report is one delegate call.
 *
 * Not here: choosing the payload type (SDP), RFC 2198 redundancy, events other than 0-16 (ignored).
 */
import type { RtpPacketView } from '../rtp-packet.js';
import { tsDelta } from '../rtp-packet.js';

/** A DTMF key: 0-9, *, #, A-D. */
export type DtmfDigit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#' | 'A' | 'B' | 'C' | 'D';
/** A key or a hook flash (RFC 4733 event 16). */
export type DtmfKey = DtmfDigit | 'flash';

/** RFC 4733 §3.2, Table 7: event codes 0-15 are the DTMF keys, 16 is flash. Index = event code. */
export const EVENT_KEYS: readonly DtmfKey[] = [
  '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D', 'flash',
];

/** The key of an event code, or undefined for codes outside 0-16. */
export function eventCodeToKey(code: number): DtmfKey | undefined {
  return EVENT_KEYS[code];
}

/** The event code of a key (case-insensitive for A-D), or -1. */
export function keyToEventCode(key: string): number {
  return EVENT_KEYS.indexOf(key.length === 1 ? (key.toUpperCase() as DtmfKey) : (key as DtmfKey));
}

/** The telephone-event clock rate: RFC 4733 §2.3.5 durations are in timestamp units; 8000 Hz for G.711. */
export const EVENT_CLOCK_RATE = 8000;

/** How an event's end was established. */
export type TelephoneEventEnd =
  /** A packet with the E bit arrived (the normal case, RFC 4733 §2.5.1.4). */
  | 'end-packet'
  /** A packet of a newer event arrived before any E-bit packet of this one. */
  | 'new-event'
  /** No packet of the event arrived for endTimeoutMs (poll). */
  | 'timeout'
  /** The stream changed SSRC or was reset. */
  | 'reset';

/** What the decoder reports; each method is called at most once per event. */
export interface TelephoneEventDelegate {
  /** The first packet of a new event arrived: act on the key now (barge-in must not wait for the end). */
  onKeyDown?(key: DtmfKey, timestamp: number): void;
  /** The event is over, with its duration as last reported by the sender. */
  onKeyUp?(key: DtmfKey, durationMs: number, how: TelephoneEventEnd): void;
}

/** States of one stream's decoder. */
export enum TelephoneEventState {
  /** No event in progress: the next packet with an unseen timestamp starts one. */
  Idle = 'idle',
  /** An event began (onKeyDown was called) and its end has not been established yet. */
  Active = 'active',
}

export interface TelephoneEventDecoderOptions {
  /** An active event with no packet for this long is ended by poll(). Default 500 ms (10 updates at 50 ms). */
  endTimeoutMs?: number;
}

/** How many ended events are remembered to swallow their retransmitted end packets. */
const RECENT = 8;
/** RFC 4733 §2.3.5: the duration field is 16 bits; a longer event continues in a new segment. */
const MAX_SEGMENT = 0xffff;
/** Slack when matching a new segment's timestamp to the previous segment's end (3 packets at 20 ms). */
const SEGMENT_SLACK = 480;

/** Decodes the telephone-events of one RTP stream into one key down/up per event. */
export class TelephoneEventDecoder {
  state = TelephoneEventState.Idle;
  /** Packets that were not a well-formed telephone-event payload. */
  malformed = 0;

  private readonly endTimeoutMs: number;
  private ssrc = -1;
  private code = 0;
  /** Timestamp of the current segment (RFC 4733: the event's key; a long event moves it per segment). */
  private timestamp = 0;
  /** Duration of the segments before the current one, in timestamp units. */
  private earlierSegments = 0;
  private duration = 0;
  private lastPacketAt = 0;
  /** Timestamps (keys) of recently finished events, newest at recentHead - 1. */
  private readonly recent = new Float64Array(RECENT);
  private recentCount = 0;
  private recentHead = 0;
  /** The newest event key seen, to drop packets of older events that arrive late. */
  private newest = 0;
  private haveNewest = false;

  constructor(
    private readonly delegate: TelephoneEventDelegate,
    options: TelephoneEventDecoderOptions = {},
  ) {
    this.endTimeoutMs = options.endTimeoutMs ?? 500;
  }

  /**
   * Takes one RTP packet already known to carry telephone-event (by payload type). Returns false when the
   * payload is not a telephone-event block (counted in `malformed`). Never throws.
   */
  receive(view: RtpPacketView, buf: Uint8Array, now: number): boolean {
    if (view.payloadLength < 4) {
      this.malformed++;
      return false;
    }
    // RFC 4733 §2.3: event (8) | E (1) | R (1) | volume (6) | duration (16). A payload longer than one block
    // is read by its first block. FIXME: RFC 4733 §2.5.1.5 multiple events in one packet (rare) -- only the
    // first is seen.
    const at = view.payloadOffset;
    const code = buf[at]!;
    const end = (buf[at + 1]! & 0x80) !== 0;
    const duration = (buf[at + 2]! << 8) | buf[at + 3]!;
    const ts = view.timestamp;

    if (view.ssrc !== this.ssrc) {
      if (this.ssrc !== -1) this.reset();
      this.ssrc = view.ssrc;
    }
    // Events beyond 16 (tones, RFC 4734 line events) are not keys: ignore them without ending ours.
    if (code >= EVENT_KEYS.length) return true;

    if (this.state === TelephoneEventState.Active && ts === this.timestamp) {
      // RFC 4733 §2.5.2.2: further packets of an event (updates, and the three end packets of §2.5.1.4)
      // share its timestamp; they only extend the duration.
      if (duration > this.duration) this.duration = duration;
      this.lastPacketAt = now;
      if (end) this.finish('end-packet');
      return true;
    }
    if (this.wasReported(ts)) return true;
    if (this.haveNewest && tsDelta(ts, this.newest) < 0) return true; // a late packet of an older event

    if (this.state === TelephoneEventState.Active) {
      // RFC 4733 §2.5.1.3: an event longer than the 16-bit duration field continues as a new segment with
      // a timestamp advanced by the previous segment's duration, and without the marker bit.
      const gap = tsDelta(ts, this.timestamp);
      if (
        code === this.code &&
        !view.marker &&
        this.duration >= MAX_SEGMENT - SEGMENT_SLACK &&
        Math.abs(gap - this.duration) <= SEGMENT_SLACK
      ) {
        this.earlierSegments += gap;
        this.timestamp = ts;
        this.newest = ts;
        this.duration = duration;
        this.lastPacketAt = now;
        if (end) this.finish('end-packet');
        return true;
      }
      // A new timestamp means a new event: the current one's end packets were all lost.
      this.finish('new-event');
    }

    this.state = TelephoneEventState.Active;
    this.code = code;
    this.timestamp = ts;
    this.newest = ts;
    this.haveNewest = true;
    this.earlierSegments = 0;
    this.duration = duration;
    this.lastPacketAt = now;
    this.delegate.onKeyDown?.(EVENT_KEYS[code]!, ts);
    // Only the end packets of a short event may have survived: report both at once.
    if (end) this.finish('end-packet');
    return true;
  }

  /** Ends an active event that has had no packet for endTimeoutMs. Call from the shared tick. */
  poll(now: number): void {
    if (this.state === TelephoneEventState.Active && now - this.lastPacketAt >= this.endTimeoutMs) {
      this.finish('timeout');
    }
  }

  /** Ends an active event (reported as 'reset') and forgets the stream: the next packet starts afresh. */
  reset(): void {
    if (this.state === TelephoneEventState.Active) this.finish('reset');
    this.recentCount = 0;
    this.recentHead = 0;
    this.haveNewest = false;
    this.ssrc = -1;
  }

  private finish(how: TelephoneEventEnd): void {
    this.state = TelephoneEventState.Idle;
    this.recent[this.recentHead] = this.timestamp;
    this.recentHead = (this.recentHead + 1) % RECENT;
    if (this.recentCount < RECENT) this.recentCount++;
    const samples = this.earlierSegments + this.duration;
    this.delegate.onKeyUp?.(EVENT_KEYS[this.code]!, (samples * 1000) / EVENT_CLOCK_RATE, how);
  }

  private wasReported(ts: number): boolean {
    for (let i = 0; i < this.recentCount; i++) if (this.recent[i] === ts) return true;
    return false;
  }
}

/** One packet of a key sent as a telephone-event, in send order. */
export interface TelephoneEventPacket {
  /** Send this packet this many ms after the first one (a multiple of intervalMs). */
  offsetMs: number;
  /** Marker bit: set on the first packet of the event only (RFC 4733 §2.5.1.1). */
  marker: boolean;
  /** E bit. */
  end: boolean;
  /** Duration so far, in timestamp units. */
  durationSamples: number;
}

export interface TelephoneEventPlanOptions {
  /** Length of the key press. Default 100 ms; at least one interval. */
  durationMs?: number;
  /** Update interval, the sender's packet clock. Default 20 ms. */
  intervalMs?: number;
  /** How many times the final packet is sent. Default 3 (RFC 4733 §2.5.1.4). */
  endRepeats?: number;
}

/**
 * The packets that send one key, in order. Every packet carries the event's start timestamp (the RTP
 * timestamp the audio would have had at the first packet) and a new sequence number; after the last one
 * the audio timestamp resumes at start + the event's duration. Write each with writeTelephoneEvent().
 */
export function planTelephoneEvent(options: TelephoneEventPlanOptions = {}): TelephoneEventPacket[] {
  const intervalMs = options.intervalMs ?? 20;
  const durationMs = Math.max(options.durationMs ?? 100, intervalMs);
  const repeats = Math.max(1, options.endRepeats ?? 3);
  const perInterval = (intervalMs * EVENT_CLOCK_RATE) / 1000;
  const total = Math.min(Math.round((durationMs * EVENT_CLOCK_RATE) / 1000), MAX_SEGMENT);
  const packets: TelephoneEventPacket[] = [];
  // RFC 4733 §2.5.1.2: each update carries "the duration of the event so far", growing by one interval.
  let sent = 0;
  for (let duration = perInterval; duration < total; duration += perInterval) {
    packets.push({ offsetMs: sent * intervalMs, marker: sent === 0, end: false, durationSamples: duration });
    sent++;
  }
  // RFC 4733 §2.5.1.4: "The final packet for each event and for each segment SHOULD be sent a total of
  // three times at the interval used by the source for updates."
  for (let i = 0; i < repeats; i++) {
    packets.push({ offsetMs: sent * intervalMs, marker: sent === 0, end: true, durationSamples: total });
    sent++;
  }
  return packets;
}

/** Volume of the tone we send, in -dBm0 (RFC 4733 §2.3.4): 10 = -10 dBm0, a typical phone's level. */
export const DEFAULT_EVENT_VOLUME = 10;

/** Writes the 4-byte telephone-event payload at buf[offset..]. Returns the payload length (4). */
export function writeTelephoneEvent(
  buf: Uint8Array,
  offset: number,
  eventCode: number,
  end: boolean,
  durationSamples: number,
  volume: number = DEFAULT_EVENT_VOLUME,
): number {
  buf[offset] = eventCode & 0xff;
  buf[offset + 1] = (end ? 0x80 : 0) | (volume & 0x3f);
  buf[offset + 2] = (durationSamples >>> 8) & 0xff;
  buf[offset + 3] = durationSamples & 0xff;
  return 4;
}
