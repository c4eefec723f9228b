/**
 * A front door with a remote worker (cluster.remote): the front door runs in the test process with no local
 * workers; the "remote" worker is an ordinary vmpilot server on another port (startTestServer), as it would
 * be on another host.
 *
 * Covers: the remote worker health-checked by OPTIONS and, once up, redirected to like a local one (the 302
 * names the host and port of its URI, the request's transport); the remote worker stopped: out of the
 * rotation after two missed checks, then INVITE and OPTIONS at the front door get 503.
 * Does not cover: a remote worker answering 5xx to OPTIONS (out at once; unit-level logic in
 * remote-workers.ts), remote workers beside local ones (cluster-health.test.ts covers the choice).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startFrontDoor, type RunningFrontDoor } from '../../src/cluster/front-door.js';
import { CHECK_INTERVAL_MS, CHECK_TIMEOUT_MS, MISSES_ALLOWED } from '../../src/cluster/remote-workers.js';
import { WorkerState } from '../../src/cluster/health.js';
import { invite, options, RawUdpPeer } from '../helpers/raw-peer.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/test-server.js';
import { ackForFinal, statusAndContact } from '../helpers/cluster.js';

let remote: TestServer;
let frontDoor: RunningFrontDoor;
let peer: RawUdpPeer;
let remoteStopped = false;

beforeAll(async () => {
  remote = await startTestServer();
  const dir = mkdtempSync(join(tmpdir(), 'vmpilot-front-door-'));
  const config = parseConfig(
    `
sip: { listen: ["udp:127.0.0.1:0"] }
storage: { dir: ${JSON.stringify(dir)} }
http: false
cluster: { workers: 0, remote: ["sip:127.0.0.1:${remote.port('udp')}"] }
`,
    dir,
  );
  frontDoor = await startFrontDoor(config, pino({ level: process.env.VMPILOT_TEST_LOG ?? 'silent' }), {
    workers: 0,
    fork: () => {
      throw new Error('no local workers in this test');
    },
  });
  peer = await RawUdpPeer.open();
  await waitFor(() => frontDoor.workers.all()[0]?.state === WorkerState.Ready, 'the remote worker checked and up');
}, 30_000);

afterAll(async () => {
  peer?.close();
  await frontDoor?.close();
  if (!remoteStopped) await remote?.stop();
});

const frontDoorPort = (): number => frontDoor.addresses().find((a) => a.transport === 'udp')!.port;
let seq = 0;

async function finalFor(): Promise<string> {
  const callId = `remote-${++seq}`;
  const text = invite({ port: peer.port, callId });
  const from = peer.received.length;
  await peer.send(frontDoorPort(), text);
  const final = await peer.waitFor((t) => /^SIP\/2\.0 [2-6]\d\d /.test(t) && t.includes(`Call-ID: ${callId}\r\n`), 3000, from);
  await peer.send(frontDoorPort(), ackForFinal(text, final.text));
  return final.text;
}

async function optionsStatus(): Promise<number> {
  const callId = `remote-opt-${++seq}`;
  await peer.send(frontDoorPort(), options({ port: peer.port, callId }));
  return statusAndContact((await peer.waitFor((t) => t.includes(`Call-ID: ${callId}\r\n`))).text).status;
}

describe('a remote worker', () => {
  it('is redirected to once its OPTIONS check succeeds: the 302 names its host and port', async () => {
    const { status, contact } = statusAndContact(await finalFor());
    expect(status).toBe(302);
    expect(contact).toBe(`sip:8000@127.0.0.1:${remote.port('udp')}`);
    expect(await optionsStatus()).toBe(200);
  });

  it('is out of the rotation after two missed checks; the front door then answers 503', async () => {
    await remote.stop();
    remoteStopped = true;
    const bound = MISSES_ALLOWED * CHECK_INTERVAL_MS + CHECK_TIMEOUT_MS + 1_000;
    await waitFor(() => frontDoor.workers.all()[0]?.state === WorkerState.Dead, 'the remote worker down', bound);
    expect(statusAndContact(await finalFor()).status).toBe(503);
    expect(await optionsStatus()).toBe(503);
  }, 20_000);
});
