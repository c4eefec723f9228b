/**
 * One call's RTCP socket (RFC 3550 §6): counts what the peer reports (receive reports about our stream,
 * its sender reports, BYE) for metrics and logs, and sends our sender report + CNAME every 5 s
 * (RTCP_REPORT_INTERVAL_MS, §6.2's minimum; a two-party call's bandwidth share would allow less, but 5 s is
 * what PBXs and phones expect) and a BYE when the call ends. SRTCP (RFC 3711 §3.4) when the call is keyed.
 *
 * Reports go where the peer's RTCP comes from once it has sent some (symmetric RTCP, RFC 4961), else to
 * the address and port its SDP names (a=rtcp or RTP port + 1). Only a legitimate source (the same rule as
 * for RTP, rtp-receiver.ts) is heard or learnt: a stranger cannot redirect our reports.
 *
 * Not here: a report block about the peer's stream (loss/jitter we measure) — FIXME: needs the extended
 * sequence bookkeeping of §A.3 from the receive buffer.
 */
import type { Socket } from 'node:dgram';
import {
  RTCP_REPORT_INTERVAL_MS, RTCP_REPORT_MAX_BYTES, RtcpReceiveStats, parseRtcpCompound, writeReceiverReport,
  writeSenderReport,
} from './rtcp.js';
import type { RtpSender } from './rtp-sender.js';
import { SrtpKeys } from './srtp-keys.js';

export class RtcpEndpoint {
  readonly stats = new RtcpReceiveStats();
  /** Reports we sent. */
  sent = 0;
  /** SRTCP packets that failed authentication. */
  srtcpRejected = 0;
  private readonly buf = Buffer.alloc(RTCP_REPORT_MAX_BYTES + SrtpKeys.MAX_TRAILER);
  private address: string | undefined = undefined;
  private port = 0;
  private learned = false;
  private nextReportAtMs = 0;
  private ourSsrc = 0;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly cname: string,
    private readonly srtp: SrtpKeys,
    /** Whether a datagram from this address may be the peer's (RtpReceiver.isLegitimate). */
    private readonly isLegitimate: (address: string) => boolean,
  ) {
    socket.on('message', this.onMessage);
  }

  /** The peer's RTCP address from SDP (kept if we already learnt where its RTCP really comes from). */
  setRemote(address: string, port: number): void {
    if (this.learned) return;
    const usable = port > 0 && address !== '0.0.0.0' && address !== '::';
    this.address = usable ? address : undefined;
    this.port = port;
  }

  /** A datagram on the RTCP port, or one multiplexed on the RTP port (`from` undefined then). */
  receive(msg: Buffer, length: number, from: { address: string; port: number } | undefined): void {
    const inbound = this.srtp.inbound;
    if (inbound !== undefined) {
      length = inbound.unprotectRtcp(msg, length);
      if (length < 0) {
        this.srtcpRejected++;
        return;
      }
    }
    if (parseRtcpCompound(msg, length, this.stats, this.ourSsrc) && from !== undefined) {
      this.address = from.address;
      this.port = from.port;
      this.learned = true;
    }
  }

  /** From the media tick: sends a report when one is due. */
  tick(nowMs: number, sender: RtpSender): void {
    this.ourSsrc = sender.ssrc;
    if (nowMs < this.nextReportAtMs) return;
    const first = this.nextReportAtMs === 0;
    // RFC 3550 §6.2: randomise the interval (0.5 to 1.5 times) so that calls started together do not report
    // in step. The first tick only schedules: the first report goes out after one interval.
    this.nextReportAtMs = nowMs + RTCP_REPORT_INTERVAL_MS * (0.5 + Math.random());
    if (!first) this.send(sender, false);
  }

  /** Sends BYE (with a last report) and stops listening. */
  close(sender?: RtpSender): void {
    if (this.closed) return;
    this.closed = true;
    if (sender) this.send(sender, true);
    this.socket.off('message', this.onMessage);
  }

  private readonly onMessage = (msg: Buffer, rinfo: { address: string; port: number }): void => {
    if (!this.isLegitimate(rinfo.address)) return;
    this.receive(msg, msg.length, rinfo);
  };

  private send(sender: RtpSender, bye: boolean): void {
    if (this.address === undefined) return;
    let length =
      sender.packetsSent > 0
        ? writeSenderReport(this.buf, {
            ssrc: sender.ssrc,
            cname: this.cname,
            ntpTimeMs: Date.now(),
            rtpTimestamp: sender.timestamp,
            packetCount: sender.packetsSent,
            octetCount: sender.octetsSent,
            bye,
          })
        : writeReceiverReport(this.buf, { ssrc: sender.ssrc, cname: this.cname, bye });
    const outbound = this.srtp.outbound;
    if (outbound !== undefined) length = outbound.protectRtcp(this.buf, length);
    if (length <= 0) return;
    this.sent++;
    try {
      this.socket.send(this.buf, 0, length, this.port, this.address);
    } catch {
      // The socket is closing with the call: the BYE is best effort.
    }
  }
}
