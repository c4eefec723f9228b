/**
 * Per-source limits over real IPv6 sockets from several addresses of one /64 (sip.limits.ipv6PrefixLength,
 * src/sip/source-key.ts): a stranger holding a /64 is one source, not 2^64.
 *
 * The addresses live on a bridge this test creates (test/helpers/netns.ts: a private link of its own, removed
 * in afterAll): fdXX:…:1::1 (the listener), ::a and ::b of the same /64 (one stranger's two addresses), and
 * fdXX:…:2::c of another /64 (another stranger). Traffic stays on that link.
 *
 * Covers: maxConnectionsPerSource holds for two addresses of one /64 together (the third connection, from the
 * second address, is closed at once) while another /64 is served; with ipv6PrefixLength 128 each address has
 * its own share again; the strangers' request rate limit (sip.rateLimit, through openSipEndpoint as a server
 * wires it) holds for the /64 together over UDP, while another /64 gets its own allowance.
 * Does not cover: the keying itself (test/unit/source-key.test.ts), IPv4 (stream-limits.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { openSipEndpoint } from '../../src/sip-endpoint.js';
import { SourceKeys } from '../../src/sip/source-key.js';
import { TransportLayer } from '../../src/sip/transport/transport-layer.js';
import { createNetnsLab, netnsAvailable, type NetnsLab } from '../helpers/netns.js';
import { options as sipOptions } from '../helpers/raw-peer.js';

const bridgeName = (lab: NetnsLab): string => execFileSync('ip', ['-o', '-4', 'addr', 'show', 'to', `${lab.hostAddress}/32`], { encoding: 'utf8' }).split(/\s+/)[1]!;

// A unique-local /48 of this run (RFC 4193), so that concurrent runs do not collide.
const NET = `fd00:${(process.pid & 0xffff).toString(16)}:7`;
const LISTENER = `${NET}:1::1`;
const ONE_64 = [`${NET}:1::a`, `${NET}:1::b`];
const OTHER_64 = `${NET}:2::c`;

let lab: NetnsLab;

beforeAll(() => {
  expect(netnsAvailable(), 'needs root and iproute2 (test/helpers/netns.ts)').toBe(true);
  lab = createNetnsLab();
  const dev = bridgeName(lab);
  for (const address of [LISTENER, ...ONE_64]) execFileSync('ip', ['-6', 'addr', 'add', `${address}/64`, 'dev', dev, 'nodad']);
  execFileSync('ip', ['-6', 'addr', 'add', `${OTHER_64}/64`, 'dev', dev, 'nodad']);
});

afterAll(() => {
  lab?.close();
});

/** A stranger's connection from `from`; resolves with the socket once connected. */
function open(port: number, from: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: LISTENER, port, localAddress: from, family: 6 });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Whether the server closed the socket within `ms` (a refused connection is destroyed on accept). */
function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed || socket.readableEnded) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.resume();
  });
}

async function transportWith(prefix: number): Promise<{ transport: TransportLayer; port: number }> {
  const transport = new TransportLayer({
    logger: pino({ level: 'silent' }),
    isTrusted: () => false,
    maxConnectionsPerSource: 2,
    messageTimeoutMs: 20_000,
    sourceKeys: new SourceKeys(prefix),
  });
  await transport.listen([{ transport: 'tcp', host: LISTENER, port: 0 }]);
  return { transport, port: transport.bound().find((b) => b.transport === 'tcp')!.port };
}

describe('maxConnectionsPerSource over IPv6', () => {
  it('counts two addresses of one /64 as one source, and serves another /64', async () => {
    const { transport, port } = await transportWith(64);
    const sockets: Socket[] = [];
    try {
      sockets.push(await open(port, ONE_64[0]!), await open(port, ONE_64[0]!));
      const third = await open(port, ONE_64[1]!);
      const elsewhere = await open(port, OTHER_64);
      sockets.push(third, elsewhere);
      expect(await closedWithin(third, 1000)).toBe(true);
      expect(await closedWithin(elsewhere, 300)).toBe(false);
      expect(await closedWithin(sockets[0]!, 10)).toBe(false);
      expect(transport.stats().untrustedSources).toBe(2);
    } finally {
      for (const s of sockets) s.destroy();
      await transport.close();
    }
  });

  it('with ipv6PrefixLength 128 each address has its own share', async () => {
    const { transport, port } = await transportWith(128);
    const sockets: Socket[] = [];
    try {
      sockets.push(await open(port, ONE_64[0]!), await open(port, ONE_64[0]!));
      const third = await open(port, ONE_64[1]!);
      sockets.push(third);
      expect(await closedWithin(third, 300)).toBe(false);
      expect(transport.stats().untrustedSources).toBe(2);
    } finally {
      for (const s of sockets) s.destroy();
      await transport.close();
    }
  });
});

/** Sends `count` OPTIONS from `from` to [LISTENER]:port over UDP; resolves with the answers heard within 500 ms. */
function options(port: number, from: string, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp6');
    const heard: string[] = [];
    socket.on('message', (m) => heard.push(m.toString().split('\r\n')[0]!));
    socket.once('error', reject);
    socket.bind(0, from, () => {
      for (let i = 0; i < count; i++) {
        const callId = `v6${process.pid}x${from.replace(/[^0-9a-f]/gi, '')}x${i}`;
        const text = sipOptions({ port: socket.address().port, callId, host: `[${from}]` });
        socket.send(text, port, LISTENER);
      }
      setTimeout(() => {
        socket.close();
        resolve(heard);
      }, 500);
    });
  });
}

describe('sip.rateLimit over IPv6', () => {
  it("counts a /64's addresses against one allowance; another /64 has its own", async () => {
    // Strangers (no PBX listed covers these addresses): each request gets 403 while its source has tokens.
    const config = parseConfig(
      `sip: { listen: ["udp:[${LISTENER}]:0"], rateLimit: { perSourcePerSecond: 0.01, burst: 3 } }\npbx: [{ name: pbx, addresses: ["127.0.0.1"] }]\nstorage: { dir: /tmp }`,
      '/tmp',
    );
    const { transport, stack } = await openSipEndpoint(config, pino({ level: 'silent' }));
    try {
      const port = transport.bound()[0]!.port;
      const first = await options(port, ONE_64[0]!, 2);
      const second = await options(port, ONE_64[1]!, 2);
      const elsewhere = await options(port, OTHER_64, 2);
      expect(first).toEqual(['SIP/2.0 403 Forbidden', 'SIP/2.0 403 Forbidden']);
      expect(second).toEqual(['SIP/2.0 403 Forbidden']); // the /64's third token; its fourth request is dropped
      expect(elsewhere).toEqual(['SIP/2.0 403 Forbidden', 'SIP/2.0 403 Forbidden']);
    } finally {
      stack.close();
      await transport.close();
    }
  });
});
