/**
 * How one call's RTP leaves its dgram socket (dgram-rtp-socket.ts; the native I/O does the same in C,
 * native-rtp-io.ts): with connect() to the peer once the receiver has latched onto it, plain sendto() before that.
 *
 * Why connected: an unconnected dgram send() resolves its address on every packet (a lookup callback and a
 * process.nextTick per send, plus the argument juggling), and the kernel routes it again; a connected socket
 * skips both, and the kernel itself then drops datagrams from anyone but the peer before Node sees them.
 * That last point is also the catch: while connected, no other source is heard, so the session connects only
 * while the latched source is active and disconnects when it falls silent for the re-latch delay or a new
 * offer/answer re-opens latching (rtp-receiver.ts), so that the re-latch rules still see other legitimate
 * sources.
 *
 * Each send passes a Buffer of exactly the packet's length, made once per ring buffer and length (dgram's
 * offset/length form slices a new Buffer per send).
 *
 * dgram's states need care. connect() completes on the next tick (its address lookup), and an unconnected send
 * issued before it completes is handed to libuv after it, with an address, on a now connected socket: libuv
 * refuses it (EISCONN) and the packet is lost without an error. So connect() is only issued from a
 * setImmediate (once per latch, not per packet): by then every send of this turn has left, and the next
 * send comes from a later clock tick, after the connection is made (its lookup and 'connect' event are
 * process.nextTick work that runs right after the immediate). connect() also throws while connecting or
 * connected, and disconnect() unless connected: `want` records the target and sync() moves towards it
 * whenever the socket is in a state that allows it. A connect that fails (an 'error' event) leaves the link
 * sending unconnected, which is correct, only dearer.
 *
 * Not here: SRTP (done before send), which source to trust (rtp-receiver.ts), RTCP (rtcp-endpoint.ts).
 */
import type { Socket } from 'node:dgram';

/** unconnected; scheduled: connect() will be issued from a setImmediate; connecting: issued; connected. */
type LinkState = 'unconnected' | 'scheduled' | 'connecting' | 'connected';

export class RtpLink {
  /** Packets sent on the connected socket / with an address / dropped while a connect was completing. */
  sentConnected = 0;
  sentUnconnected = 0;
  dropped = 0;
  private state: LinkState = 'unconnected';
  /** The peer the socket is connected (or connecting) to. */
  private address: string | undefined = undefined;
  private port = 0;
  /** The peer it should be connected to; undefined: unconnected. */
  private wantAddress: string | undefined = undefined;
  private wantPort = 0;
  private closed = false;
  /** Exact-length views of the sender's ring buffers, one per buffer (re-made if the length changes). */
  private readonly views = new Map<Buffer, Buffer>();

  constructor(private readonly socket: Socket) {
    socket.on('error', this.onError);
  }

  /** Whether sends go over the connected socket now. */
  get connected(): boolean {
    return this.state === 'connected';
  }

  /** Connect to this peer (the latched source). Cheap when it already is: callable every tick. */
  connect(address: string, port: number): void {
    if (this.wantAddress === address && this.wantPort === port) return;
    this.wantAddress = address;
    this.wantPort = port;
    this.sync();
  }

  /** Back to unconnected sends, so that every source reaches the socket again. Cheap when already so. */
  disconnect(): void {
    if (this.wantAddress === undefined) return;
    this.wantAddress = undefined;
    this.sync();
  }

  /** Sends `length` bytes of `buf` to port/address (over the connection when it is to that peer). */
  send(buf: Buffer, length: number, port: number, address: string): void {
    let view = this.views.get(buf);
    if (view === undefined || view.length !== length) {
      view = buf.subarray(0, length);
      this.views.set(buf, view);
    }
    if (this.state === 'connected') {
      if (port === this.port && address === this.address) {
        this.sentConnected++;
        this.socket.send(view);
        return;
      }
      // Connected elsewhere (cannot happen while the session keeps the link in step; cheap to survive).
      this.disconnect();
      if (this.state === 'connected') return;
    } else if (this.state === 'connecting') {
      // Not reached: sends come from clock ticks, and a connect completes within the immediate that issued it.
      // Were it reached, a send with an address could meet a connected socket (EISCONN, or a throw).
      this.dropped++;
      return;
    }
    this.sentUnconnected++;
    this.socket.send(view, port, address);
  }

  /** No more connecting; the pool closes the socket. */
  close(): void {
    this.closed = true;
    this.socket.off('error', this.onError);
  }

  private sync(): void {
    // scheduled / connecting: the immediate or onConnected syncs again.
    if (this.closed || this.state === 'scheduled' || this.state === 'connecting') return;
    if (this.state === 'connected') {
      if (this.wantAddress === this.address && this.wantPort === this.port) return;
      this.socket.disconnect();
      this.state = 'unconnected';
    }
    if (this.wantAddress === undefined) return;
    this.state = 'scheduled';
    setImmediate(this.issueConnect);
  }

  private readonly issueConnect = (): void => {
    if (this.closed) return;
    if (this.wantAddress === undefined) {
      this.state = 'unconnected';
      return;
    }
    this.address = this.wantAddress;
    this.port = this.wantPort;
    this.state = 'connecting';
    try {
      this.socket.connect(this.port, this.address, this.onConnected);
    } catch {
      this.state = 'unconnected';
    }
  };

  /** A connect that failed: stay unconnected (the target is kept, so a later change of peer retries). */
  private readonly onError = (): void => {
    if (this.state === 'connecting') this.state = 'unconnected';
  };

  private readonly onConnected = (): void => {
    if (this.closed) return;
    this.state = 'connected';
    this.sync();
  };
}
