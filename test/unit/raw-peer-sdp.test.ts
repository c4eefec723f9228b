/**
 * test/helpers/raw-peer.ts: the default SDP of invite() names an RTP port this test process holds, so the
 * server's RTP for a raw-peer call can never land in another test's socket (it named 127.0.0.1:40000, a fixed
 * port any other socket on the machine could hold).
 *
 * Covers: the m=audio port is bound by this process (a second bind fails) and is the same for every invite.
 * Not: what the server sends there (the tests using the default SDP ignore media).
 */
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { invite } from '../helpers/raw-peer.js';

function audioPort(request: string): number {
  const m = /^m=audio (\d+) /m.exec(request);
  if (!m) throw new Error('no m=audio line');
  return Number(m[1]);
}

/** Whether binding 127.0.0.1:port (UDP) succeeds now; the socket is closed again. */
function canBind(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  return new Promise<boolean>((resolve) => {
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => resolve(true));
  }).finally(() => new Promise<void>((resolve) => socket.close(() => resolve())).catch(() => undefined));
}

describe("raw-peer invite()'s default SDP", () => {
  it('names an RTP port that this process holds, so no other socket can take it', async () => {
    const port = audioPort(invite({ port: 5060, callId: 'sdp-port-1' }));
    expect(port).toBeGreaterThan(0);
    expect(await canBind(port)).toBe(false);
  });

  it('names the same port in every invite', () => {
    expect(audioPort(invite({ port: 5060, callId: 'a' }))).toBe(audioPort(invite({ port: 5061, callId: 'b' })));
  });
});
