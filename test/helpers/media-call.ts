/**
 * Pieces media tests share when they stand in for a PBX's media side with an RTP probe: the SDP offer a
 * phone would send, the RTP port read back from vmpilot's answer, a promise settled from a scripted app,
 * and G.711 test audio.
 *
 * Not here: SIP (sip-client.ts), the probe itself (rtp-probe.ts), analysing recordings (audio-analysis.ts).
 */
import { linearToUlaw } from '../../src/media/g711.js';
import type { SipResponse } from './sip-client.js';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

/** A promise and the function that settles it (an app resolves it with what the test checks). */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export interface AudioOfferOptions {
  /** The m= port. Required. */
  port: number;
  /** The c= address (IPv4). Default 127.0.0.1. */
  address?: string;
  /** Default RTP/AVP. */
  profile?: string;
  /** a=crypto values (RFC 4568). */
  crypto?: string[];
  /** Default sendrecv. */
  direction?: string;
  /** Offer telephone-event as PT 101. */
  dtmf?: boolean;
  /** o= version. Default 1. */
  version?: number;
}

/** An SDP offer for one PCMU audio stream. */
export function audioOffer(o: AudioOfferOptions): string {
  const formats = o.dtmf ? '0 101' : '0';
  const address = o.address ?? '127.0.0.1';
  return [
    'v=0',
    `o=probe 4711 ${o.version ?? 1} IN IP4 ${address}`,
    's=-',
    `c=IN IP4 ${address}`,
    't=0 0',
    `m=audio ${o.port} ${o.profile ?? 'RTP/AVP'} ${formats}`,
    'a=rtpmap:0 PCMU/8000',
    ...(o.dtmf ? ['a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16'] : []),
    ...(o.crypto ?? []).map((c) => `a=crypto:${c}`),
    'a=ptime:20',
    `a=${o.direction ?? 'sendrecv'}`,
    '',
  ].join('\r\n');
}

/** The RTP port of the server's answer. */
export function answerPort(response: SipResponse): number {
  const m = /^m=audio (\d+) /m.exec(response.body);
  if (!m) throw new Error(`no m=audio in:\n${response.text}`);
  return Number(m[1]);
}

/** A loud sine tone (16000 peak), u-law, `frames` 20 ms frames. */
export function toneUlaw(hz: number, frames: number): Uint8Array {
  const out = new Uint8Array(frames * 160);
  for (let i = 0; i < out.length; i++) out[i] = linearToUlaw(Math.round(16000 * Math.sin((2 * Math.PI * hz * i) / 8000)));
  return out;
}
