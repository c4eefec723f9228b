/**
 * Outbound pacing at load: N calls, each an RtpSender with its own UDP socket, all driven by one MediaClock,
 * sending 20 ms G.711 packets to a receiver on loopback that runs in a worker thread (its own event loop, a
 * 4 MiB receive buffer since N packets arrive per tick) and measures each stream's inter-arrival interval.
 * Prints the clock's tick interval and lateness, the receiver-side interval p50/p99/max over all streams,
 * lost/duplicate packets, and process CPU (sender and receiver together) per call.
 *
 * Issue 3 target: interval p99 <= 25 ms and max <= 40 ms at 500 calls.
 *
 * Run: npx tsx bench/pacer.bench.ts            CALLS=500 SECONDS=10 by default (prints figures; not a test)
 */
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { MediaClock } from '../src/media/pacer.js';
import { RtpSender } from '../src/media/rtp-sender.js';

const CALLS = Number(process.env.CALLS ?? 500);
const SECONDS = Number(process.env.SECONDS ?? 10);

/** The receiver: records per-SSRC inter-arrival intervals (ms) and sequence gaps, reports when told. */
const RECEIVER = `
const { parentPort } = require('node:worker_threads');
const dgram = require('node:dgram');
const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
sock.on('listening', () => parentPort.postMessage({ port: sock.address().port }));
const last = new Map(), lastSeq = new Map();
const intervals = [];
let packets = 0, gaps = 0, dups = 0;
sock.on('message', (m) => {
  const now = Number(process.hrtime.bigint()) / 1e6;
  packets++;
  const ssrc = m.readUInt32BE(8), seq = m.readUInt16BE(2);
  const prev = last.get(ssrc);
  if (prev !== undefined) intervals.push(now - prev);
  last.set(ssrc, now);
  const ps = lastSeq.get(ssrc);
  if (ps !== undefined) { const d = (seq - ps) & 0xffff; if (d === 0) dups++; else if (d > 1) gaps += d - 1; }
  lastSeq.set(ssrc, seq);
});
parentPort.on('message', () => {
  intervals.sort((a, b) => a - b);
  const q = (p) => intervals[Math.min(intervals.length - 1, Math.floor(p * intervals.length))];
  parentPort.postMessage({ packets, streams: last.size, gaps, dups, p50: q(0.5), p99: q(0.99), max: intervals[intervals.length - 1] });
  sock.close();
});
sock.bind(0, '127.0.0.1');
`;

async function main(): Promise<void> {
  const worker = new Worker(RECEIVER, { eval: true });
  const rxPort = await new Promise<number>((resolve) => worker.once('message', (m: { port: number }) => resolve(m.port)));

  const clock = new MediaClock();
  const sockets: Socket[] = [];
  const tickTimes: bigint[] = [];
  const frame = new Uint8Array(160).fill(0x55);
  for (let i = 0; i < CALLS; i++) {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    sockets.push(sock);
    const sender = new RtpSender({ send: (b, l, p, a) => sock.send(b, 0, l, p, a), payloadType: 0 });
    sender.setRemote('127.0.0.1', rxPort);
    sender.setSource(() => frame);
    clock.subscribe(sender);
  }
  clock.subscribe({ tick: (now) => tickTimes.push(now) });
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const cpu = process.cpuUsage(cpu0);
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  clock.close();
  const rx = await new Promise<Record<string, number>>((resolve) => {
    worker.once('message', resolve);
    worker.postMessage('report');
  });
  await worker.terminate();
  for (const s of sockets) s.close();

  const iv = tickTimes.slice(1).map((t, i) => Number(t - tickTimes[i]!) / 1e6).sort((a, b) => a - b);
  const q = (p: number): number => iv[Math.min(iv.length - 1, Math.floor(p * iv.length))]!;
  const s = clock.stats;
  const cpuPct = ((cpu.user + cpu.system) / 1000 / wallMs) * 100;
  const f = (x: number | undefined): string => (x ?? NaN).toFixed(2);
  console.log(`calls ${CALLS}, ${SECONDS} s, node ${process.version}`);
  console.log(`clock: ${s.ticks} ticks, interval p50 ${f(q(0.5))} p99 ${f(q(0.99))} max ${f(iv[iv.length - 1])} ms; ` +
    `max lateness ${f(s.maxLatenessMs)} ms, caught up ${s.caughtUp}, late ${s.late}`);
  console.log(`receiver: ${rx.packets} packets from ${rx.streams} streams, lost ${rx.gaps}, duplicated ${rx.dups}; ` +
    `inter-arrival p50 ${f(rx.p50)} p99 ${f(rx.p99)} max ${f(rx.max)} ms`);
  console.log(`cpu (sender + receiver thread): ${cpuPct.toFixed(1)}% of one core, ${(cpuPct / CALLS).toFixed(3)}% per call; ` +
    `rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
}

await main();
