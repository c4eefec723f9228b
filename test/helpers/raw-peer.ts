/**
 * A bare UDP or TCP SIP peer for tests that need exact bytes or exact timing (malformed input, retransmission
 * intervals). It records every message it receives with its arrival time.
 */
import { createSocket, type Socket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';

/**
 * The RTP port the default SDP of invite() names: a UDP socket this process holds (bound on port 0, so the
 * kernel gives a port nobody else has), which drops what the server sends there. A fixed port (it was 40000)
 * could be another test's socket, which would then receive this test's RTP (and this server its RTCP); while
 * this socket is bound nobody else can bind the port. unref'd: it never keeps a test process alive.
 */
const mediaSink: Socket = await new Promise<Socket>((resolve, reject) => {
  const socket = createSocket('udp4');
  socket.once('error', reject);
  socket.on('message', () => {}); // dropped: the tests that use the default SDP do not look at media
  socket.bind(0, '127.0.0.1', () => {
    socket.unref();
    resolve(socket);
  });
});

/** The port of the default SDP's m=audio line (held by this process for its lifetime). */
export const DEFAULT_SDP_RTP_PORT: number = mediaSink.address().port;

export interface Received {
  at: number;
  text: string;
}

export class RawUdpPeer {
  readonly received: Received[] = [];
  private readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('message', (data) => this.received.push({ at: performance.now(), text: data.toString('latin1') }));
  }

  static async open(address = '127.0.0.1', port = 0): Promise<RawUdpPeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (err) => reject(new Error(`cannot bind the test peer to ${address}:${port}: ${err.message}`)));
      socket.bind(port, address, () => resolve());
    });
    return new RawUdpPeer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(port: number, data: string | Buffer, host = '127.0.0.1'): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, port, host, (err) => (err ? reject(err) : resolve())));
  }

  /** Waits for a received message matching `test`, starting from index `from`. */
  async waitFor(test: (text: string) => boolean, timeoutMs = 3000, from = 0): Promise<Received> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.received.slice(from).find((r) => test(r.text));
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`no matching message within ${timeoutMs} ms; got:\n${this.received.map((r) => r.text.split('\r\n')[0]).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  close(): void {
    this.socket.close();
  }
}

export class RawTcpPeer {
  readonly received: Received[] = [];
  private buffer = '';
  closed = false;

  private constructor(private readonly socket: TcpSocket) {
    socket.on('data', (d) => {
      this.buffer += d.toString('latin1');
      this.received.push({ at: performance.now(), text: d.toString('latin1') });
    });
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => (this.closed = true));
  }

  /** Connects to the server's `port` on 127.0.0.1, from `localAddress` (another loopback address plays a stranger). */
  static open(port: number, localAddress?: string): Promise<RawTcpPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1', localAddress });
      socket.once('connect', () => resolve(new RawTcpPeer(socket)));
      socket.once('error', reject);
    });
  }

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  /** Everything received so far, as one string. */
  get text(): string {
    return this.buffer;
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A minimal INVITE with SDP from a raw peer. */
/**
 * The NOTIFYs that reach `port` within `ms` after the PBX that listened there has gone: a NOTIFY sent a second
 * time would be retransmitted there (RFC 3261 Timer E), so an empty list means "sent exactly once".
 */
export async function notifiesArrivingAt(port: number, ms = 1500): Promise<string[]> {
  const late = await RawUdpPeer.open('127.0.0.1', port);
  try {
    await new Promise((r) => setTimeout(r, ms));
    return late.received.filter((r) => r.text.startsWith('NOTIFY ')).map((r) => r.text);
  } finally {
    late.close();
  }
}

export function invite(opts: { port: number; transport?: string; callId: string; service?: string; branch?: string; sdp?: string; extra?: string }): string {
  const sdp =
    opts.sdp ??
    ['v=0', 'o=raw 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${DEFAULT_SDP_RTP_PORT} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');
  const transport = opts.transport ?? 'UDP';
  return [
    `INVITE sip:${opts.service ?? '8000'}@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/${transport} 127.0.0.1:${opts.port};branch=${opts.branch ?? 'z9hG4bK' + opts.callId};rport`,
    `From: <sip:27000@127.0.0.1>;tag=from-${opts.callId}`,
    `To: <sip:${opts.service ?? '8000'}@127.0.0.1>`,
    `Call-ID: ${opts.callId}`,
    'CSeq: 1 INVITE',
    `Contact: <sip:27000@127.0.0.1:${opts.port};transport=${transport.toLowerCase()}>`,
    'Max-Forwards: 70',
    ...(opts.extra ? [opts.extra] : []),
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(sdp)}`,
    '',
    sdp,
  ].join('\r\n');
}

/** The 200 OK a UA sends for a request it received (copying the dialog headers). */
export function okFor(request: string): string {
  const lines = request.split('\r\n');
  const pick = (name: string): string[] => lines.filter((l) => l.toLowerCase().startsWith(name.toLowerCase() + ':'));
  return ['SIP/2.0 200 OK', ...pick('Via'), ...pick('From'), ...pick('To'), ...pick('Call-ID'), ...pick('CSeq'), 'Content-Length: 0', '', ''].join('\r\n');
}

/** An OPTIONS from a raw peer at host:port (its Via names it, with rport). */
export function options(opts: { port: number; callId: string; host?: string; transport?: string; service?: string }): string {
  const host = opts.host ?? '127.0.0.1';
  const service = opts.service ?? '8000';
  return [
    `OPTIONS sip:${service}@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/${opts.transport ?? 'UDP'} ${host}:${opts.port};branch=z9hG4bK${opts.callId};rport`,
    `From: <sip:pbx@${host}>;tag=t${opts.callId}`,
    `To: <sip:${service}@127.0.0.1>`,
    `Call-ID: ${opts.callId}`,
    'CSeq: 1 OPTIONS',
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/**
 * A body-less request (ACK, BYE, ...) in the dialog that `ok`, the 2xx to an invite() with this callId, set up:
 * sent to its Contact, with its To tag.
 */
export function inDialog(ok: string, opts: { method: string; cseq: number; port: number; callId: string }): string {
  const to = /^To: *(.*)\r$/im.exec(ok)?.[1] ?? '';
  const target = /^Contact: *<([^>]*)>/im.exec(ok)?.[1] ?? '';
  return [
    `${opts.method} ${target} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${opts.port};branch=z9hG4bK${opts.callId}-${opts.method}-${opts.cseq};rport`,
    `From: <sip:27000@127.0.0.1>;tag=from-${opts.callId}`,
    `To: ${to}`,
    `Call-ID: ${opts.callId}`,
    `CSeq: ${opts.cseq} ${opts.method}`,
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** A SUBSCRIBE for a mailbox's message-summary (RFC 3842) from a raw peer at host:port, to `target` (host:port). */
export function subscribeMwi(opts: { mailbox: string; target: string; host: string; port: number; callId: string; expires?: number }): string {
  return [
    `SUBSCRIBE sip:${opts.mailbox}@${opts.target} SIP/2.0`,
    `Via: SIP/2.0/UDP ${opts.host}:${opts.port};branch=z9hG4bK${opts.callId};rport`,
    `From: <sip:${opts.mailbox}@${opts.host}>;tag=${opts.callId}`,
    `To: <sip:${opts.mailbox}@${opts.target}>`,
    `Call-ID: ${opts.callId}`,
    'CSeq: 1 SUBSCRIBE',
    `Contact: <sip:${opts.mailbox}@${opts.host}:${opts.port}>`,
    'Event: message-summary',
    'Accept: application/simple-message-summary',
    `Expires: ${opts.expires ?? 600}`,
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}
