/**
 * The receive side of a recording: puts one RTP stream back in order and turns it into a gapless PCM16
 * timeline, so that a recording lasts exactly as long as the RTP timestamps say the caller spoke.
 *
 * - Reorders by sequence number within a window of `maxMisorder` packets (default 3, 60 ms at 20 ms
 *   packets): a missing packet is waited for until that many later packets have arrived, then given up as
 *   lost. Packets older than the output point (late or duplicate) are dropped, as are duplicates held.
 * - Fills gaps by TIMESTAMP, not by sequence: lost packets and silence-suppressed periods (RFC 3389: a
 *   comfort-noise packet, PT 13, marks the start of silence and the next audio packet's timestamp its end)
 *   become digital silence, so the output is exactly as long as the timestamps span.
 * - Handles 16-bit sequence and 32-bit timestamp wrap; restarts on a new SSRC (a PBX that re-anchors media)
 *   and, after two consecutive packets confirm it, on a sequence jump (RFC 3550 §A.1 probation).
 * - Telephone-event and other non-audio packets consume their sequence number and produce no audio.
 * - The first packet received starts the timeline; one sent before it that arrives after it is late.
 * - Wall-clock placement (issue 9 items 11 and 12): push() is told when each packet was read, and a
 *   SenderClock learns from it where the caller's RTP clock stands at any moment. startAt(now) begins a
 *   recording at the caller's "now" (audio for earlier time still in the network or the socket is trimmed,
 *   not recorded; a silence-suppressed gap before it is not recorded either); padTo(now) fills a silence in
 *   which nothing arrives up to where the caller's clock is, so it lasts as long as it really did whatever the
 *   ticks did; and a stream with no timestamp relation to the timeline (the first packet after a recording
 *   began in silence, a new SSRC, a timestamp jump) is placed by when it arrived, the gap before it silence.
 *
 * Output goes to a sink as (samples, count) with a reused Int16Array: the sink must copy or consume it
 * before returning. Nothing is allocated per packet: in-order packets are decoded straight from the
 * received buffer; only out-of-order ones are copied into preallocated slots.
 *
 * No timers: a caller that wants silence recorded while no packets arrive at all (a sender that stops
 * without comfort noise, or the tail of a recording during silence) calls padTo() (or padSilence()) from its tick.
 * Not here: jitter buffering for playout, packet-loss concealment (a lost 20 ms is recorded as silence),
 * SRTP, codecs other than G.711.
 */
import { decodeG711, decodeTable, type G711Law } from './g711.js';
import { SenderClock } from './sender-clock.js';
import { seqDelta, tsAdd, tsDelta, type RtpPacketView } from './rtp-packet.js';
import { FRAME_SAMPLES, SAMPLE_RATE } from './audio-format.js';

/** Called with decoded samples in timeline order; `samples` is reused after the call returns. */
export type PcmSink = (samples: Int16Array, count: number) => void;

export interface ReceiveBufferOptions {
  /** Later packets a missing one may be overtaken by before it is declared lost. Default 3. */
  maxMisorder?: number;
  /** Largest payload held while reordering (larger out-of-order packets are dropped). Default 480 bytes. */
  maxPayloadBytes?: number;
  /** A timestamp jump beyond this, forward or back, restarts the timeline without filling. Default 60 000 ms. */
  maxGapMs?: number;
  /** Payload types decoded as audio. Default { 0: 'PCMU', 8: 'PCMA' } (RFC 3551 static types). */
  audioPayloadTypes?: Readonly<Record<number, G711Law>>;
  /** Comfort-noise payload type. Default 13 (RFC 3389 §5). */
  comfortNoisePayloadType?: number;
}

/** Counters for metrics and tests. */
export interface ReceiveStats {
  /** Packets pushed. */
  received: number;
  /** Packets older than the output point: arrived after being given up, or duplicates of played ones. */
  late: number;
  /** Duplicates of a packet still held. */
  duplicates: number;
  /** Sequence numbers given up as lost. */
  lost: number;
  /** New SSRC or confirmed sequence jump. */
  restarts: number;
  /** Packets from the SSRC we switched away from, dropped. */
  staleSsrc: number;
  /** Timestamp jumps beyond maxGapMs. */
  discontinuities: number;
  /** Comfort-noise packets (RFC 3389). */
  comfortNoise: number;
  /** Packets with a payload type that is neither audio nor comfort noise (telephone-event, unknown). */
  nonAudio: number;
  /** Out-of-order packets dropped for exceeding maxPayloadBytes. */
  oversize: number;
  /** Silence inserted for timestamp gaps (lost packets and silence suppression). */
  filledSamples: number;
  /** Silence inserted by padSilence(). */
  paddedSamples: number;
  /** Samples of packets cut because they overlapped what was already output. */
  trimmedSamples: number;
  /** Silence output before a stream placed by when its first packet arrived (placeNewStream). */
  placedSilence: number;
  /** Samples of the caller's timeline skipped by startAt() (before a recording's start, not output). */
  skippedSamples: number;
  /** Samples delivered to the sink in total. */
  samplesOut: number;
}

/** RFC 3550 §A.1: MAX_DROPOUT = 3000, MAX_MISORDER = 100. */
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;
/** G.711 samples per byte, and the timestamp clock: 8000 Hz. */
/** Output chunk: 60 ms. */
const CHUNK = 480;
const NO_LAW = 0;
const ULAW = 1;
const ALAW = 2;
const NO_PROBATION = -1;

export class ReceiveBuffer {
  readonly stats: ReceiveStats = {
    received: 0, late: 0, duplicates: 0, lost: 0, restarts: 0, staleSsrc: 0, discontinuities: 0,
    comfortNoise: 0, nonAudio: 0, oversize: 0, filledSamples: 0, paddedSamples: 0, trimmedSamples: 0,
    placedSilence: 0, skippedSamples: 0, samplesOut: 0,
  };

  private readonly maxMisorder: number;
  private readonly maxPayload: number;
  private readonly maxGapSamples: number;
  private readonly cnPayloadType: number;
  /** Payload type -> NO_LAW | ULAW | ALAW. */
  private readonly laws = new Uint8Array(128);
  private readonly ulaw = decodeTable('PCMU');
  private readonly alaw = decodeTable('PCMA');
  private readonly pcm = new Int16Array(CHUNK);
  private readonly zeros = new Int16Array(CHUNK);

  // Held out-of-order packets: slot = seq & mask.
  private readonly mask: number;
  private readonly slotSeq: Int32Array;
  private readonly slotTs: Float64Array;
  private readonly slotPt: Uint8Array;
  private readonly slotLength: Int32Array;
  private readonly slotData: Uint8Array;
  private held = 0;

  // Probation (RFC 3550 §A.1): one packet far from the expected sequence, kept until its successor comes.
  private probationSeq = NO_PROBATION;
  private probationTs = 0;
  private probationPt = 0;
  private probationLength = 0;
  private readonly probationData: Uint8Array;

  private started = false;
  private ssrc = 0;
  private previousSsrc = -1;
  /** The next sequence number to output. */
  private nextSeq = 0;
  /** The timestamp of the next sample to output. */
  private nextTs = 0;
  /** nextTs extended (no wrap, continuous across restarts): the position on the caller's timeline. */
  private extNext = 0;
  /** Where the caller's clock stands, in extNext's terms. */
  private readonly clock = new SenderClock();
  /** When the packet being pushed was read (ms, the caller's monotonic clock); NaN when not given. */
  private arrivalMs = NaN;

  constructor(
    private readonly sink: PcmSink,
    options: ReceiveBufferOptions = {},
  ) {
    this.maxMisorder = Math.max(0, options.maxMisorder ?? 3);
    this.maxPayload = options.maxPayloadBytes ?? 480;
    this.maxGapSamples = ((options.maxGapMs ?? 60_000) * SAMPLE_RATE) / 1000;
    this.cnPayloadType = options.comfortNoisePayloadType ?? 13;
    const types = options.audioPayloadTypes ?? { 0: 'PCMU', 8: 'PCMA' };
    for (const [pt, law] of Object.entries(types)) this.laws[Number(pt) & 0x7f] = law === 'PCMU' ? ULAW : ALAW;
    let capacity = 1;
    while (capacity < this.maxMisorder + 1) capacity <<= 1;
    this.mask = capacity - 1;
    this.slotSeq = new Int32Array(capacity).fill(-1);
    this.slotTs = new Float64Array(capacity);
    this.slotPt = new Uint8Array(capacity);
    this.slotLength = new Int32Array(capacity);
    this.slotData = new Uint8Array(capacity * this.maxPayload);
    this.probationData = new Uint8Array(this.maxPayload);
  }

  /**
   * Takes one parsed RTP packet of this stream (`buf` is the buffer `view` was parsed from), read at
   * `arrivalMs` (monotonic ms, e.g. performance.now(); without it the packet teaches the clock nothing).
   */
  push(view: RtpPacketView, buf: Uint8Array, arrivalMs: number = NaN): void {
    this.stats.received++;
    this.arrivalMs = arrivalMs;
    const seq = view.sequenceNumber;
    if (!this.started) {
      this.started = true;
      this.ssrc = view.ssrc;
      this.nextSeq = seq;
      this.placeNewStream(view.payloadLength);
      this.nextTs = view.timestamp;
    } else if (view.ssrc !== this.ssrc) {
      if (view.ssrc === this.previousSsrc) {
        this.stats.staleSsrc++;
        return;
      }
      // A new synchronization source is a new stream: its timestamps have a random origin (RFC 3550 §5.1),
      // so nothing can be filled between the two; the new stream continues the output where the old ended.
      this.flush();
      this.previousSsrc = this.ssrc;
      this.ssrc = view.ssrc;
      this.placeNewStream(view.payloadLength);
      this.restartAt(seq, view.timestamp);
    }

    const delta = seqDelta(seq, this.nextSeq);
    if (delta < -MAX_MISORDER || delta >= MAX_DROPOUT) {
      this.probation(view, buf);
      return;
    }
    this.probationSeq = NO_PROBATION;
    if (delta < 0) {
      this.stats.late++;
      return;
    }
    if (this.laws[view.payloadType & 0x7f] !== NO_LAW && !Number.isNaN(arrivalMs)) {
      const end = tsDelta(tsAdd(view.timestamp, view.payloadLength), this.nextTs);
      // A packet this far off is a jump the output will restart on (placeNewOrigin), not a clock reading.
      if (end <= this.maxGapSamples && end >= -this.maxGapSamples) this.clock.observe(this.extNext + end, arrivalMs);
    }
    this.accept(seq, view.timestamp, view.payloadType, buf, view.payloadOffset, view.payloadLength);
  }

  /**
   * Outputs every held packet (declaring the missing ones lost), then `samples` of silence, and moves the
   * timeline on by as much: for time in which no packet arrived. Later packets that fall in the padded span
   * are trimmed to what is still ahead.
   */
  padSilence(samples: number): void {
    this.flush();
    if (samples <= 0) return;
    this.emitSilence(samples);
    this.stats.paddedSamples += samples;
    this.advance(samples);
  }

  /**
   * padSilence() up to where the caller's clock stands at `nowMs` (SenderClock): for a silence in which the
   * caller sends nothing, however irregular the calls. Does nothing while the clock is unknown, or when the
   * timeline is there already. Pass a moment far enough back for packets still on their way to be in time.
   */
  padTo(nowMs: number): void {
    const missing = Math.floor(this.clock.at(nowMs) - this.extNext);
    if (missing > 0) this.padSilence(missing);
  }

  /**
   * Continues the timeline from the caller's `nowMs` (a recording starts: issue 9 items 11 and 12). Held packets
   * are output first; the caller's time from the end of the output to `nowMs` is skipped, not output (a
   * silence-suppressed gap before the beep, or packets for before the beep still in the network or unread):
   * later packets for it are trimmed as late. With nothing known of the caller's clock (no packet yet), `nowMs`
   * becomes the end of the output: the first packet will be placed by when it arrives.
   */
  startAt(nowMs: number): void {
    this.flush();
    const at = this.clock.at(nowMs);
    if (Number.isNaN(at)) {
      this.clock.anchor(this.extNext, nowMs);
      return;
    }
    const skip = Math.floor(at - this.extNext);
    if (skip <= 0 || skip > this.maxGapSamples) return;
    this.stats.skippedSamples += skip;
    this.nextTs = tsAdd(this.nextTs, skip);
    this.extNext += skip;
  }

  /** Outputs every held packet, declaring the missing ones before them lost (end of a recording). */
  flush(): void {
    // Held packets are always within maxMisorder of nextSeq, so this ends within one pass over the slots;
    // the bound only guards the packet path against a broken invariant turning into an endless loop.
    for (let i = 0; this.held > 0 && i <= this.mask; i++) this.releaseOrLose();
    if (this.held > 0) {
      this.slotSeq.fill(-1);
      this.held = 0;
    }
  }

  private accept(seq: number, ts: number, pt: number, buf: Uint8Array, offset: number, length: number): void {
    // Give up on missing packets that more than maxMisorder later packets have overtaken.
    while (seqDelta(seq, this.nextSeq) > this.maxMisorder) {
      if (this.held === 0) {
        const skip = seqDelta(seq, this.nextSeq) - this.maxMisorder;
        this.stats.lost += skip;
        this.nextSeq = (this.nextSeq + skip) & 0xffff;
        break;
      }
      this.releaseOrLose();
    }
    if (seq === this.nextSeq) {
      this.output(ts, pt, buf, offset, length);
      this.nextSeq = (this.nextSeq + 1) & 0xffff;
    } else {
      const slot = seq & this.mask;
      if (this.slotSeq[slot] === seq) {
        this.stats.duplicates++;
        return;
      }
      if (length > this.maxPayload) {
        this.stats.oversize++;
        return;
      }
      this.slotSeq[slot] = seq;
      this.slotTs[slot] = ts;
      this.slotPt[slot] = pt;
      this.slotLength[slot] = length;
      copyBytes(buf, offset, length, this.slotData, slot * this.maxPayload);
      this.held++;
    }
    this.drain();
  }

  /** Outputs held packets while the next expected one is among them. */
  private drain(): void {
    while (this.held > 0) {
      const slot = this.nextSeq & this.mask;
      if (this.slotSeq[slot] !== this.nextSeq) return;
      this.releaseSlot(slot);
      this.nextSeq = (this.nextSeq + 1) & 0xffff;
    }
  }

  /** Outputs the held packet for nextSeq, or counts it lost; advances nextSeq. */
  private releaseOrLose(): void {
    const slot = this.nextSeq & this.mask;
    if (this.slotSeq[slot] === this.nextSeq) this.releaseSlot(slot);
    else this.stats.lost++;
    this.nextSeq = (this.nextSeq + 1) & 0xffff;
  }

  private releaseSlot(slot: number): void {
    this.slotSeq[slot] = -1;
    this.held--;
    this.output(this.slotTs[slot]!, this.slotPt[slot]!, this.slotData, slot * this.maxPayload, this.slotLength[slot]!);
  }

  /** Places one in-order packet on the timeline. */
  private output(ts: number, pt: number, data: Uint8Array, offset: number, length: number): void {
    const law = this.laws[pt & 0x7f]!;
    if (law === NO_LAW) {
      // RFC 3389 §4: comfort noise is sent at the start of a silence period; the silence itself is
      // filled when the next audio packet shows, by its timestamp, how long it lasted. We record it as
      // digital silence rather than synthesizing noise at the CN level.
      if (pt === this.cnPayloadType) this.stats.comfortNoise++;
      else this.stats.nonAudio++;
      return;
    }
    const end = tsAdd(ts, length);
    let gap = tsDelta(ts, this.nextTs);
    if (gap > this.maxGapSamples || gap < -this.maxGapSamples) {
      // A jump this large is a sender that reset its clock, not a pause: start the timeline again here.
      this.stats.discontinuities++;
      this.placeNewStream(length);
      this.nextTs = ts;
      gap = 0;
    }
    if (gap > 0) {
      this.emitSilence(gap);
      this.stats.filledSamples += gap;
    } else if (gap < 0) {
      // Overlaps what was already output (after padSilence, or a sender that rewinds): keep only the rest.
      const trim = Math.min(-gap, length);
      this.stats.trimmedSamples += trim;
      offset += trim;
      length -= trim;
    }
    const table = law === ULAW ? this.ulaw : this.alaw;
    while (length > 0) {
      const count = length < CHUNK ? length : CHUNK;
      decodeG711(table, data, offset, count, this.pcm, 0);
      this.stats.samplesOut += count;
      this.sink(this.pcm, count);
      offset += count;
      length -= count;
    }
    const ahead = tsDelta(end, this.nextTs);
    if (ahead > 0) this.advance(ahead);
  }

  /** Moves the timeline on by `samples` (output, filled or padded). */
  private advance(samples: number): void {
    this.nextTs = tsAdd(this.nextTs, samples);
    this.extNext += samples;
  }

  /**
   * Before a packet (of `length` samples, read now) that has no timestamp relation to the output so far (first
   * packet, new SSRC, clock jump): when the caller's clock is known, outputs the silence between the output's
   * end and where the clock says the packet began (a caller who said nothing meanwhile); otherwise the packet
   * follows the output directly (RFC 3550 §5.1: a new source's timestamps have a random origin).
   */
  private placeNewStream(length: number): void {
    // In whole packets: a sender that stopped skipped whole packets; a remainder is this packet's delay.
    const packet = length > 0 ? length : FRAME_SAMPLES;
    const gap = Math.floor((this.clock.at(this.arrivalMs) - length - this.extNext) / packet) * packet;
    if (!(gap > 0 && gap <= this.maxGapSamples)) return;
    this.emitSilence(gap);
    this.stats.placedSilence += gap;
    this.extNext += gap;
  }

  private emitSilence(samples: number): void {
    this.stats.samplesOut += samples;
    while (samples > 0) {
      const count = samples < CHUNK ? samples : CHUNK;
      this.sink(this.zeros, count);
      samples -= count;
    }
  }

  /**
   * RFC 3550 §A.1: a packet far from the expected sequence starts probation; if the next packet follows it,
   * the source restarted its sequence: resynchronize on the pair. Otherwise it was a stray and is dropped.
   */
  private probation(view: RtpPacketView, buf: Uint8Array): void {
    const seq = view.sequenceNumber;
    if (this.probationSeq !== NO_PROBATION && seq === ((this.probationSeq + 1) & 0xffff)) {
      this.flush();
      this.stats.restarts++;
      this.nextSeq = this.probationSeq;
      this.probationSeq = NO_PROBATION;
      this.accept(this.nextSeq, this.probationTs, this.probationPt, this.probationData, 0, this.probationLength);
      this.accept(seq, view.timestamp, view.payloadType, buf, view.payloadOffset, view.payloadLength);
      return;
    }
    const length = Math.min(view.payloadLength, this.maxPayload);
    this.probationSeq = seq;
    this.probationTs = view.timestamp;
    this.probationPt = view.payloadType;
    this.probationLength = length;
    copyBytes(buf, view.payloadOffset, length, this.probationData, 0);
  }

  private restartAt(seq: number, ts: number): void {
    this.stats.restarts++;
    this.nextSeq = seq;
    this.nextTs = ts;
    this.probationSeq = NO_PROBATION;
    this.slotSeq.fill(-1);
    this.held = 0;
  }
}

/** Copies without creating a subarray view (no allocation on the packet path). */
function copyBytes(src: Uint8Array, srcOffset: number, length: number, dst: Uint8Array, dstOffset: number): void {
  for (let i = 0; i < length; i++) dst[dstOffset + i] = src[srcOffset + i]!;
}
