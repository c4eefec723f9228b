/**
 * Connects two calls' media inside vmpilot (supervised transfer): what one leg receives is what the other
 * leg sends. Nothing is decoded: G.711 payloads are forwarded as they are, or mapped byte for byte between
 * PCMU and PCMA with the g711 tables when the legs negotiated different laws.
 *
 * Why relay rather than re-INVITE: re-INVITEing the PBX's two legs so that their media meet directly is
 * fragile. PBXs that anchor media (most trunk configurations) either refuse the new offer or keep anchoring
 * anyway; an answer may pick another law on one leg, leaving the two ends unable to talk; and with SDES-SRTP
 * every leg has its own keys (RFC 4568 §6.1: each side sends with its own key), so a re-INVITE must re-key
 * both ends at once or audio is lost. Relaying keeps each leg exactly as it was negotiated, SRTP included
 * (the session decrypts on the way in and encrypts with the other leg's keys on the way out), at the cost of
 * vmpilot staying in the media path for the rest of the call.
 *
 * Each leg keeps its own stream: the frames become the source of that leg's RtpSender (MediaSession
 * .setRelaySource), so its SSRC, sequence numbers and timestamps continue from the ringback played before
 * (RFC 3550 §5.1), ticked by the shared media clock like any prompt. Between the two, one small FIFO per
 * direction, with no jitter buffering: a packet's payload goes in when it arrives, one 20 ms frame comes out
 * per tick. Underrun → a frame of silence; more than `maxFrames` waiting → the oldest are dropped, so the
 * delay a relay adds stays under maxFrames × 20 ms whatever the two clocks do.
 *
 * Not here: RFC 4733 key events (not forwarded; in-band tones pass as audio), comfort noise (PT 13 packets
 * are not forwarded: the FIFO underruns and sends silence), packet-loss concealment, mixing a third party.
 * Per packet: no allocation (a preallocated ring per direction).
 */
import { ALAW_TO_ULAW, ULAW_TO_ALAW, type G711Law } from './g711.js';
import { toneFrames } from './tone.js';
import { G711_FRAME_BYTES } from './rtp-packet.js';
import type { RtpFrameSource } from './rtp-sender.js';

/** What the relay needs from each leg's media (MediaSession implements it). */
export interface RelayEndpoint {
  /** Set by the relay: every received audio payload of this leg. */
  onAudioPayload: ((buf: Buffer, offset: number, length: number, law: G711Law) => void) | undefined;
  /** The law this leg sends now. */
  readonly sendCodec: G711Law;
  /** Set by the relay: where this leg's outbound frames come from (undefined: its player again). */
  setRelaySource(source: RtpFrameSource | undefined): void;
}

export interface FrameFifoStats {
  /** Payload bytes accepted. */
  bytesIn: number;
  /** Frames handed out with audio. */
  framesOut: number;
  /** Ticks with less than a frame waiting (silence sent instead). */
  underruns: number;
  /** Bytes thrown away because more than maxFrames were waiting. */
  droppedBytes: number;
}

/**
 * One direction: payload bytes in (any packet size), 160-byte frames out, in the output law. Before the first
 * frame is complete, pull() gives undefined (the sender then idles); after that, silence on underrun so the
 * stream stays one talkspurt.
 */
export class FrameFifo {
  readonly stats: FrameFifoStats = { bytesIn: 0, framesOut: 0, underruns: 0, droppedBytes: 0 };
  private readonly ring: Uint8Array;
  private readonly out = new Uint8Array(G711_FRAME_BYTES);
  private read = 0;
  private fill = 0;
  private started = false;

  /** `maxFrames`: frames that may wait before the oldest are dropped (default 3, 60 ms). */
  constructor(private readonly maxFrames = 3) {
    if (!Number.isInteger(maxFrames) || maxFrames < 1) throw new TypeError(`maxFrames must be >= 1, got ${maxFrames}`);
    this.ring = new Uint8Array(maxFrames * G711_FRAME_BYTES);
  }

  /** Bytes waiting. */
  get size(): number {
    return this.fill;
  }

  /** Appends `length` payload bytes of `inLaw` from buf[offset..], converted to `outLaw`. Never throws. */
  push(buf: Uint8Array, offset: number, length: number, inLaw: G711Law, outLaw: G711Law): void {
    const cap = this.ring.length;
    if (length > cap) {
      // A packet longer than the whole FIFO (ptime above maxFrames × 20 ms): keep its newest part.
      this.stats.droppedBytes += length - cap;
      offset += length - cap;
      length = cap;
    }
    const overflow = this.fill + length - cap;
    if (overflow > 0) {
      this.read = (this.read + overflow) % cap;
      this.fill -= overflow;
      this.stats.droppedBytes += overflow;
    }
    const table = inLaw === outLaw ? undefined : inLaw === 'PCMU' ? ULAW_TO_ALAW : ALAW_TO_ULAW;
    let write = (this.read + this.fill) % cap;
    for (let i = 0; i < length; i++) {
      const byte = buf[offset + i]!;
      this.ring[write] = table === undefined ? byte : table[byte]!;
      write = write + 1 === cap ? 0 : write + 1;
    }
    this.fill += length;
    this.stats.bytesIn += length;
  }

  /** The next 20 ms frame in `law` (silence on underrun once started; undefined before). Reused buffer. */
  pull(law: G711Law): Uint8Array | undefined {
    if (this.fill < G711_FRAME_BYTES) {
      if (!this.started) return undefined;
      this.stats.underruns++;
      return toneFrames(law).silence;
    }
    this.started = true;
    const cap = this.ring.length;
    let read = this.read;
    for (let i = 0; i < G711_FRAME_BYTES; i++) {
      this.out[i] = this.ring[read]!;
      read = read + 1 === cap ? 0 : read + 1;
    }
    this.read = read;
    this.fill -= G711_FRAME_BYTES;
    this.stats.framesOut++;
    return this.out;
  }
}

export class MediaRelay {
  /** a → b and b → a. */
  readonly forward = new FrameFifo();
  readonly backward = new FrameFifo();
  private running = false;

  constructor(
    private readonly a: RelayEndpoint,
    private readonly b: RelayEndpoint,
  ) {}

  /** Starts forwarding both ways (each leg's player stops being heard). */
  start(): void {
    if (this.running) return;
    this.running = true;
    const { a, b, forward, backward } = this;
    a.onAudioPayload = (buf, offset, length, law) => forward.push(buf, offset, length, law, b.sendCodec);
    b.onAudioPayload = (buf, offset, length, law) => backward.push(buf, offset, length, law, a.sendCodec);
    b.setRelaySource(() => forward.pull(b.sendCodec));
    a.setRelaySource(() => backward.pull(a.sendCodec));
  }

  /** Stops forwarding; each leg's player is heard again. Idempotent. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.a.onAudioPayload = undefined;
    this.b.onAudioPayload = undefined;
    this.a.setRelaySource(undefined);
    this.b.setRelaySource(undefined);
  }

  stats(): { forward: FrameFifoStats; backward: FrameFifoStats } {
    return { forward: { ...this.forward.stats }, backward: { ...this.backward.stats } };
  }
}
