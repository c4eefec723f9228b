/**
 * One call's keypad digits from its three possible sources — RFC 4733 telephone-events, SIP INFO bodies and
 * in-band G.711 tones — turned into one stream of key presses, each reported once.
 *
 * Which sources count is per-PBX policy (config `pbx[].dtmf`). In-band detection set to 'auto' runs only when
 * the call negotiated no telephone-event: a PBX that sends RFC 4733 usually also leaves (or half-mutes) the
 * tone in the audio, and counting both would double every key.
 *
 * Cross-source de-duplication: some PBXs send the same press as an RFC 4733 event AND an INFO (Cisco "dtmf
 * relay both", some Avaya trunks). A key from one source that repeats the last key reported from ANOTHER
 * source within `crossSourceWindowMs` is taken as the same press. Keys from the same source are never merged:
 * each source already reports one key per press (the RFC 4733 decoder merges an event's packets, the
 * Goertzel detector needs a release between presses), and a quick "1 1" must stay two presses.
 */
import type { DtmfKey } from './dtmf/rfc4733.js';

export type DigitSource = 'rfc4733' | 'info' | 'inband';

/** Per-PBX choice of digit sources (config `pbx[].dtmf`). */
export interface DtmfPolicy {
  rfc4733: boolean;
  info: boolean;
  /** true: always; false: never; 'auto': only when no telephone-event was negotiated. */
  inband: boolean | 'auto';
}

export const DEFAULT_DTMF_POLICY: Readonly<DtmfPolicy> = Object.freeze({ rfc4733: true, info: true, inband: 'auto' });

/**
 * A key press: `startSample` is where its tone began on the call's received-audio timeline (samples decoded
 * from RTP since the call started), when the source knows it; the recorder cuts a terminating key there.
 */
export type DigitListener = (key: DtmfKey, source: DigitSource, startSample: number | undefined) => void;

export class DigitRouter {
  /** Keys dropped as another source's copy of a press already reported. */
  duplicates = 0;
  /** Keys from a source the policy turns off. */
  ignored = 0;
  private lastKey: DtmfKey | undefined = undefined;
  private lastSource: DigitSource | undefined = undefined;
  private lastAtMs = -Infinity;
  private telephoneEventNegotiated = false;

  constructor(
    private readonly policy: DtmfPolicy,
    private readonly listener: DigitListener,
    private readonly crossSourceWindowMs = 300,
  ) {}

  /** Whether the in-band detector should be fed audio now. */
  get inbandActive(): boolean {
    return this.policy.inband === true || (this.policy.inband === 'auto' && !this.telephoneEventNegotiated);
  }

  /** After each offer/answer: whether the two sides agreed on telephone-event. */
  setTelephoneEventNegotiated(negotiated: boolean): void {
    this.telephoneEventNegotiated = negotiated;
  }

  /** A key from one source; `nowMs` is monotonic. */
  key(key: DtmfKey, source: DigitSource, nowMs: number, startSample?: number): void {
    if (!this.enabled(source)) {
      this.ignored++;
      return;
    }
    if (key === this.lastKey && source !== this.lastSource && nowMs - this.lastAtMs < this.crossSourceWindowMs) {
      this.duplicates++;
      return;
    }
    this.lastKey = key;
    this.lastSource = source;
    this.lastAtMs = nowMs;
    this.listener(key, source, startSample);
  }

  private enabled(source: DigitSource): boolean {
    if (source === 'inband') return this.inbandActive;
    return this.policy[source];
  }
}
