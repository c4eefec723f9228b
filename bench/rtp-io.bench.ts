/**
 * RTP socket I/O cost: Node's dgram against vmpilot's native batch I/O (native/rtp-io), as the media loop uses
 * them: N sockets, each receiving a 172-byte packet every 20 ms from its own peer and sending one back on every
 * receive (a call's inbound and outbound stream). A child process plays the peers (its CPU is not counted).
 * Prints this process's CPU per packet and the share of a core, for each implementation.
 *
 *   npx tsx bench/rtp-io.bench.ts [--calls 500] [--seconds 10]
 *
 * Not part of the test run.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RtpPortPool } from '../src/media/ports.js';
import type { RtpPortPair } from '../src/media/ports.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const calls = Number(args.get('calls') ?? '500');
const seconds = Number(args.get('seconds') ?? '10');

if (process.argv[2] === 'peers') {
  // The far ends: one dgram socket per call, a packet to its port every 20 ms (in 4 phases, as a PBX's calls).
  const { createSocket } = await import('node:dgram');
  const ports = JSON.parse(process.argv[3]!) as number[];
  const packet = Buffer.alloc(172, 0xff);
  packet[0] = 0x80;
  const sockets = await Promise.all(
    ports.map(
      (port) =>
        new Promise<{ send: () => void }>((resolve) => {
          const s = createSocket('udp4');
          s.on('message', () => undefined);
          s.bind(0, '127.0.0.1', () => {
            s.connect(port, '127.0.0.1', () => resolve({ send: () => s.send(packet) }));
          });
        }),
    ),
  );
  let phase = 0;
  setInterval(() => {
    for (let i = phase; i < sockets.length; i += 4) sockets[i]!.send();
    phase = (phase + 1) % 4;
  }, 5);
  process.send!('ready');
} else {
  for (const io of ['dgram', 'native'] as const) {
    const pool = new RtpPortPool('127.0.0.1', 41000, 41000 + calls * 2 + 10, undefined, io);
    const pairs: RtpPortPair[] = [];
    let received = 0;
    const reply = Buffer.alloc(172, 0x7f);
    reply[0] = 0x80;
    for (let i = 0; i < calls; i++) {
      const pair = await pool.allocate();
      pair.rtp.setHandler((_msg, source) => {
        received++;
        pair.rtp.connect(source.address, source.port);
        pair.rtp.send(reply, 172, source.port, source.address);
      });
      pairs.push(pair);
    }
    const peers = fork(fileURLToPath(import.meta.url), ['peers', JSON.stringify(pairs.map((p) => p.port))], { execArgv: ['--import', 'tsx'] });
    await new Promise((resolve) => peers.once('message', resolve));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const cpu0 = process.cpuUsage();
    const received0 = received;
    const t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const cpu = process.cpuUsage(cpu0);
    const elapsed = (performance.now() - t0) / 1000;
    const packets = received - received0;
    const cpuUs = cpu.user + cpu.system;
    console.log(
      `${io.padEnd(6)} ${calls} calls: ${(packets / elapsed).toFixed(0)} packets/s in and out, ` +
        `${((cpuUs / 1e6 / elapsed) * 100).toFixed(1)} % of a core (user ${(cpu.user / 1e3 / elapsed).toFixed(0)} ms/s, system ${(cpu.system / 1e3 / elapsed).toFixed(0)} ms/s), ` +
        `${(cpuUs / packets).toFixed(2)} us per packet received and answered`,
    );
    peers.kill();
    for (const pair of pairs) pool.release(pair);
  }
  process.exit(0);
}
