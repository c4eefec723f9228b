/**
 * RtpPortPool: the RTP/RTCP port pairs of rtp.ports, bound for real on loopback.
 *
 * Covers: every even port whose odd partner is in the range is handed out, the top pair included, and no
 * more; exhaustion rejects with RtpPortsExhaustedError naming the configured range; consecutive allocations
 * are not sequential (drawn at random, issue 9 item 1); a released port is not handed out again until
 * `quarantine` later releases, unless nothing else is free; a port another program holds is skipped; an
 * unconnected send to an IP literal leaves at once (no address lookup deferred to the next tick per packet).
 * Does not cover: the 503 a call gets when the pool is exhausted (rtp-ports.test.ts).
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RtpPortPool, RtpPortsExhaustedError, type RtpPortPair } from '../../src/media/ports.js';
import { reserveRtpPorts, type RtpRange } from '../helpers/rtp-range.js';

/** A block of 200 ports of this file's own (rtp-range.ts: reserved machine-wide, outside the ephemeral ports). */
let BASE = 0;
let block: RtpRange | undefined;
beforeAll(async () => {
  block = await reserveRtpPorts();
  BASE = block.min;
});
afterAll(async () => {
  await block?.release();
});

const held: { pool: RtpPortPool; pair: RtpPortPair }[] = [];

afterEach(() => {
  for (const h of held.splice(0)) h.pool.release(h.pair);
});

async function take(pool: RtpPortPool, n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const pair = await pool.allocate();
    held.push({ pool, pair });
    ports.push(pair.port);
  }
  return ports;
}

describe('RtpPortPool', () => {
  it('hands out every pair of the range, the top one included, then rejects naming the range', async () => {
    const pool = new RtpPortPool('127.0.0.1', BASE, BASE + 9);
    expect(pool.capacity).toBe(5);
    const ports = await take(pool, 5);
    expect([...ports].sort((a, b) => a - b)).toEqual([BASE, BASE + 2, BASE + 4, BASE + 6, BASE + 8]);
    const refused = await pool.allocate().catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(RtpPortsExhaustedError);
    expect((refused as Error).message).toBe(`no free RTP port pair in ${BASE}-${BASE + 9} (5 in use)`);
  });

  it('does not use an even port at the top of the range whose RTCP port would lie outside it', async () => {
    const pool = new RtpPortPool('127.0.0.1', BASE + 20, BASE + 24);
    expect(pool.capacity).toBe(2);
    expect((await take(pool, 2)).sort((a, b) => a - b)).toEqual([BASE + 20, BASE + 22]);
  });

  it('draws ports at random: consecutive allocations are not sequential', async () => {
    const pool = new RtpPortPool('127.0.0.1', BASE + 40, BASE + 199);
    const ports = await take(pool, 12);
    const steps = ports.slice(1).map((p, i) => p - ports[i]!);
    // In order, every step would be +2; at random from 80 pairs, a +2 step has a chance of about 1 in 80.
    expect(steps.filter((s) => s === 2).length, `steps ${steps}`).toBeLessThanOrEqual(3);
    expect(new Set(ports).size).toBe(12);
  });

  it('keeps a released port out of use until `quarantine` later releases, unless nothing else is free', async () => {
    const pool = new RtpPortPool('127.0.0.1', BASE + 60, BASE + 67, 2);
    const [a, b, c, d] = await take(pool, 4);
    // Everything is in use: a released port is the only one free and comes back at once.
    pool.release(held.find((h) => h.pair.port === a)!.pair);
    held.splice(held.findIndex((h) => h.pair.port === a), 1);
    expect(await take(pool, 1)).toEqual([a]);
    // b and c released: both wait (quarantine 2). d released too: b, the oldest, rejoins the free ports.
    for (const port of [b, c, d]) {
      const i = held.findIndex((h) => h.pair.port === port);
      pool.release(held[i]!.pair);
      held.splice(i, 1);
    }
    expect(await take(pool, 1)).toEqual([b]);
  });

  it('skips a port another program holds', async () => {
    const blocker: Socket = createSocket('udp4');
    await new Promise<void>((resolve) => blocker.bind(BASE + 81, '127.0.0.1', () => resolve()));
    try {
      const pool = new RtpPortPool('127.0.0.1', BASE + 80, BASE + 83);
      expect(await take(pool, 1)).toEqual([BASE + 82]);
      await expect(pool.allocate()).rejects.toBeInstanceOf(RtpPortsExhaustedError);
    } finally {
      blocker.close();
    }
  });
});

describe('an RTP socket from the pool', () => {
  it('MUST send to an IP literal without deferring the packet to a lookup on the next tick', async () => {
    const pool = new RtpPortPool('127.0.0.1', BASE + 100, BASE + 101, undefined, 'dgram');
    const [port] = await take(pool, 1);
    const pair = held.at(-1)!.pair;
    expect(pair.port).toBe(port);
    const peer = createSocket('udp4');
    await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', resolve));
    const got = new Promise<Buffer>((resolve) => peer.once('message', resolve));
    const nextTick = vi.spyOn(process, 'nextTick');
    try {
      pair.rtp.send(Buffer.from([0x80, 0, 0, 1]), 4, peer.address().port, '127.0.0.1');
      // dns.lookup answers a literal with process.nextTick(callback): one per packet, before the fix.
      expect(nextTick).not.toHaveBeenCalled();
    } finally {
      nextTick.mockRestore();
    }
    expect([...(await got)]).toEqual([0x80, 0, 0, 1]);
    peer.close();
  });
});
