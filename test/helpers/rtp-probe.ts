/**
 * An RTP endpoint for tests: a UDP socket on an even port that records every packet it receives with its
 * arrival time, and can send from the same socket (symmetric RTP, as a phone does), so a test can stand in
 * for the PBX's media side and measure what vmpilot sends: pacing, sequence numbers, timestamps, SSRC.
 *
 * Not here: RTCP (packets whose second byte is 200-204 are kept apart in `rtcp`), SRTP, jitter buffers.
 */
import { createSocket, type Socket } from 'node:dgram';
import { RTP_HEADER_LENGTH, RtpPacketView, parseRtp, seqDelta, tsDelta, writeRtpHeader } from '../../src/media/rtp-packet.js';

/** One RTP packet as received. */
export interface ProbedPacket {
  /** process.hrtime.bigint() on arrival, ns. */
  at: bigint;
  payloadType: number;
  marker: boolean;
  seq: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
  from: { address: string; port: number };
}

export interface RtpProbeStats {
  /** RTP packets received. */
  count: number;
  /** Median, 99th percentile (nearest rank) and largest time between consecutive arrivals, ms. */
  p50: number;
  p99: number;
  max: number;
  /** Consecutive packets of one SSRC whose sequence numbers do not step by exactly 1. */
  seqGaps: number;
  /** Consecutive packets of one SSRC whose timestamps do not step by exactly 160 (20 ms at 8 kHz). */
  tsStepsNot160: number;
  /** Distinct SSRCs, in order of first appearance. */
  ssrcs: number[];
  /** Packets with the marker bit set. */
  markers: number;
}

export interface RtpProbe {
  readonly address: string;
  readonly port: number;
  /** RTP packets, in arrival order. */
  readonly packets: ProbedPacket[];
  /** Datagrams that looked like RTCP (second byte 200-204). */
  readonly rtcp: Buffer[];
  /** Datagrams that were neither RTP nor RTCP. */
  readonly junk: Buffer[];
  /** Milliseconds between consecutive RTP arrivals. */
  intervals(): number[];
  stats(): RtpProbeStats;
  /** Resolves when at least `count` RTP packets have arrived; rejects after timeoutMs (default 5000). */
  waitForPackets(count: number, timeoutMs?: number): Promise<void>;
  /** Sends one datagram from the probe's socket. */
  send(buf: Uint8Array, port: number, host?: string): Promise<void>;
  /**
   * Sends G.711 bytes as 20 ms packets of 160 bytes (the last may be shorter), paced on the wall clock.
   * Defaults: pt 0 (PCMU), random SSRC, seq and ts from 0, marker on the first packet.
   */
  sendAudio(payload: Uint8Array, port: number, host?: string, options?: { pt?: number; ssrc?: number; seq?: number; ts?: number }): Promise<void>;
  close(): Promise<void>;
}

export interface RtpFields {
  pt: number;
  seq: number;
  ts: number;
  ssrc: number;
  marker?: boolean;
  payload: Uint8Array;
}

/** A 12-byte RTP header (V=2, no CSRC, no extension) followed by the payload. */
export function buildRtp(fields: RtpFields): Buffer {
  const buf = Buffer.alloc(RTP_HEADER_LENGTH + fields.payload.length);
  writeRtpHeader(buf, fields.pt, fields.marker ?? false, fields.seq, fields.ts, fields.ssrc);
  buf.set(fields.payload, RTP_HEADER_LENGTH);
  return buf;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function bindEven(address: string): Promise<Socket> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => resolve());
    });
    // RFC 3550 §11: "RTP SHOULD use an even destination port number".
    if (socket.address().port % 2 === 0) return socket;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
  throw new Error(`no even UDP port on ${address} after 50 attempts`);
}

/** Binds a probe on `address` (default 127.0.0.1), on an even port the system chooses. */
export async function startRtpProbe(options: { address?: string } = {}): Promise<RtpProbe> {
  const address = options.address ?? '127.0.0.1';
  const socket = await bindEven(address);
  const port = socket.address().port;
  const packets: ProbedPacket[] = [];
  const rtcp: Buffer[] = [];
  const junk: Buffer[] = [];
  const waiters = new Set<() => void>();
  const view = new RtpPacketView();
  socket.on('message', (data, rinfo) => {
    const at = process.hrtime.bigint();
    if (data.length >= 2 && data[1]! >= 200 && data[1]! <= 204) rtcp.push(data);
    else if (!parseRtp(data, view)) junk.push(data);
    else {
      const payload = Buffer.from(data.subarray(view.payloadOffset, view.payloadOffset + view.payloadLength));
      const { payloadType, marker, sequenceNumber: seq, timestamp, ssrc } = view;
      packets.push({ at, payloadType, marker, seq, timestamp, ssrc, payload, from: { address: rinfo.address, port: rinfo.port } });
      for (const wake of waiters) wake();
    }
  });
  const send = (buf: Uint8Array, to: number, host = address): Promise<void> =>
    new Promise((resolve, reject) => socket.send(buf, to, host, (err) => (err ? reject(err) : resolve())));
  const intervals = (): number[] => packets.slice(1).map((p, i) => Number(p.at - packets[i]!.at) / 1e6);
  let closed: Promise<void> | undefined;

  return {
    address,
    port,
    packets,
    rtcp,
    junk,
    intervals,
    stats(): RtpProbeStats {
      const sorted = intervals().sort((a, b) => a - b);
      const ssrcs = [...new Set(packets.map((p) => p.ssrc))];
      let seqGaps = 0;
      let tsStepsNot160 = 0;
      for (const ssrc of ssrcs) {
        const mine = packets.filter((p) => p.ssrc === ssrc);
        for (let i = 1; i < mine.length; i++) {
          if (seqDelta(mine[i]!.seq, mine[i - 1]!.seq) !== 1) seqGaps++;
          if (tsDelta(mine[i]!.timestamp, mine[i - 1]!.timestamp) !== 160) tsStepsNot160++;
        }
      }
      const markers = packets.filter((p) => p.marker).length;
      return { count: packets.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? 0, seqGaps, tsStepsNot160, ssrcs, markers };
    },
    waitForPackets(count: number, timeoutMs = 5000): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (packets.length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`RTP probe on port ${port}: ${packets.length} of ${count} packets after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    send,
    async sendAudio(payload, to, host = address, opts = {}): Promise<void> {
      const ssrc = opts.ssrc ?? Math.floor(Math.random() * 0x1_0000_0000);
      const start = process.hrtime.bigint();
      for (let i = 0, at = 0; at < payload.length; i++, at += 160) {
        const due = start + BigInt(i) * 20_000_000n;
        const waitMs = Number(due - process.hrtime.bigint()) / 1e6;
        if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
        const chunk = payload.subarray(at, at + 160);
        await send(buildRtp({ pt: opts.pt ?? 0, seq: (opts.seq ?? 0) + i, ts: (opts.ts ?? 0) + i * 160, ssrc, marker: i === 0, payload: chunk }), to, host);
      }
    },
    close(): Promise<void> {
      closed ??= new Promise((resolve) => socket.close(() => resolve()));
      return closed;
    },
  };
}
