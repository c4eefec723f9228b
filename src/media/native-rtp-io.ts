/**
 * RTP sockets on vmpilot's native batch I/O (native/rtp-io/rtp_io.c; its header says why it exists). One
 * NativeRtpIo per thread holds every RTP socket of that thread: the addon reads all waiting datagrams into one
 * ring and calls onBatch once; this file hands each to its socket's handler with a Buffer view of the ring and
 * a source object that is re-made only when the source changes (so a call's steady stream allocates one small
 * view per packet and nothing else).
 *
 * The addon is optional: built by `npm ci` where a compiler and Node's headers are present (scripts/build-
 * native.mjs), absent elsewhere; loadRtpIoBinding() says which, and ports.ts falls back to dgram.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DatagramHandler, RtpSocket, RtpSource } from './rtp-socket.js';

interface RtpIoBinding {
  create(ring: ArrayBuffer, meta: ArrayBuffer, onBatch: (rows: number) => void): object;
  open(io: object, address: string, port: number): number;
  close(io: object, id: number): void;
  setPeer(io: object, id: number, address: string, port: number): number;
  connect(io: object, id: number, address?: string, port?: number): number;
  send(io: object, id: number, bytes: Uint8Array, length: number): number;
  localPort(io: object, id: number): number;
  destroy(io: object): void;
  setRealtime(priority: number): number;
  constants: { ROW_U32: number; MAX_DATAGRAM: number };
}

/** The same split the addon uses: id = index | generation << 20. */
const INDEX_MASK = (1 << 20) - 1;
/** Ring and rows per batch: 1 MiB holds ~500 of the largest datagrams, and far more RTP packets (~180 B). */
const RING_BYTES = 1 << 20;
const MAX_ROWS = 4096;

let cached: { binding?: RtpIoBinding; reason?: string } | undefined;

/** The addon, or why it is not available (not built, not Linux, failed to load). Loaded once. */
export function loadRtpIoBinding(): { binding?: RtpIoBinding; reason?: string } {
  if (cached !== undefined) return cached;
  if (process.platform !== 'linux') return (cached = { reason: `native RTP I/O is Linux only (this is ${process.platform})` });
  const file = findAddon();
  if (file === undefined) return (cached = { reason: 'native RTP I/O is not built (native/rtp-io: npm ci builds it where g++ and Node headers are present)' });
  try {
    const binding = createRequire(import.meta.url)(file) as RtpIoBinding;
    return (cached = { binding });
  } catch (err) {
    return (cached = { reason: `native RTP I/O failed to load: ${(err as Error).message}` });
  }
}

/** native/rtp-io/build/Release/rtp_io.node above this file (src/media or dist/src/media). */
function findAddon(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++) {
    const file = join(dir, 'native', 'rtp-io', 'build', 'Release', 'rtp_io.node');
    if (existsSync(file)) return file;
    dir = dirname(dir);
  }
  return undefined;
}

/** An errno from the addon (negative) as Node names it. */
export class NativeSocketError extends Error {
  constructor(
    readonly errno: number,
    what: string,
  ) {
    super(`${what} failed (errno ${-errno})`);
    this.name = 'NativeSocketError';
  }
}

export class NativeRtpIo {
  /** @internal the addon's handle, for NativeRtpSocket's calls. */
  readonly io: object;
  private readonly ring: Buffer;
  private readonly rows: Uint32Array;
  private readonly rowU32: number;
  /** Per slot index: the open socket's full id, its socket, and its last source. */
  private readonly ids: number[] = [];
  private readonly sockets: (NativeRtpSocket | undefined)[] = [];
  private readonly sources: (RtpSource | undefined)[] = [];
  /** Batches delivered and datagrams in them (stats: the mean batch size says how much batching saves). */
  batches = 0;
  datagrams = 0;

  constructor(readonly binding: RtpIoBinding) {
    const ring = new ArrayBuffer(RING_BYTES);
    this.rowU32 = binding.constants.ROW_U32;
    const meta = new ArrayBuffer(MAX_ROWS * this.rowU32 * 4);
    this.ring = Buffer.from(ring);
    this.rows = new Uint32Array(meta);
    this.io = binding.create(ring, meta, this.onBatch);
  }

  /** Binds address:port. Throws NativeSocketError (errno -98: EADDRINUSE) when the OS refuses. */
  open(address: string, port: number): NativeRtpSocket {
    const id = this.binding.open(this.io, address, port);
    if (id < 0) throw new NativeSocketError(id, `bind ${address}:${port}`);
    const index = id & INDEX_MASK;
    const socket = new NativeRtpSocket(this, id, port === 0 ? this.binding.localPort(this.io, id) : port);
    this.ids[index] = id;
    this.sockets[index] = socket;
    this.sources[index] = undefined;
    return socket;
  }

  /** Closes every socket and stops polling (the thread's end; also on process exit by itself). */
  destroy(): void {
    this.binding.destroy(this.io);
  }

  /** @internal */
  forget(id: number): void {
    const index = id & INDEX_MASK;
    if (this.ids[index] !== id) return;
    this.ids[index] = -1;
    this.sockets[index] = undefined;
    this.sources[index] = undefined;
    this.binding.close(this.io, id);
  }

  private readonly onBatch = (count: number): void => {
    this.batches++;
    this.datagrams += count;
    const rows = this.rows;
    const ring = this.ring;
    let failure: unknown = undefined;
    for (let r = 0, o = 0; r < count; r++, o += this.rowU32) {
      const id = rows[o]!;
      const index = id & INDEX_MASK;
      const offset = rows[o + 1]!;
      const length = rows[o + 2]!;
      const textLength = rows[o + 4]!;
      let source = this.sources[index];
      // The source's text follows the datagram when it differs from the previous one on this socket.
      if (textLength > 0) {
        source = { address: ring.toString('latin1', offset + length, offset + length + textLength), port: rows[o + 3]! };
        this.sources[index] = source;
      }
      // Closed since (or closed and reopened within this batch): not this socket's datagram any more.
      if (this.ids[index] !== id || source === undefined) continue;
      const handler = this.sockets[index]!.handler;
      if (handler === undefined) continue;
      try {
        handler(ring.subarray(offset, offset + length), source);
      } catch (err) {
        // The rest of the batch still goes to its calls; the first failure is thrown after, as a dgram
        // listener's would be ('uncaughtException').
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
  };
}

export class NativeRtpSocket implements RtpSocket {
  readonly kind = 'native' as const;
  sentConnected = 0;
  sentUnconnected = 0;
  /** Sends the kernel refused (ENOBUFS, EAGAIN, an ICMP error queued by an earlier send): UDP may drop. */
  dropped = 0;
  /** @internal read by NativeRtpIo.onBatch */
  handler: DatagramHandler | undefined = undefined;
  private peerAddress: string | undefined = undefined;
  private peerPort = 0;
  private connectedTo: string | undefined = undefined;
  private connectedPort = 0;
  private closed = false;
  private readonly io: object;
  private readonly binding: RtpIoBinding;

  constructor(
    private readonly owner: NativeRtpIo,
    private readonly id: number,
    readonly port: number,
  ) {
    this.io = owner.io;
    this.binding = owner.binding;
  }

  setHandler(handler: DatagramHandler | undefined): void {
    this.handler = handler;
  }

  send(buf: Buffer, length: number, port: number, address: string): void {
    if (this.closed) return;
    const connected = this.connectedTo !== undefined;
    if (connected && (port !== this.connectedPort || address !== this.connectedTo)) this.disconnect();
    if (port !== this.peerPort || address !== this.peerAddress) {
      if (this.connectedTo === undefined && this.binding.setPeer(this.io, this.id, address, port) !== 0) {
        this.dropped++;
        return;
      }
      this.peerAddress = address;
      this.peerPort = port;
    }
    if (this.binding.send(this.io, this.id, buf, length) < 0) this.dropped++;
    else if (this.connectedTo !== undefined) this.sentConnected++;
    else this.sentUnconnected++;
  }

  connect(address: string, port: number): void {
    if (this.closed || (this.connectedTo === address && this.connectedPort === port)) return;
    if (this.connectedTo !== undefined) this.disconnect();
    // A connect that fails leaves the socket sending unconnected: correct, only dearer.
    if (this.binding.connect(this.io, this.id, address, port) !== 0) return;
    this.connectedTo = address;
    this.connectedPort = port;
    this.peerAddress = address;
    this.peerPort = port;
  }

  disconnect(): void {
    if (this.closed || this.connectedTo === undefined) return;
    this.connectedTo = undefined;
    this.binding.connect(this.io, this.id);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handler = undefined;
    this.owner.forget(this.id);
  }
}

let perThread: NativeRtpIo | undefined;

/** This thread's NativeRtpIo (created on first use), or undefined when the addon is not available. */
export function nativeRtpIo(): NativeRtpIo | undefined {
  if (perThread !== undefined) return perThread;
  const { binding } = loadRtpIoBinding();
  if (binding === undefined) return undefined;
  perThread = new NativeRtpIo(binding);
  return perThread;
}
