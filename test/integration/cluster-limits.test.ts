/**
 * A front door whose only worker is full or hung: `vmpilot serve` with `cluster: { workers: 1 }` and
 * `limits: { maxCalls: 1 }` (real CLI, real worker process), SIPp and a raw UDP peer as the PBX.
 *
 * Covers: with the worker at limits.maxCalls the front door answers INVITE with 503 and Retry-After and
 * OPTIONS with 503 (seed 003 §6: the PBX tries its next server), and the worker itself answers 503 to an
 * INVITE sent to it directly; both are 200/302 again once the call ended; a worker that stops reporting
 * (SIGSTOP) is out of the rotation within about a second (heartbeat deadline) and back in when it reports
 * again (SIGCONT after 3 s), not killed; one silent past HUNG_DEADLINE_MS is killed and restarted.
 *
 * Does not cover: limits.maxCalls in single-process mode beyond what the worker shows (the same server code),
 * several workers (cluster.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HUNG_DEADLINE_MS } from '../../src/cluster/ipc.js';
import { invite, options, RawUdpPeer } from '../helpers/raw-peer.js';
import { runSipp } from '../helpers/sipp.js';
import { ackForFinal, startCluster, statusAndContact, type Cluster } from '../helpers/cluster.js';

let cluster: Cluster;
let peer: RawUdpPeer;
let seq = 0;

beforeAll(async () => {
  cluster = await startCluster({ workers: 1, extraYaml: 'limits: { maxCalls: 1 }', drainSeconds: 1 });
  peer = await RawUdpPeer.open();
}, 90_000);

afterAll(async () => {
  peer?.close();
  await cluster?.stop();
});

/** The final response to an INVITE sent to `port` (ACKed when not a 2xx). */
async function finalFor(port: number): Promise<string> {
  const callId = `limits-${++seq}`;
  const text = invite({ port: peer.port, callId });
  const from = peer.received.length;
  await peer.send(port, text);
  const final = await peer.waitFor((t) => /^SIP\/2\.0 [2-6]\d\d /.test(t) && t.includes(`Call-ID: ${callId}\r\n`), 3000, from);
  if (!final.text.startsWith('SIP/2.0 2')) await peer.send(port, ackForFinal(text, final.text));
  return final.text;
}

async function optionsStatus(): Promise<number> {
  const callId = `limits-opt-${++seq}`;
  await peer.send(cluster.port, options({ port: peer.port, callId }));
  return statusAndContact((await peer.waitFor((t) => t.includes(`Call-ID: ${callId}\r\n`))).text).status;
}

/** Polls OPTIONS until it answers `status` (the front door learns of a change within a heartbeat). */
async function optionsBecomes(status: number, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while ((await optionsStatus()) !== status) {
    if (Date.now() - start > timeoutMs) throw new Error(`OPTIONS did not become ${status} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - start;
}

describe('a front door whose worker is full (limits.maxCalls)', () => {
  it('answers INVITE and OPTIONS with 503 and Retry-After; the worker itself refuses a direct INVITE with 503', async () => {
    const from = cluster.records().length;
    const call = runSipp({ scenario: 'uac-redirected-call.xml', transport: 'udp', port: cluster.port, calls: 1, timeoutS: 30, extra: ['-d', '4000'] });
    await cluster.waitForLog((r) => r.msg === 'call received', 'the held call on the worker', 10_000, from);
    await optionsBecomes(503, 1_000);

    const atFrontDoor = await finalFor(cluster.port);
    expect(atFrontDoor).toMatch(/^SIP\/2\.0 503 /);
    expect(atFrontDoor).toMatch(/\r\nRetry-After: *\d+/i);
    const workerPort = cluster.workers()[0]!.listen.find((l) => l.transport === 'udp')!.port;
    const atWorker = await finalFor(workerPort);
    expect(atWorker).toMatch(/^SIP\/2\.0 503 /);
    expect(atWorker).toMatch(/\r\nRetry-After: *\d+/i);

    expect((await call).successful).toBe(1);
    await optionsBecomes(200, 2_000);
    expect(statusAndContact(await finalFor(cluster.port)).status).toBe(302);
  }, 40_000);
});

describe('a front door whose worker stops reporting', () => {
  it('takes a worker that lags past a second out of the rotation and back in when it reports again, without killing it', async () => {
    const [worker] = cluster.workers();
    const from = cluster.records().length;
    const stoppedAt = Date.now();
    process.kill(worker!.workerPid, 'SIGSTOP');
    try {
      const silent = await cluster.waitForLog((r) => r.msg.startsWith('worker silent'), 'the silent worker out of rotation', 5_000, from);
      // The deadline is 1 s after the last report; reports come every 200 ms and the check runs every 200 ms.
      expect(Date.parse(silent.time) - stoppedAt).toBeLessThan(1_500);
      expect(await optionsStatus()).toBe(503);
      expect(await finalFor(cluster.port)).toMatch(/^SIP\/2\.0 503 /);
      // A loop that lags a few seconds (a machine short of CPU) and catches up.
      await new Promise((r) => setTimeout(r, 2_000));
    } finally {
      process.kill(worker!.workerPid, 'SIGCONT');
    }
    await cluster.waitForLog((r) => r.msg.startsWith('worker reporting again'), 'the worker back in rotation', 5_000, from);
    await optionsBecomes(200, 2_000);
    expect(statusAndContact(await finalFor(cluster.port)).status).toBe(302);
    expect(cluster.records().slice(from).some((r) => r.msg.startsWith('worker hung') || r.msg.startsWith('worker died'))).toBe(false);
    expect(cluster.workers()[0]!.workerPid).toBe(worker!.workerPid);
  }, 60_000);

  it('kills a worker silent past HUNG_DEADLINE_MS and starts another', async () => {
    const [worker] = cluster.workers();
    const from = cluster.records().length;
    const stoppedAt = Date.now();
    process.kill(worker!.workerPid, 'SIGSTOP');
    try {
      await cluster.waitForLog((r) => r.msg.startsWith('worker silent'), 'the silent worker out of rotation', 5_000, from);
      const hung = await cluster.waitForLog((r) => r.msg.startsWith('worker hung'), 'the hung worker killed', HUNG_DEADLINE_MS + 5_000, from);
      // Counted from the last report, up to a report interval (200 ms) before the stop: not killed at 1 s.
      expect(Date.parse(hung.time) - stoppedAt).toBeGreaterThan(HUNG_DEADLINE_MS - 500);
    } finally {
      try {
        process.kill(worker!.workerPid, 'SIGCONT');
      } catch {
        // Already killed by the front door, as it should be.
      }
    }
    const back = await cluster.waitForLog((r) => r.msg === 'worker ready' && r.workerPid !== worker!.workerPid, 'a new worker ready', 45_000, from);
    expect(back.workerPid).not.toBe(worker!.workerPid);
    await optionsBecomes(200, 2_000);
  }, 90_000);
});
