/**
 * Per-source admission (config sip.rateLimit, issue 9 item 9): strangers are limited, the PBX is not, and
 * responses never are.
 *
 * Covers: with perSourcePerSecond 20 and burst 20, a stranger on 127.0.0.2 (the PBX is 127.0.0.1 only) sending
 * 2,000 OPTIONS as fast as it can (from a worker thread, so that its sending does not share the server's event
 * loop) while the PBX sends one OPTIONS every 50 ms: every one of the PBX's OPTIONS is answered 200, and the
 * stranger gets at most burst + rate × elapsed answers (403s; at least one). 1,000 OPTIONS pipelined over one
 * TCP connection by the PBX are all answered 200 (trusted sources are not limited by default); with a trusted
 * limit configured, every one of them is still answered, 200 or 503 with Retry-After, none dropped (TCP peers
 * do not retransmit). A stack whose admission refuses everything still matches every 200 to its own requests.
 *
 * Does not cover: many flooding sources at once (the bucket map's size and expiry are unit-tested with the
 * limiter), kernel socket-buffer sizing, connection limits (stream-limits.test.ts).
 */
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { okFor, options as optionsFrom, RawTcpPeer, RawUdpPeer } from '../helpers/raw-peer.js';
import { Headers, createRequest } from '../../src/sip/message.js';
import { SipStack } from '../../src/sip/stack.js';
import { TransportLayer } from '../../src/sip/transport/transport-layer.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const RATE = 20;
const BURST = 20;
const FLOOD = 2000;

/** An OPTIONS from `host:port`; `id` makes its Call-ID and branch unique. */
const options = (host: string, port: number, id: string): string => optionsFrom({ host, port, callId: id });

interface FloodResult {
  sent: number;
  answers: number;
  firstSentAt: number;
  lastSentAt: number;
  lastAnswerAt: number;
}

/**
 * The flooder, run as a worker thread (CommonJS, eval'd). It sends every OPTIONS back to back, then listens
 * for another second and reports how many responses came back. Times are Date.now() (shared across threads).
 */
const FLOODER = `
const { parentPort, workerData } = require('node:worker_threads');
const dgram = require('node:dgram');
const { host, port, count, template } = workerData;
const socket = dgram.createSocket('udp4');
let answers = 0, lastAnswerAt = 0;
socket.on('message', (data) => {
  if (data.toString('latin1').startsWith('SIP/2.0 ')) { answers++; lastAnswerAt = Date.now(); }
});
socket.bind(0, host, () => {
  const local = socket.address().port;
  const firstSentAt = Date.now();
  let pending = count, sent = 0, lastSentAt = firstSentAt;
  for (let i = 0; i < count; i++) {
    const text = template.split('@PORT@').join(String(local)).split('@ID@').join('flood' + i + 'x' + process.pid);
    socket.send(Buffer.from(text, 'latin1'), port, '127.0.0.1', (err) => {
      if (!err) sent++;
      lastSentAt = Date.now();
      if (--pending === 0) setTimeout(() => {
        socket.close();
        parentPort.postMessage({ sent, answers, firstSentAt, lastSentAt, lastAnswerAt });
      }, 1000);
    });
  }
});
`;

function flood(port: number): Promise<FloodResult> {
  const template = options('127.0.0.2', 0, '@ID@').replace('127.0.0.2:0;', '127.0.0.2:@PORT@;');
  const worker = new Worker(FLOODER, { eval: true, workerData: { host: '127.0.0.2', port, count: FLOOD, template } });
  return new Promise((resolve, reject) => {
    worker.once('message', (m: FloodResult) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

describe('per-source rate limiting over UDP', () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer(
      'pbx: [{ name: mxone, addresses: ["127.0.0.1"] }]',
      `  rateLimit: { perSourcePerSecond: ${RATE}, burst: ${BURST} }`,
    );
  });
  afterAll(async () => {
    await ts.stop();
  });

  it('answers every OPTIONS of the PBX while a stranger floods, and throttles the stranger to its bucket', async () => {
    const port = ts.port('udp');
    const good = await RawUdpPeer.open('127.0.0.1');
    try {
      const ids: string[] = [];
      let flooding: Promise<FloodResult> | undefined;
      // 40 OPTIONS, one every 50 ms (exactly the configured rate); the flood starts with the fifth.
      for (let i = 0; i < 40; i++) {
        const id = `good${i}x${process.pid}`;
        ids.push(id);
        await good.send(port, options('127.0.0.1', good.port, id));
        if (i === 4) flooding = flood(port);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const result = await flooding!;

      const answered = (id: string): boolean => good.received.some((r) => r.text.startsWith('SIP/2.0 200') && r.text.includes(`Call-ID: ${id}\r\n`));
      await good.waitFor(() => ids.every(answered), 2000).catch(() => undefined);
      expect(ids.filter((id) => !answered(id)), 'good peer OPTIONS left unanswered').toEqual([]);

      expect(result.sent).toBe(FLOOD);
      const elapsedS = (Math.max(result.lastAnswerAt, result.lastSentAt) - result.firstSentAt) / 1000;
      const allowed = BURST + RATE * elapsedS;
      expect(result.answers).toBeGreaterThan(0);
      // Slack: a couple of tokens for clock granularity between the worker's and the server's timestamps.
      expect(result.answers).toBeLessThanOrEqual(Math.ceil(allowed) + 2);
    } finally {
      good.close();
    }
  });
});

/** Final statuses in a TCP byte stream, in order. */
function statuses(text: string): number[] {
  return [...text.matchAll(/^SIP\/2\.0 (\d{3}) /gm)].map((m) => Number(m[1]));
}

/** `count` OPTIONS in one write on one TCP connection from the PBX; resolves with every response's text. */
async function pipelined(port: number, count: number, tag: string): Promise<string> {
  const peer = await RawTcpPeer.open(port);
  try {
    const burst = Array.from({ length: count }, (_, i) => optionsFrom({ port: peer.localPort, callId: `${tag}${i}x${process.pid}`, transport: 'TCP' })).join('');
    peer.write(burst);
    const end = Date.now() + 15_000;
    while (statuses(peer.text).length < count && Date.now() < end && !peer.closed) await new Promise((resolve) => setTimeout(resolve, 20));
    return peer.text;
  } finally {
    peer.close();
  }
}

describe('the PBX over TCP', () => {
  it('gets every one of 1,000 pipelined OPTIONS answered 200 (trusted sources are not rate-limited)', async () => {
    const ts = await startTestServer('pbx: [{ name: mxone, addresses: ["127.0.0.1"] }]', `  rateLimit: { perSourcePerSecond: ${RATE}, burst: ${BURST} }`);
    try {
      const text = await pipelined(ts.port('tcp'), 1000, 'pipe');
      const got = statuses(text);
      expect(got.length).toBe(1000);
      expect(got.every((s) => s === 200)).toBe(true);
    } finally {
      await ts.stop();
    }
  }, 30_000);

  it('gets 503 with Retry-After, never silence, for what is over a configured trusted limit', async () => {
    const ts = await startTestServer(
      'pbx: [{ name: mxone, addresses: ["127.0.0.1"] }]',
      `  rateLimit: { perSourcePerSecond: ${RATE}, burst: ${BURST}, trusted: { perSourcePerSecond: ${RATE}, burst: ${BURST} } }`,
    );
    try {
      const text = await pipelined(ts.port('tcp'), 200, 'limited');
      const got = statuses(text);
      expect(got.length).toBe(200);
      expect(got.filter((s) => s === 200).length).toBeGreaterThanOrEqual(BURST);
      expect(got.filter((s) => s === 503).length).toBeGreaterThan(0);
      expect(got.every((s) => s === 200 || s === 503)).toBe(true);
      expect(text.match(/^SIP\/2\.0 503 [^\r]*\r\n(?:[^\r]+\r\n)*?Retry-After: *\d+\r\n/m)).not.toBeNull();
    } finally {
      await ts.stop();
    }
  }, 30_000);
});

describe('responses', () => {
  it('are matched to our requests even when admission refuses every request', async () => {
    const logger = pino({ level: 'silent' });
    const transport = new TransportLayer({ logger });
    await transport.listen([{ transport: 'udp', host: '127.0.0.1', port: 0 }]);
    const stack = new SipStack(transport, { logger, timers: { t1Ms: 100, t2Ms: 400, t4Ms: 200 }, userAgent: 'vmpilot-test', isTrusted: () => true, admit: () => false });
    const peer = await RawUdpPeer.open('127.0.0.1');
    const ourPort = transport.bound()[0]!.port;
    // The peer answers each of our requests 200, as a PBX answers our MWI NOTIFYs.
    const answering = setInterval(() => {
      for (const r of peer.received.splice(0)) if (!r.text.startsWith('SIP/2.0')) void peer.send(ourPort, okFor(r.text));
    }, 5);
    try {
      const COUNT = 50;
      let ok = 0;
      for (let i = 0; i < COUNT; i++) {
        const headers = new Headers();
        headers.set('from', `<sip:vmpilot@127.0.0.1>;tag=f${i}`);
        headers.set('to', '<sip:pbx@127.0.0.1>');
        headers.set('call-id', `resp-${i}-${process.pid}`);
        headers.set('cseq', '1 OPTIONS');
        headers.set('content-length', '0');
        stack.sendRequest(createRequest('OPTIONS', `sip:pbx@127.0.0.1:${peer.port}`, headers), { transport: 'udp', address: '127.0.0.1', port: peer.port }, {
          onResponse: (res) => {
            if (res.status === 200) ok++;
          },
          onTimeout: () => undefined,
          onTransportError: () => undefined,
        });
      }
      const end = Date.now() + 5000;
      while (ok < COUNT && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(ok).toBe(COUNT);
    } finally {
      clearInterval(answering);
      peer.close();
      stack.close();
      await transport.close();
    }
  });
});
