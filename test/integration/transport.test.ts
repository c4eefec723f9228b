/**
 * The transport layer (src/sip/transport/) over real sockets on 127.0.0.1 with ephemeral ports.
 *
 * Covers: a UDP round trip, keep-alive datagrams (CRLF, STUN) dropped; TCP framing of two messages in one write
 * and of one message in 1-byte writes; the RFC 5626 §3.5.1 CRLFCRLF ping answered with a CRLF pong; a stream
 * message without Content-Length (RFC 3261 §18.3) and an oversized one closing the connection with
 * onFramingError; connection reuse (a send to an inbound flow's address and port, or with its connectionId,
 * goes out on that same socket); an outbound TCP connection made by send(), with sends queued while it
 * connects, and the answer coming back on it; a refused connection reported to onSendError; TLS round trip
 * with the peer verified against our CA (and refused without it); requireClientCert refusing a client without
 * a certificate and accepting one signed by the CA; maxConnections, idle timeout, a peer that stops reading;
 * localEndpoint for bound and wildcard sockets; listen() on a port in use (and with an unusable certificate)
 * rejecting clearly and leaving nothing bound; close() leaving no handle (a child process exits by itself).
 *
 * Certificates: a throwaway CA, server (SAN IP:127.0.0.1, DNS:localhost) and client certificate made with
 * openssl in a temp dir when this file runs; nothing is committed.
 *
 * Does not cover: IPv6 (the CI machine may have no ::1), SIP parsing or responses (stack tests), host names.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TransportLayer } from '../../src/sip/transport/transport-layer.js';
import { canBindTcp } from '../helpers/cli-process.js';
import type { InboundFrame, ListenSpec, SendTarget, TlsOptions } from '../../src/sip/transport/types.js';

const logger = pino({ level: process.env.VMPILOT_TEST_LOG ?? 'silent' });

// ------------------------------------------------------------------------------------------------ helpers

interface Certs {
  dir: string;
  ca: Buffer;
  serverCert: Buffer;
  serverKey: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
}

function makeCerts(): Certs {
  const dir = mkdtempSync(join(tmpdir(), 'vmpilot-transport-tls-'));
  const run = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=transport test CA', '-keyout', 'ca.key', '-out', 'ca.crt']);
  const signed = (name: string, ext: string): void => {
    run(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`]);
    writeFileSync(join(dir, `${name}.cnf`), ext);
    run(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', `${name}.cnf`, '-out', `${name}.crt`]);
  };
  signed('localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  signed('pbx-client', 'extendedKeyUsage=clientAuth\n');
  const read = (f: string): Buffer => readFileSync(join(dir, f));
  return {
    dir,
    ca: read('ca.crt'),
    serverCert: read('localhost.crt'),
    serverKey: read('localhost.key'),
    clientCert: read('pbx-client.crt'),
    clientKey: read('pbx-client.key'),
  };
}

/** A TransportLayer that records what it receives and every error it reports; closed after each test. */
interface Harness {
  layer: TransportLayer;
  frames: InboundFrame[];
  framingErrors: string[];
  sendErrors: { target: SendTarget; err: Error }[];
  port(transport: 'udp' | 'tcp' | 'tls'): number;
}

const open: TransportLayer[] = [];

async function harness(specs: ListenSpec[], opts: Partial<ConstructorParameters<typeof TransportLayer>[0]> = {}): Promise<Harness> {
  const layer = new TransportLayer({ logger, ...opts });
  open.push(layer);
  const h: Harness = {
    layer,
    frames: [],
    framingErrors: [],
    sendErrors: [],
    port: (transport) => {
      const spec = layer.bound().find((s) => s.transport === transport);
      if (!spec) throw new Error(`no ${transport} listener`);
      return spec.port;
    },
  };
  layer.onFrame = (f) => h.frames.push(f);
  layer.onFramingError = (_flow, reason) => h.framingErrors.push(reason);
  layer.onSendError = (target, err) => h.sendErrors.push({ target, err });
  await layer.listen(specs);
  return h;
}

const on = (transport: 'udp' | 'tcp' | 'tls', port = 0): ListenSpec => ({ transport, host: '127.0.0.1', port });

async function waitFor(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function sipMessage(id: string, body = ''): string {
  return [
    `OPTIONS sip:8000@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK${id}`,
    `Call-ID: ${id}`,
    'CSeq: 1 OPTIONS',
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

const text = (f: InboundFrame): string => f.data.toString('latin1');

/** A bare stream client (TCP, or TLS with options) that records what it reads and when it is closed. */
class StreamClient {
  received = '';
  closed = false;
  error?: Error;

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => (this.received += d.toString('latin1')));
    socket.on('error', (err) => (this.error = err));
    socket.on('close', () => (this.closed = true));
  }

  static tcp(port: number): Promise<StreamClient> {
    return new Promise((resolve, reject) => {
      const socket = netConnect(port, '127.0.0.1');
      socket.once('connect', () => resolve(new StreamClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Resolves after the client's side of the handshake (with TLS 1.3 the server may still refuse it after). */
  static tls(port: number, options: ConnectionOptions): Promise<StreamClient> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({ port, host: '127.0.0.1', ...options });
      socket.once('secureConnect', () => resolve(new StreamClient(socket)));
      socket.once('error', reject);
    });
  }

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  close(): void {
    this.socket.destroy();
  }
}

const clients: StreamClient[] = [];
async function client(port: number): Promise<StreamClient> {
  const c = await StreamClient.tcp(port);
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(open.splice(0).map((l) => l.close()));
});

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// ---------------------------------------------------------------------------------------------------- UDP

describe('UDP (RFC 3261 §18.1.1, §18.2.1)', () => {
  it('delivers a datagram as one frame with its flow, and sends back to that flow', async () => {
    const h = await harness([on('udp')]);
    const peer = createSocket('udp4');
    await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', resolve));
    const replies: string[] = [];
    peer.on('message', (d) => replies.push(d.toString('latin1')));
    try {
      peer.send(Buffer.from(sipMessage('u1')), h.port('udp'), '127.0.0.1');
      await waitFor(() => h.frames.length === 1, 'the datagram');
      const { flow } = h.frames[0];
      expect(text(h.frames[0])).toBe(sipMessage('u1'));
      expect(flow).toMatchObject({ transport: 'udp', remoteAddress: '127.0.0.1', remotePort: peer.address().port, localAddress: '127.0.0.1', localPort: h.port('udp') });
      expect(typeof h.frames[0].receivedAt).toBe('bigint');

      h.layer.send({ transport: 'udp', address: flow.remoteAddress, port: flow.remotePort }, Buffer.from('SIP/2.0 200 OK\r\n\r\n'));
      await waitFor(() => replies.length === 1, 'the reply');
      expect(replies[0]).toBe('SIP/2.0 200 OK\r\n\r\n');
    } finally {
      peer.close();
    }
  });

  it('ignores keep-alive datagrams: CRLFs, whitespace and STUN', async () => {
    const h = await harness([on('udp')]);
    const peer = createSocket('udp4');
    try {
      const stunBindingRequest = Buffer.from('000100002112a442000000000000000000000000', 'hex');
      for (const d of [Buffer.from('\r\n\r\n'), Buffer.from('\r\n'), Buffer.from(' \t\r\n'), stunBindingRequest]) peer.send(d, h.port('udp'), '127.0.0.1');
      peer.send(Buffer.from(sipMessage('after-keepalives')), h.port('udp'), '127.0.0.1');
      await waitFor(() => h.frames.length >= 1, 'the message');
      await sleep(50);
      expect(h.frames.map(text)).toEqual([sipMessage('after-keepalives')]);
    } finally {
      peer.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------- TCP

describe('TCP framing (RFC 3261 §18.3)', () => {
  it('delivers two messages written in one write as two frames from one connection', async () => {
    const h = await harness([on('tcp')]);
    const c = await client(h.port('tcp'));
    c.write(sipMessage('a', 'first body') + sipMessage('b'));
    await waitFor(() => h.frames.length === 2, 'two frames');
    expect(h.frames.map(text)).toEqual([sipMessage('a', 'first body'), sipMessage('b')]);
    expect(h.frames[0].flow).toMatchObject({ transport: 'tcp', remoteAddress: '127.0.0.1', remotePort: c.localPort, localPort: h.port('tcp') });
    expect(h.frames[0].flow.connectionId).toBeDefined();
    expect(h.frames[1].flow.connectionId).toBe(h.frames[0].flow.connectionId);
  });

  it('delivers one message written one byte at a time as one frame', async () => {
    const h = await harness([on('tcp')]);
    const c = await client(h.port('tcp'));
    const bytes = Buffer.from(sipMessage('slow', 'v=0\r\n'));
    for (let i = 0; i < bytes.length; i++) {
      c.write(bytes.subarray(i, i + 1));
      if (i % 4 === 0) await sleep(1);
    }
    await waitFor(() => h.frames.length === 1, 'the frame');
    expect(text(h.frames[0])).toBe(sipMessage('slow', 'v=0\r\n'));
  });

  it('answers a CRLFCRLF ping with a single CRLF pong (RFC 5626 §3.5.1) and keeps the connection', async () => {
    const h = await harness([on('tcp')]);
    const c = await client(h.port('tcp'));
    c.write('\r\n\r\n');
    await waitFor(() => c.received === '\r\n', 'the pong');
    c.write(sipMessage('after-ping'));
    await waitFor(() => h.frames.length === 1, 'the message after the ping');
    await sleep(30);
    expect(c.received).toBe('\r\n');
    expect(c.closed).toBe(false);
  });

  it('closes a connection whose message has no Content-Length, and reports the framing error', async () => {
    const h = await harness([on('tcp')]);
    const c = await client(h.port('tcp'));
    c.write(sipMessage('no-cl').replace('Content-Length: 0\r\n', ''));
    await waitFor(() => c.closed, 'the connection to close');
    expect(h.framingErrors).toEqual([expect.stringMatching(/Content-Length/)]);
    expect(h.frames).toEqual([]);
    // Others are still served.
    const good = await client(h.port('tcp'));
    good.write(sipMessage('good'));
    await waitFor(() => h.frames.length === 1, 'a message on another connection');
  });

  it('closes a connection that sends a Content-Length over maxMessageBytes', async () => {
    const h = await harness([on('tcp')]);
    const c = await client(h.port('tcp'));
    c.write(sipMessage('big').replace('Content-Length: 0', 'Content-Length: 70000'));
    await waitFor(() => c.closed, 'the connection to close');
    expect(h.framingErrors).toEqual([expect.stringMatching(/larger than 65535/)]);
  });

  it('closes a connection whose header section grows past maxMessageBytes without ending', async () => {
    const h = await harness([on('tcp')], { maxMessageBytes: 4096 });
    const c = await client(h.port('tcp'));
    c.write(`OPTIONS sip:8000@127.0.0.1 SIP/2.0\r\nX-Padding: ${'a'.repeat(5000)}`);
    await waitFor(() => c.closed, 'the connection to close');
    expect(h.framingErrors).toEqual([expect.stringMatching(/header section exceeds 4096/)]);
  });
});

describe('TCP connections', () => {
  it('sends to an inbound flow over the same socket: by address and port, and by connectionId', async () => {
    const h = await harness([on('tcp')]);
    const c = await client(h.port('tcp'));
    c.write(sipMessage('in'));
    await waitFor(() => h.frames.length === 1, 'the request');
    const { flow } = h.frames[0];

    h.layer.send({ transport: 'tcp', address: '127.0.0.1', port: c.localPort }, Buffer.from('SIP/2.0 100 Trying\r\nContent-Length: 0\r\n\r\n'));
    // As the stack answers over TCP: to the Via port (here 5060, where nobody listens) but on the connection.
    h.layer.send({ transport: 'tcp', address: '127.0.0.1', port: 5060, connectionId: flow.connectionId }, Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n'));
    await waitFor(() => c.received.includes('200 OK'), 'both responses on the client socket');
    expect(c.received).toBe('SIP/2.0 100 Trying\r\nContent-Length: 0\r\n\r\nSIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n');
    expect(h.sendErrors).toEqual([]);
    expect(h.layer.stats().connections).toBe(1);
  });

  it('opens a connection on send, queues what is sent while connecting, and receives the answer on it', async () => {
    const server = await harness([on('tcp')]);
    const caller = await harness([on('tcp')]);
    const target: SendTarget = { transport: 'tcp', address: '127.0.0.1', port: server.port('tcp') };
    caller.layer.send(target, Buffer.from(sipMessage('q1')));
    caller.layer.send(target, Buffer.from(sipMessage('q2', 'body')));
    await waitFor(() => server.frames.length === 2, 'both queued messages');
    expect(server.frames.map(text)).toEqual([sipMessage('q1'), sipMessage('q2', 'body')]);
    expect(caller.layer.stats().connections).toBe(1);

    const { flow } = server.frames[0];
    server.layer.send({ transport: 'tcp', address: flow.remoteAddress, port: 5060, connectionId: flow.connectionId }, Buffer.from(sipMessage('answer')));
    await waitFor(() => caller.frames.length === 1, 'the answer');
    expect(text(caller.frames[0])).toBe(sipMessage('answer'));
    expect(caller.frames[0].flow).toMatchObject({ transport: 'tcp', remoteAddress: '127.0.0.1', remotePort: server.port('tcp') });
    // A second send reuses the connection rather than opening another.
    caller.layer.send(target, Buffer.from(sipMessage('q3')));
    await waitFor(() => server.frames.length === 3, 'the third message');
    expect(server.frames[2].flow.connectionId).toBe(flow.connectionId);
    expect(caller.layer.stats().connections).toBe(1);
    // Via/Contact name the listening port, not the outbound connection's ephemeral one.
    expect(caller.layer.localEndpoint(target)).toEqual({ address: '127.0.0.1', port: caller.port('tcp') });
  });

  it('reports a refused connection to onSendError for every message queued on it', async () => {
    const h = await harness([on('tcp')]);
    const port = await freePort();
    h.layer.send({ transport: 'tcp', address: '127.0.0.1', port }, Buffer.from(sipMessage('x1')));
    h.layer.send({ transport: 'tcp', address: '127.0.0.1', port }, Buffer.from(sipMessage('x2')));
    await waitFor(() => h.sendErrors.length === 2, 'two send errors');
    expect(h.sendErrors[0].err.message).toMatch(/ECONNREFUSED/);
    expect(h.sendErrors[0].target.port).toBe(port);
    expect(h.layer.stats()).toMatchObject({ connections: 0, sockets: 0 });
  });

  it('refuses connections beyond maxConnections and keeps serving the ones it has', async () => {
    const h = await harness([on('tcp')], { maxConnections: 2 });
    const a = await client(h.port('tcp'));
    const b = await client(h.port('tcp'));
    await waitFor(() => h.layer.stats().connections === 2, 'two connections');
    const c = await client(h.port('tcp'));
    await waitFor(() => c.closed, 'the third connection to be closed');
    a.write(sipMessage('a'));
    b.write(sipMessage('b'));
    await waitFor(() => h.frames.length === 2, 'messages on the first two');
    // A slot comes back when a connection closes.
    a.close();
    await waitFor(() => h.layer.stats().sockets === 1, 'the slot to be released');
    const d = await client(h.port('tcp'));
    d.write(sipMessage('d'));
    await waitFor(() => h.frames.length === 3, 'a message on the new connection');
  });

  it('closes a connection idle for idleTimeoutMs', async () => {
    const h = await harness([on('tcp')], { idleTimeoutMs: 150 });
    const c = await client(h.port('tcp'));
    const start = Date.now();
    await waitFor(() => c.closed, 'the idle connection to close', 3000);
    expect(Date.now() - start).toBeGreaterThanOrEqual(120);
  });

  it('closes a connection whose peer stops reading once maxBufferedBytes are waiting, and reports it', async () => {
    const h = await harness([on('tcp')], { maxBufferedBytes: 64 * 1024 });
    const c = await client(h.port('tcp'));
    c.socket.pause();
    c.write(sipMessage('hello'));
    await waitFor(() => h.frames.length === 1, 'the first message');
    const target: SendTarget = { transport: 'tcp', address: '127.0.0.1', port: c.localPort, connectionId: h.frames[0].flow.connectionId };
    const chunk = Buffer.from(sipMessage('flood', 'x'.repeat(8000)));
    // Errors are reported after send() returns; let each one in before the next send.
    for (let i = 0; i < 2000 && h.sendErrors.length === 0; i++) {
      h.layer.send(target, chunk);
      await Promise.resolve();
    }
    expect(h.sendErrors.length).toBe(1);
    expect(h.sendErrors[0].err.message).toMatch(/unsent/);
    await waitFor(() => h.layer.stats().connections === 0, 'the stuck connection to be closed');
  });
});

// ---------------------------------------------------------------------------------------------------- TLS

describe('TLS (RFC 3261 §26.2.1)', () => {
  let certs: Certs;
  let serverTls: TlsOptions;
  beforeAll(() => {
    certs = makeCerts();
    serverTls = { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca };
  });

  it('carries messages both ways, the server verified against our CA', async () => {
    const server = await harness([on('tls')], { tls: serverTls });
    const caller = await harness([on('tls')], { tls: serverTls });
    caller.layer.send({ transport: 'tls', address: '127.0.0.1', port: server.port('tls') }, Buffer.from(sipMessage('tls1', 'secret')));
    await waitFor(() => server.frames.length === 1, 'the message over TLS');
    expect(text(server.frames[0])).toBe(sipMessage('tls1', 'secret'));
    const { flow } = server.frames[0];
    expect(flow.transport).toBe('tls');
    server.layer.send({ transport: 'tls', address: flow.remoteAddress, port: 5061, connectionId: flow.connectionId }, Buffer.from(sipMessage('tls-answer')));
    await waitFor(() => caller.frames.length === 1, 'the answer over TLS');
    expect(text(caller.frames[0])).toBe(sipMessage('tls-answer'));
    expect(caller.sendErrors).toEqual([]);
  });

  it('refuses to send to a server whose certificate does not chain to our CA', async () => {
    const server = await harness([on('tls')], { tls: serverTls });
    const caller = await harness([on('udp')], { tls: { cert: certs.serverCert, key: certs.serverKey } }); // no ca: default roots
    caller.layer.send({ transport: 'tls', address: '127.0.0.1', port: server.port('tls') }, Buffer.from(sipMessage('untrusted')));
    await waitFor(() => caller.sendErrors.length === 1, 'the verification failure');
    expect(caller.sendErrors[0].err.message).toMatch(/certificate/i);
    expect(server.frames).toEqual([]);
  });

  it('answers a CRLFCRLF ping over TLS', async () => {
    const server = await harness([on('tls')], { tls: serverTls });
    const c = await StreamClient.tls(server.port('tls'), { ca: certs.ca, servername: 'localhost' });
    clients.push(c);
    c.write('\r\n\r\n');
    await waitFor(() => c.received === '\r\n', 'the pong');
  });

  describe('with requireClientCert', () => {
    it('refuses a client that presents no certificate', async () => {
      const server = await harness([on('tls')], { tls: { ...serverTls, requireClientCert: true } });
      const c = await StreamClient.tls(server.port('tls'), { ca: certs.ca, servername: 'localhost' }).catch(() => undefined);
      if (c) {
        clients.push(c);
        c.write(sipMessage('anonymous'));
        await waitFor(() => c.closed, 'the server to drop the connection');
      }
      await sleep(50);
      expect(server.frames).toEqual([]);
    });

    it('accepts a client with a certificate signed by the CA', async () => {
      const server = await harness([on('tls')], { tls: { ...serverTls, requireClientCert: true } });
      const c = await StreamClient.tls(server.port('tls'), { ca: certs.ca, servername: 'localhost', cert: certs.clientCert, key: certs.clientKey });
      clients.push(c);
      c.write(sipMessage('with-cert'));
      await waitFor(() => server.frames.length === 1, 'the message from the authenticated client');
      expect(text(server.frames[0])).toBe(sipMessage('with-cert'));
    });

    it('accepts an outbound TransportLayer connection, which presents our certificate', async () => {
      const server = await harness([on('tls')], { tls: { ...serverTls, requireClientCert: true } });
      const caller = await harness([on('udp')], { tls: { cert: certs.clientCert, key: certs.clientKey, ca: certs.ca } });
      caller.layer.send({ transport: 'tls', address: '127.0.0.1', port: server.port('tls') }, Buffer.from(sipMessage('mutual')));
      await waitFor(() => server.frames.length === 1, 'the message over mutual TLS');
    });
  });

  it('rejects listen() with an unusable certificate, and leaves nothing bound', async () => {
    const tcpPort = await freePort();
    const layer = new TransportLayer({ logger, tls: { cert: 'not a certificate', key: certs.serverKey } });
    open.push(layer);
    await expect(layer.listen([on('tcp', tcpPort), on('tls')])).rejects.toThrow(/cannot listen on tls:127\.0\.0\.1:0: the TLS certificate or key is unusable/);
    expect(layer.bound()).toEqual([]);
    expect(await canBindTcp(tcpPort)).toBe(true);
  });
});

// ----------------------------------------------------------------------------------------------- binding

describe('listen, localEndpoint and close', () => {
  let busy: Server;
  let busyPort: number;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    busyPort = (busy.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

  it('rejects listen() on a port in use with a clear error, and leaves nothing bound', async () => {
    const tcpPort = await freePort();
    const layer = new TransportLayer({ logger });
    open.push(layer);
    await expect(layer.listen([on('tcp', tcpPort), on('udp'), on('tcp', busyPort)])).rejects.toThrow(
      `cannot listen on tcp:127.0.0.1:${busyPort}: address already in use (EADDRINUSE)`,
    );
    expect(layer.bound()).toEqual([]);
    expect(await canBindTcp(tcpPort)).toBe(true);
  });

  it('reports bound ports with ephemeral ones resolved, in listen order', async () => {
    const h = await harness([on('udp'), on('tcp')]);
    const bound = h.layer.bound();
    expect(bound.map((b) => [b.transport, b.host])).toEqual([
      ['udp', '127.0.0.1'],
      ['tcp', '127.0.0.1'],
    ]);
    expect(bound.every((b) => b.port > 0)).toBe(true);
  });

  it('gives the bound address in localEndpoint, and the route source address for a wildcard socket', async () => {
    const bound = await harness([on('udp')]);
    expect(bound.layer.localEndpoint({ transport: 'udp', address: '127.0.0.1', port: 5060 })).toEqual({ address: '127.0.0.1', port: bound.port('udp') });
    const wildcard = await harness([{ transport: 'udp', host: '0.0.0.0', port: 0 }]);
    expect(wildcard.layer.localEndpoint({ transport: 'udp', address: '127.0.0.2', port: 5060 })).toEqual({ address: '127.0.0.1', port: wildcard.port('udp') });
  });

  it('close() is idempotent and leaves no handle: a process that used every transport exits by itself', async () => {
    const certs = makeCerts();
    const script = `
      import pino from 'pino';
      import { connect } from 'node:net';
      import { TransportLayer } from './src/sip/transport/transport-layer.js';
      const tls = { cert: ${JSON.stringify(certs.serverCert.toString())}, key: ${JSON.stringify(certs.serverKey.toString())}, ca: ${JSON.stringify(certs.ca.toString())} };
      const layer = new TransportLayer({ logger: pino({ level: 'silent' }), tls });
      const frames = [];
      layer.onFrame = (f) => frames.push(f);
      await layer.listen([{ transport: 'udp', host: '0.0.0.0', port: 0 }, { transport: 'tcp', host: '127.0.0.1', port: 0 }, { transport: 'tls', host: '127.0.0.1', port: 0 }]);
      const port = (t) => layer.bound().find((b) => b.transport === t).port;
      const msg = Buffer.from('OPTIONS sip:a@127.0.0.1 SIP/2.0\\r\\nContent-Length: 0\\r\\n\\r\\n');
      layer.send({ transport: 'udp', address: '127.0.0.1', port: port('udp') }, msg);
      layer.send({ transport: 'tcp', address: '127.0.0.1', port: port('tcp') }, msg);
      layer.send({ transport: 'tls', address: '127.0.0.1', port: port('tls') }, msg);
      layer.localEndpoint({ transport: 'udp', address: '127.0.0.3', port: 5060 });
      const idle = connect(port('tcp'), '127.0.0.1'); idle.on('error', () => {});
      const handshaking = connect(port('tls'), '127.0.0.1'); handshaking.on('error', () => {});
      const deadline = Date.now() + 5000;
      while (frames.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await Promise.all([layer.close(), layer.close()]);
      console.log('frames=' + frames.length + ' stats=' + JSON.stringify(layer.stats()));
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const started = Date.now();
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(null);
      }, 15_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(err).toBe('');
    expect(code, `the child did not exit by itself (stdout: ${out})`).toBe(0);
    expect(out.trim()).toBe('frames=3 stats={"connections":0,"sockets":0,"udpSockets":1,"untrustedSources":0,"heldBytes":0,"maxHeldBytes":0}');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
