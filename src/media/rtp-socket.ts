/**
 * One call's RTP socket, as the media session uses it: datagrams in (to one handler), packets out to the peer,
 * and a hint to connect to the latched source. Two implementations: Node's dgram (dgram-rtp-socket.ts, any
 * platform) and vmpilot's native batch I/O (native-rtp-io.ts, Linux, when built): `rtp.io` chooses.
 *
 * A handler must use the datagram's bytes before it returns (the native path reuses them for the next batch):
 * everything under the session copies what it keeps (receive-buffer.ts, relay.ts, the DTMF decoder).
 */

export interface RtpSource {
  readonly address: string;
  readonly port: number;
}

export type DatagramHandler = (msg: Buffer, source: RtpSource) => void;

export interface RtpSocket {
  /** The bound local port. */
  readonly port: number;
  /** Which implementation carries it (for logs and stats). */
  readonly kind: 'native' | 'dgram';
  /** Packets sent over the connected socket / with an address / dropped (a dgram connect in progress). */
  readonly sentConnected: number;
  readonly sentUnconnected: number;
  readonly dropped: number;
  /** Where received datagrams go (undefined: dropped). */
  setHandler(handler: DatagramHandler | undefined): void;
  /** Sends `length` bytes of `buf` to port/address (over the connection when it is to that peer). */
  send(buf: Buffer, length: number, port: number, address: string): void;
  /** Connect to the latched source: cheap when it already is (callable every tick). */
  connect(address: string, port: number): void;
  /** Back to hearing every source. Cheap when already so. */
  disconnect(): void;
  close(): void;
}

/** `rtp.io`: which RTP socket implementation to use. */
export type RtpIoChoice = 'auto' | 'native' | 'dgram';
