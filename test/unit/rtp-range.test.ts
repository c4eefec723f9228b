/**
 * test/helpers/rtp-range.ts: the RTP port blocks that let test files run side by side.
 *
 * Covers: reservations in one process never overlap and lie outside the ephemeral range; a block is held
 * against another process (its lock refused to a child process) and free again after release();
 * a block whose UDP ports some program already holds is passed over; counts outside 2..200 are refused.
 * Does not cover: the servers that use the ranges (test-server.ts and the integration tests).
 */
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { reserveRtpPorts, RTP_BLOCK, type RtpRange } from '../helpers/rtp-range.js';

const held: RtpRange[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((r) => r.release()));
});

async function reserve(count?: number): Promise<RtpRange> {
  const r = await reserveRtpPorts(count);
  held.push(r);
  return r;
}

/** What another process gets when it claims the block's lock (a TCP listener on its first port). */
function claimFromAnotherProcess(port: number): string {
  const script = `require('node:net').createServer().once('error', (e) => { console.log(e.code); process.exit(0); })
    .listen({ port: ${port}, host: '127.0.0.1', exclusive: true }, () => { console.log('CLAIMED'); process.exit(0); });`;
  return execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim();
}

describe('reserveRtpPorts', () => {
  it('gives ranges that never overlap, outside the ephemeral ports 32768-60999', async () => {
    const ranges = await Promise.all([reserve(), reserve(20), reserve(200), reserve(4)]);
    const sorted = [...ranges].sort((a, b) => a.min - b.min);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.min).toBeGreaterThan(sorted[i - 1]!.max);
    for (const r of ranges) {
      expect(r.max >= r.min && r.max - r.min < RTP_BLOCK).toBe(true);
      expect(r.max < 32768 || r.min > 60999, `${r.ports} outside the ephemeral range`).toBe(true);
      expect(r.ports).toBe(`${r.min}-${r.max}`);
    }
  });

  it('holds a block against another process until released', async () => {
    const mine = await reserve();
    expect(claimFromAnotherProcess(mine.min)).toBe('EADDRINUSE');
    await mine.release();
    await mine.release(); // idempotent
    expect(claimFromAnotherProcess(mine.min)).toBe('CLAIMED');
  });

  it('passes over a block whose UDP ports another program holds', async () => {
    // Find a block, give it back, and have "another program" bind a UDP port in the middle of it.
    const probe = await reserveRtpPorts();
    await probe.release();
    const squatter: Socket = createSocket('udp4');
    await new Promise<void>((resolve) => squatter.bind(probe.min + 61, '127.0.0.1', () => resolve()));
    try {
      const got = await Promise.all(Array.from({ length: 5 }, () => reserve()));
      for (const r of got) expect(probe.min + 61 < r.min || probe.min + 61 > r.max, `${r.ports} avoids ${probe.min + 61}`).toBe(true);
    } finally {
      squatter.close();
    }
  });

  it('refuses counts outside 2..200', async () => {
    await expect(reserveRtpPorts(1)).rejects.toThrow(RangeError);
    await expect(reserveRtpPorts(RTP_BLOCK + 1)).rejects.toThrow(RangeError);
  });
});
