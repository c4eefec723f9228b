/**
 * Per-source admission (config sip.rateLimit): one source flooding the SIP port must not take the service
 * away from another, and gets no more answers than its token bucket allows.
 *
 * Covers: with perSourcePerSecond 20 and burst 20, a peer on 127.0.0.2 sending 2,000 OPTIONS as fast as it can
 * (from a worker thread, so that its sending does not share the server's event loop) while a peer on
 * 127.0.0.1 sends one OPTIONS every 50 ms: every one of the good peer's OPTIONS is answered 200, and the
 * flooder gets at most burst + rate × elapsed answers (and at least one: its OPTIONS are valid).
 *
 * Does not cover: TCP/TLS floods (connection limits are the transport's), many flooding sources at once
 * (the bucket map's size and expiry are unit-tested with the limiter), kernel socket-buffer sizing.
 */
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawUdpPeer } from '../helpers/raw-peer.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const RATE = 20;
const BURST = 20;
const FLOOD = 2000;

/** An OPTIONS from `host:port`; `id` makes its Call-ID and branch unique. */
function options(host: string, port: number, id: string): string {
  return [
    'OPTIONS sip:8000@127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/UDP ${host}:${port};branch=z9hG4bK${id};rport`,
    `From: <sip:pbx@${host}>;tag=t${id}`,
    'To: <sip:8000@127.0.0.1>',
    `Call-ID: ${id}`,
    'CSeq: 1 OPTIONS',
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

interface FloodResult {
  sent: number;
  answers: number;
  firstSentAt: number;
  lastSentAt: number;
  lastAnswerAt: number;
}

/**
 * The flooder, run as a worker thread (CommonJS, eval'd). It sends every OPTIONS back to back, then listens
 * for another second and reports how many 200s came back. Times are Date.now() (shared across threads).
 */
const FLOODER = `
const { parentPort, workerData } = require('node:worker_threads');
const dgram = require('node:dgram');
const { host, port, count, template } = workerData;
const socket = dgram.createSocket('udp4');
let answers = 0, lastAnswerAt = 0;
socket.on('message', (data) => {
  if (data.toString('latin1').startsWith('SIP/2.0 200')) { answers++; lastAnswerAt = Date.now(); }
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
      'pbx: [{ name: mxone, addresses: ["127.0.0.1", "127.0.0.2"] }]',
      `  rateLimit: { perSourcePerSecond: ${RATE}, burst: ${BURST} }`,
    );
  });
  afterAll(async () => {
    await ts.stop();
  });

  it('answers every OPTIONS of a well-behaved PBX while another source floods, and throttles the flooder to its bucket', async () => {
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
