/**
 * A stranger's connection floods over TCP and TLS while the PBX keeps calling (issue 9 items 2 and 3). The PBX
 * is 127.0.0.1; strangers come from 127.0.0.2-127.0.0.7. Limits: 60 connections in all, 20 of them kept for
 * trusted peers, 8 per stranger, 1 s to finish a message (or a first message), 1 s for a TLS handshake.
 *
 * Covers: slow-loris (each stranger connection sends a never-ending header section a few bytes at a time):
 * strangers get no more than their share, what each connection holds stays bounded, the server closes every
 * one of them at the message deadline, and the PBX's OPTIONS over TCP and TLS and a whole call over TCP (SIPp)
 * succeed during the flood. Half-open TLS (TCP connections to the TLS port that never start a handshake): the
 * same share, every one closed at the handshake deadline, the PBX's TLS and TCP OPTIONS answered meanwhile.
 * A stranger's connection that sends nothing is closed at the deadline; the PBX's is kept. A stranger opening
 * connections in a burst gets twice sip.limits.newConnectionsPerSourcePerSecond at once, the PBX any number.
 *
 * Does not cover: the framer's own memory per byte (stream-framer.test.ts measures the heap), the figures at
 * 10,000 connections (a bench, not a pass/fail test).
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { options, RawTcpPeer } from '../helpers/raw-peer.js';
import { runSipp } from '../helpers/sipp.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/test-server.js';
import { tlsFixture } from '../helpers/tls-fixture.js';

const STRANGERS = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7'];
const PER_STRANGER_ATTEMPTS = 10;
const MAX = 60;
const RESERVED = 20;
const PER_SOURCE = 8;

interface Flood {
  sockets: Socket[];
  /** Sockets the server has closed (or refused), by the time each closed. */
  closedAt: Map<Socket, number>;
  stop(): void;
}

/** Opens PER_STRANGER_ATTEMPTS connections from every stranger; `drip` is written to each every 10 ms. */
async function flood(port: number, drip?: (i: number) => string): Promise<Flood> {
  const sockets: Socket[] = [];
  const closedAt = new Map<Socket, number>();
  await Promise.all(
    STRANGERS.flatMap((localAddress) =>
      Array.from({ length: PER_STRANGER_ATTEMPTS }, () => {
        const socket = connectTcp({ port, host: '127.0.0.1', localAddress });
        socket.setNoDelay(true);
        sockets.push(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => closedAt.set(socket, Date.now()));
        return new Promise<void>((resolve) => {
          socket.once('connect', () => resolve());
          socket.once('close', () => resolve());
        });
      }),
    ),
  );
  let tick = 0;
  const timer = drip
    ? setInterval(() => {
        tick++;
        for (const s of sockets) if (!closedAt.has(s) && s.writable) s.write(drip(tick));
      }, 10)
    : undefined;
  return {
    sockets,
    closedAt,
    stop: () => {
      if (timer) clearInterval(timer);
      for (const s of sockets) s.destroy();
    },
  };
}

/** OPTIONS from the PBX over a fresh TCP connection; resolves with the status line. */
async function pbxTcpOptions(port: number, id: string): Promise<string> {
  const peer = await RawTcpPeer.open(port);
  try {
    peer.write(options({ port: peer.localPort, callId: id, transport: 'TCP' }));
    await waitFor(() => /^SIP\/2\.0 \d{3} /m.test(peer.text) || peer.closed, 'the PBX\'s TCP OPTIONS to be answered', 3000);
    return peer.text.split('\r\n')[0] ?? '';
  } finally {
    peer.close();
  }
}

/** OPTIONS from the PBX over a fresh TLS connection; resolves with the status line. */
function pbxTlsOptions(port: number, id: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ port, host: '127.0.0.1', servername: 'localhost', ca: readFileSync(tlsFixture().caFile) });
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to the PBX's TLS OPTIONS; got "${text}"`));
    }, 3000);
    socket.once('secureConnect', () => socket.write(options({ port: socket.localPort ?? 5061, callId: id, transport: 'TLS' })));
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (/^SIP\/2\.0 \d{3} /.test(text)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(text.split('\r\n')[0] ?? '');
      }
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

describe('stream connection floods from strangers', () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer(
      'pbx: [{ name: mxone, addresses: ["127.0.0.1"] }]',
      `  limits: { maxConnections: ${MAX}, reservedForTrusted: ${RESERVED}, maxConnectionsPerSource: ${PER_SOURCE}, messageTimeoutS: 1, tlsHandshakeTimeoutS: 1 }`,
    );
  });
  afterAll(async () => {
    await ts.stop();
  });

  it('slow-loris over TCP: bounded per connection, closed at the deadline, and the PBX keeps calling', async () => {
    const start = Date.now();
    // A header section that never ends, a few bytes every 10 ms.
    const f = await flood(ts.port('tcp'), (tick) => (tick === 1 ? 'OPTIONS sip:8000@127.0.0.1 SIP/2.0\r\n' : `X-${tick}: a\r\n`));
    try {
      // Strangers share MAX - RESERVED slots, at most PER_SOURCE each (the server's count: what the clients see
      // of refusals arrives later on a loaded machine).
      expect(ts.server.stats().transport.sockets).toBeLessThanOrEqual(MAX - RESERVED);
      expect(ts.server.stats().transport.sockets).toBeGreaterThan(0);

      expect(await pbxTcpOptions(ts.port('tcp'), `loris-tcp-${process.pid}`)).toMatch(/^SIP\/2\.0 200 /);
      expect(await pbxTlsOptions(ts.port('tls'), `loris-tls-${process.pid}`)).toMatch(/^SIP\/2\.0 200 /);
      const call = await runSipp({ scenario: 'uac-basic-call.xml', transport: 'tcp', port: ts.port('tcp'), timeoutS: 20 });
      expect(call.successful, call.stderr).toBe(1);

      const stats = ts.server.stats().transport;
      expect(stats.maxHeldBytes).toBeLessThanOrEqual(16 * 1024);

      // Every stranger connection is closed by the server at the 1 s deadline (the sweep adds up to 0.25 s).
      await waitFor(() => f.sockets.every((s) => f.closedAt.has(s)), 'every slow-loris connection to be closed', 5000);
      const lastClosed = Math.max(...f.closedAt.values());
      expect(lastClosed - start).toBeLessThan(4000);
      await waitFor(() => ts.server.stats().transport.untrustedSources === 0, 'the strangers\' slots to be given back');
    } finally {
      f.stop();
    }
  }, 40_000);

  it('closes a stranger\'s silent connection at the deadline, and keeps the PBX\'s (it may connect ahead of need)', async () => {
    const stranger = await RawTcpPeer.open(ts.port('tcp'), STRANGERS[0]);
    const pbx = await RawTcpPeer.open(ts.port('tcp'));
    try {
      await waitFor(() => stranger.closed, 'the stranger\'s silent connection to be closed', 4000);
      expect(pbx.closed).toBe(false);
      pbx.write(options({ port: pbx.localPort, callId: `silent-pbx-${process.pid}`, transport: 'TCP' }));
      await waitFor(() => /^SIP\/2\.0 200 /m.test(pbx.text), 'the PBX\'s OPTIONS on its quiet connection to be answered', 3000);
    } finally {
      stranger.close();
      pbx.close();
    }
  });

  it('half-open TLS: handshakes closed at their deadline, and the PBX\'s TLS and TCP still answered', async () => {
    const start = Date.now();
    const f = await flood(ts.port('tls'));
    try {
      expect(ts.server.stats().transport.sockets).toBeLessThanOrEqual(MAX - RESERVED);
      expect(ts.server.stats().transport.sockets).toBeGreaterThan(0);
      expect(await pbxTlsOptions(ts.port('tls'), `halfopen-tls-${process.pid}`)).toMatch(/^SIP\/2\.0 200 /);
      expect(await pbxTcpOptions(ts.port('tcp'), `halfopen-tcp-${process.pid}`)).toMatch(/^SIP\/2\.0 200 /);
      await waitFor(() => f.sockets.every((s) => f.closedAt.has(s)), 'every half-open TLS connection to be closed', 5000);
      expect(Math.max(...f.closedAt.values()) - start).toBeLessThan(4000);
      await waitFor(() => ts.server.stats().transport.untrustedSources === 0, 'the strangers\' slots to be given back');
    } finally {
      f.stop();
    }
  }, 30_000);
});

describe('a stranger connecting in a loop (TLS handshakes cost the loop that paces RTP)', () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer('pbx: [{ name: mxone, addresses: ["127.0.0.1"] }]', '  limits: { newConnectionsPerSourcePerSecond: 10 }');
  });
  afterAll(async () => {
    await ts.stop();
  });

  /** Opens `count` TCP connections from `from` at once; resolves with how many the server had closed 500 ms later. */
  async function burst(from: string, count: number): Promise<number> {
    const sockets = await Promise.all(
      Array.from({ length: count }, () => new Promise<Socket>((resolve, reject) => {
        const s = connectTcp({ host: '127.0.0.1', port: ts.port('tcp'), localAddress: from }, () => resolve(s));
        s.on('error', () => undefined);
        s.once('error', reject);
      })),
    );
    let closed = 0;
    for (const s of sockets) s.once('close', () => closed++);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const refused = closed;
    for (const s of sockets) s.destroy();
    return refused;
  }

  it('lets a stranger open twice its per-second rate at once and closes the rest at once; the PBX is not limited', async () => {
    const refused = await burst('127.0.0.8', 40);
    expect(refused).toBeGreaterThanOrEqual(40 - 20 - 10); // burst 20, plus at most 1 s of refill
    expect(refused).toBeLessThanOrEqual(20);
    expect(await burst('127.0.0.1', 40)).toBe(0);
  });
});
