/**
 * vmpilot's RTP sockets on real loopback sockets: what the media session relies on from an RTP socket, on both
 * implementations (the native batch I/O, native/rtp-io + src/media/native-rtp-io.ts, and the dgram fallback),
 * and what a hostile or odd peer must not break in the native one.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadRtpIoBinding, nativeRtpIo, NativeSocketError, type NativeRtpSocket } from '../../src/media/native-rtp-io.js';
import { RtpPortPool } from '../../src/media/ports.js';
import type { RtpSocket, RtpSource } from '../../src/media/rtp-socket.js';
import { bindDgram, DgramRtpSocket } from '../../src/media/dgram-rtp-socket.js';
import { reserveRtpPorts, type RtpRange } from '../helpers/rtp-range.js';

const opened: RtpSocket[] = [];
const peers: Socket[] = [];
// Explicit ports, as the pool binds: a socket bound to port 0 loses its port when disconnected (Linux
// udp_disconnect unhashes a socket whose port was not chosen by bind).
let range: RtpRange;
let nextPort = 0;

beforeAll(async () => {
  range = await reserveRtpPorts();
  nextPort = range.min;
});
afterAll(() => range.release());

afterEach(() => {
  for (const s of opened.splice(0)) s.close();
  for (const p of peers.splice(0)) p.close();
});

function io() {
  const native = nativeRtpIo();
  if (native === undefined) throw new Error(loadRtpIoBinding().reason);
  return native;
}

function open(address = '127.0.0.1'): NativeRtpSocket {
  const s = io().open(address, nextPort);
  nextPort += 2;
  opened.push(s);
  return s;
}

async function openKind(kind: 'native' | 'dgram'): Promise<RtpSocket> {
  if (kind === 'native') return open();
  const port = nextPort;
  nextPort += 2;
  const socket = await bindDgram('127.0.0.1', port);
  if (socket === undefined) throw new Error(`port ${port} refused`);
  const s = new DgramRtpSocket(socket, port);
  opened.push(s);
  return s;
}

async function peer(type: 'udp4' | 'udp6' = 'udp4', address = '127.0.0.1'): Promise<Socket> {
  const p = createSocket(type);
  peers.push(p);
  await new Promise<void>((resolve) => p.bind(0, address, resolve));
  return p;
}

function collect(s: RtpSocket): { bytes: number[][]; sources: RtpSource[] } {
  const got = { bytes: [] as number[][], sources: [] as RtpSource[] };
  s.setHandler((msg, source) => {
    got.bytes.push([...msg]);
    got.sources.push(source);
  });
  return got;
}

function sendFrom(p: Socket, port: number, bytes: number[], address = '127.0.0.1'): Promise<void> {
  return new Promise((resolve, reject) => p.send(Buffer.from(bytes), port, address, (err) => (err ? reject(err) : resolve())));
}

const settle = (ms = 50): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('native RTP I/O', () => {
  it('MUST be built and load on Linux (npm ci builds it; without it every call costs about twice the CPU)', () => {
    if (process.platform !== 'linux') return;
    expect(loadRtpIoBinding().reason).toBeUndefined();
  });

  describe.each(['native', 'dgram'] as const)('an RTP socket on %s', (kind) => {
    it('MUST deliver each datagram whole, with its source (native: one source object while the source is the same)', async () => {
      const s = await openKind(kind);
      const got = collect(s);
      const a = await peer();
      const b = await peer();
      await sendFrom(a, s.port, [0x80, 0, 0, 1]);
      await sendFrom(a, s.port, [0x80, 0, 0, 2, 9, 9]);
      await settle();
      await sendFrom(b, s.port, [0x80, 0, 0, 3]);
      await settle();
      expect(got.bytes).toEqual([[0x80, 0, 0, 1], [0x80, 0, 0, 2, 9, 9], [0x80, 0, 0, 3]]);
      expect(got.sources.map((x) => `${x.address}:${x.port}`)).toEqual([
        `127.0.0.1:${a.address().port}`,
        `127.0.0.1:${a.address().port}`,
        `127.0.0.1:${b.address().port}`,
      ]);
      if (kind === 'native') expect(got.sources[1], 'the same source: no new object (no string per packet)').toBe(got.sources[0]);
    });

    it('MUST attribute interleaved sources correctly within one batch', async () => {
      const s = await openKind(kind);
      const got = collect(s);
      const a = await peer();
      const b = await peer();
      // Sent back to back: the batch reads them together, and each row must carry its own source.
      for (let i = 0; i < 20; i++) await sendFrom(i % 2 === 0 ? a : b, s.port, [i]);
      await settle();
      expect(got.bytes.map((x) => x[0])).toEqual([...Array(20).keys()]);
      for (let i = 0; i < 20; i++) expect(got.sources[i]!.port).toBe((i % 2 === 0 ? a : b).address().port);
    });

    it('MUST send to the peer unconnected, and connected once told, and a connected socket MUST NOT hear strangers', async () => {
      const s = await openKind(kind);
      const got = collect(s);
      const caller = await peer();
      const stranger = await peer();
      const heard: number[] = [];
      caller.on('message', (m) => heard.push(m[0]!));
      const packet = Buffer.from([1, 2, 3, 4, 5]);
      s.send(packet, 1, caller.address().port, '127.0.0.1');
      s.connect('127.0.0.1', caller.address().port);
      await settle(); // dgram connects on a later tick (rtp-link.ts); native at once
      packet[0] = 2;
      s.send(packet, 1, caller.address().port, '127.0.0.1');
      await settle();
      expect(heard).toEqual([1, 2]);
      expect([s.sentUnconnected, s.sentConnected]).toEqual([1, 1]);
      await sendFrom(stranger, s.port, [0xee]);
      await sendFrom(caller, s.port, [0xca]);
      await settle();
      expect(got.bytes, 'only the connected peer').toEqual([[0xca]]);
      s.disconnect();
      await sendFrom(stranger, s.port, [0xef]);
      await settle();
      expect(got.bytes.at(-1), 'heard again once disconnected').toEqual([0xef]);
    });

    it('MUST move a connected socket to a new peer when a send names one', async () => {
      const s = await openKind(kind);
      const first = await peer();
      const second = await peer();
      const heard: string[] = [];
      first.on('message', () => heard.push('first'));
      second.on('message', () => heard.push('second'));
      s.connect('127.0.0.1', first.address().port);
      await settle();
      s.send(Buffer.from([1]), 1, first.address().port, '127.0.0.1');
      s.send(Buffer.from([2]), 1, second.address().port, '127.0.0.1');
      await settle();
      expect(heard.sort()).toEqual(['first', 'second']);
    });
  });

  it('MUST refuse a port in use with the errno (the pool then skips it), not throw anything else', async () => {
    const busy = await peer();
    const port = busy.address().port;
    let error: unknown;
    try {
      io().open('127.0.0.1', port);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(NativeSocketError);
    expect((error as NativeSocketError).errno).toBe(-98); // EADDRINUSE
    const pool = new RtpPortPool('127.0.0.1', port - (port % 2), port - (port % 2) + 3, 0, 'native');
    const pair = await pool.allocate();
    expect(pair.port, 'the pool skipped the busy pair').not.toBe(port - (port % 2));
    expect(pair.rtp.kind).toBe('native');
    pool.release(pair);
  });

  it('MUST NOT deliver to a closed socket, nor to the next socket that reuses its slot', async () => {
    const a = open();
    const aPort = a.port;
    const got = collect(a);
    a.close();
    const b = open();
    const gotB = collect(b);
    expect(b.port).not.toBe(aPort);
    const p = await peer();
    await sendFrom(p, aPort, [1]).catch(() => undefined);
    await sendFrom(p, b.port, [2]);
    await settle();
    expect(got.bytes).toEqual([]);
    expect(gotB.bytes).toEqual([[2]]);
  });

  it('MUST deliver every datagram when more arrive at once than one batch holds, and cut oversized ones instead of failing', async () => {
    // 80 sockets x 10 datagrams of 2,000 bytes, all queued before the loop turns: one wake-up reads up to 8 from
    // each ready socket, 1.28 MB, more than the 1 MiB ring, so the ring fills and is delivered more than once.
    const sockets = Array.from({ length: 80 }, () => open());
    const seen = sockets.map(() => [] as number[]);
    sockets.forEach((s, k) => s.setHandler((msg) => seen[k]!.push(msg.length === 2000 && msg[1] === k ? msg[0]! : -1)));
    const p = await peer();
    const packet = Buffer.alloc(2000);
    for (let n = 0; n < 10; n++) {
      for (let k = 0; k < sockets.length; k++) {
        packet[0] = n;
        packet[1] = k;
        p.send(Buffer.from(packet), sockets[k]!.port, '127.0.0.1');
      }
    }
    await expect.poll(() => seen.every((x) => x.length === 10), { timeout: 5000 }).toBe(true);
    for (const x of seen) expect(x).toEqual([...Array(10).keys()]);

    let biggest = 0;
    sockets[0]!.setHandler((msg) => (biggest = msg.length));
    p.send(Buffer.alloc(9000, 7), sockets[0]!.port, '127.0.0.1');
    await expect.poll(() => biggest, { timeout: 5000 }).toBe(loadRtpIoBinding().binding!.constants.MAX_DATAGRAM);
  });

  it('MUST receive over IPv6 and, bound to ::, from IPv4 peers as IPv4-mapped addresses (as dgram reports them)', async () => {
    const s = open('::');
    const got = collect(s);
    const v6 = await peer('udp6', '::1');
    const v4 = await peer();
    await sendFrom(v6, s.port, [6], '::1');
    await sendFrom(v4, s.port, [4], '127.0.0.1');
    await settle();
    expect(got.sources.map((x) => x.address)).toEqual(['::1', '::ffff:127.0.0.1']);
    const heard = new Promise<number>((resolve) => v4.once('message', (m) => resolve(m[0]!)));
    s.send(Buffer.from([44]), 1, v4.address().port, '127.0.0.1');
    expect(await heard, 'an IPv4 peer reached from the dual-stack socket').toBe(44);
  });

  it('MUST count a send the kernel refuses as dropped, not throw', () => {
    const s = open();
    s.send(Buffer.from([1]), 1, 9, 'not-an-address');
    expect(s.dropped).toBe(1);
  });
});

