/**
 * RTP port ranges for servers under test, reserved machine-wide so that test files running side by side (vitest's
 * parallel workers, and other people's test runs on the same machine) never configure overlapping rtp.ports.
 *
 * Why not "base + process.pid % N": two processes can draw the same block, and a server whose range is partly
 * taken skips those ports (media/ports.ts) and runs out early (rtp-config.test.ts counts on exactly two pairs).
 *
 * How: the range is a block of BLOCK UDP ports; holding a TCP listener on 127.0.0.1 at the block's first port is
 * the lock. RTP is UDP only, so the TCP port is free for this; the kernel makes the claim atomic and drops it
 * when the process dies (no lock files, no stale locks). The blocks lie outside Linux's default ephemeral range
 * (32768-60999), so the port-0 sockets of any process (SIP listeners, probes, SIPp's -p) never land in them; a
 * block some program already uses (a server someone started by hand on 127.0.0.1:25060) is passed over.
 *
 * Not here: SIPp's own media ports (-mp), which SIPp moves past when taken.
 */
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';

/** UDP ports per block; the most a range can have. */
export const RTP_BLOCK = 200;

/** Inclusive spans of ports the blocks are cut from: below and above the default ephemeral range. */
const SPANS: readonly [number, number][] = [
  [20000, 32767],
  [61000, 65535],
];

export interface RtpRange {
  /** First port (even). */
  min: number;
  /** Last port, inclusive. */
  max: number;
  /** "min-max", as rtp.ports takes it. */
  ports: string;
  /** Gives the block back (idempotent). The process's exit gives it back too. */
  release(): Promise<void>;
}

function blockStarts(): number[] {
  const starts: number[] = [];
  for (const [first, last] of SPANS) for (let p = first; p + RTP_BLOCK - 1 <= last; p += RTP_BLOCK) starts.push(p);
  return starts;
}

/** Listens on 127.0.0.1:port, or resolves undefined when someone already does. */
function tryListen(port: number): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(undefined) : reject(err)));
    // exclusive: in a cluster worker the listen must not be shared through the primary.
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      server.unref(); // the lock never keeps a test process alive
      resolve(server);
    });
  });
}

/** Whether nobody holds a UDP port of min..max on 127.0.0.1 (or the wildcard) right now. */
async function udpFree(min: number, max: number): Promise<boolean> {
  for (let port = min; port <= max; port++) {
    const socket = createSocket('udp4');
    const bound = await new Promise<boolean>((resolve) => {
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    if (!bound) return false;
  }
  return true;
}

/**
 * Reserves `count` consecutive UDP ports (at most RTP_BLOCK) for a server's rtp.ports. Starts looking at a
 * pid-derived block so that concurrent processes rarely contend for the same one.
 */
export async function reserveRtpPorts(count = RTP_BLOCK): Promise<RtpRange> {
  if (!Number.isInteger(count) || count < 2 || count > RTP_BLOCK) throw new RangeError(`count must be 2..${RTP_BLOCK}, not ${count}`);
  const starts = blockStarts();
  const first = process.pid % starts.length;
  for (let i = 0; i < starts.length; i++) {
    const min = starts[(first + i) % starts.length]!;
    const lock = await tryListen(min);
    if (!lock) continue;
    if (!(await udpFree(min, min + count - 1))) {
      await new Promise<void>((resolve) => lock.close(() => resolve()));
      continue;
    }
    let released: Promise<void> | undefined;
    return {
      min,
      max: min + count - 1,
      ports: `${min}-${min + count - 1}`,
      release: () => (released ??= new Promise<void>((resolve) => lock.close(() => resolve()))),
    };
  }
  throw new Error(`all ${starts.length} RTP test blocks are held by running processes (TCP listeners on their first ports)`);
}
