/**
 * The cost of one outbound RTP packet on a dgram socket, three ways, on loopback: the send the media path
 * used before (unconnected, `send(buf, 0, length, port, address)`: a Buffer slice and an address lookup per
 * packet), an unconnected send of an exact-length Buffer, and the send it uses once latched (a connected
 * socket, exact-length Buffer; src/media/rtp-link.ts). Each way sends PACKETS packets of 172 bytes in bursts
 * of CALLS (one per call, as a clock tick does) and prints the process CPU time per packet (sender and the
 * receiving socket together), the median of ROUNDS rounds run in turn (A B C A B C ...) so that a change of
 * load on a shared machine hits every way alike. Compare the lines of one run, not runs.
 *
 * Run: npx tsx bench/udp-send.bench.ts    PACKETS=100000 CALLS=300 ROUNDS=5 by default (prints figures; not a test)
 */
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { literalLookup } from '../src/media/literal-lookup.js';

const PACKETS = Number(process.env.PACKETS ?? 100_000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const CALLS = Number(process.env.CALLS ?? 300);
const LENGTH = 172;

async function bound(lookup?: typeof literalLookup): Promise<Socket> {
  const s = createSocket({ type: 'udp4', lookup });
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  return s;
}

type Way = (socket: Socket, buf: Buffer, exact: Buffer, port: number) => void;

/** name, connected, the RTP sockets' own lookup (ports.ts literalLookup) or dns.lookup, the send. */
const WAYS: [string, boolean, boolean, Way][] = [
  ['unconnected, send(buf, 0, length, port, address)', false, false, (s, buf, _exact, port) => s.send(buf, 0, LENGTH, port, '127.0.0.1')],
  ['unconnected, exact-length Buffer', false, false, (s, _buf, exact, port) => s.send(exact, port, '127.0.0.1')],
  ['unconnected, exact-length Buffer, literalLookup (before latching)', false, true, (s, _buf, exact, port) => s.send(exact, port, '127.0.0.1')],
  ['connected, exact-length Buffer (rtp-link.ts)', true, true, (s, _buf, exact) => s.send(exact)],
];

/** One round of one way: CPU µs per packet. */
async function run(connect: boolean, literal: boolean, way: Way): Promise<number> {
  const sink = await bound();
  sink.on('message', () => undefined);
  const port = (sink.address() as AddressInfo).port;
  const senders = await Promise.all(Array.from({ length: CALLS }, () => bound(literal ? literalLookup : undefined)));
  if (connect) await Promise.all(senders.map((s) => new Promise<void>((resolve) => s.connect(port, '127.0.0.1', resolve))));
  const ring = senders.map(() => Buffer.alloc(LENGTH + 16, 0x80));
  const exact = ring.map((b) => b.subarray(0, LENGTH));
  const bursts = Math.ceil(PACKETS / CALLS);
  const cpu0 = process.cpuUsage();
  for (let b = 0; b < bursts; b++) {
    for (let i = 0; i < CALLS; i++) way(senders[i]!, ring[i]!, exact[i]!, port);
    // Let queued sends (lookups on nextTick) and the sink's reads run, as between two clock ticks.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const cpu = process.cpuUsage(cpu0);
  for (const s of senders) s.close();
  sink.close();
  return (cpu.user + cpu.system) / (bursts * CALLS);
}

const results: number[][] = WAYS.map(() => []);
for (let r = 0; r < ROUNDS; r++) {
  for (let w = 0; w < WAYS.length; w++) results[w]!.push(await run(WAYS[w]![1], WAYS[w]![2], WAYS[w]![3]));
}
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
WAYS.forEach(([name], w) => {
  console.log(`${name}: median ${median(results[w]!).toFixed(2)} µs CPU per packet (rounds: ${results[w]!.map((x) => x.toFixed(2)).join(' ')})`);
});
