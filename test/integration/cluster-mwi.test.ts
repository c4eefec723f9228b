/**
 * One lamp behind the front door (issue 13, "one store, one lamp"): `vmpilot serve` with two local workers
 * (real CLI, real processes, one store); a message left on either worker lights the PBX's lamp with exactly
 * one NOTIFY, sent by the front door (workers run without MWI). The PBX is a SIPp UAS on the MWI target
 * port; each deposit is a SIPp call sent straight to one worker's port (a worker is an ordinary server).
 *
 * Covers: a deposit on worker 0 → one NOTIFY 1/0 (0/0); then a deposit on worker 1 → one NOTIFY 2/0 (0/0);
 * no second NOTIFY after either (a raw socket on the PBX port: an unanswered duplicate would be retransmitted
 * there).
 * Does not cover: SUBSCRIBE at the front door (the MWI service's own tests; the redirector hands SUBSCRIBE
 * to it), deposits through the 302 (cluster.test.ts shows calls following it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../helpers/cli-process.js';
import { notifiesArrivingAt } from '../helpers/raw-peer.js';
import { runSipp } from '../helpers/sipp.js';
import { pbxWithMwiYaml, startCluster, workerPort, type Cluster } from '../helpers/cluster.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let cluster: Cluster;
let pbxPort: number;

beforeAll(async () => {
  pbxPort = await freeUdpPort();
  cluster = await startCluster({
    workers: 2,
    extraYaml: pbxWithMwiYaml(pbxPort),
  });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
});

/** A message left for 27000 by a call sent straight to `worker`, while the PBX expects `uasScenario`. */
async function depositOn(worker: number, uasScenario: string): Promise<void> {
  const pbx = runSipp({ scenario: uasScenario, transport: 'udp', port: cluster.port, timeoutS: 30, extra: ['-p', String(pbxPort), '-m', '1'] });
  await sleep(300); // SIPp binds its port
  const port = workerPort(cluster, worker);
  const from = cluster.records().length;
  const caller = await runSipp({
    scenario: 'uac-vm-deposit.xml',
    transport: 'udp',
    port,
    timeoutS: 30,
    extra: ['-key', 'vm_from', '"Bob" <sip:27001@127.0.0.1>', '-key', 'vm_header', 'Diversion: <sip:27000@127.0.0.1>;reason=no-answer;counter=1'],
  });
  if (caller.code !== 0) throw new Error(`the deposit call failed (exit ${caller.code}):\n${caller.stdout.slice(-2000)}`);
  expect(cluster.records().slice(from).find((r) => r.msg === 'call received')?.worker).toBe(worker);
  const result = await pbx;
  if (result.code !== 0) throw new Error(`the PBX did not get the NOTIFY it expected (exit ${result.code}):\n${result.stdout.slice(-2000)}`);
  expect(result.successful).toBe(1);
  // Exactly once: a second NOTIFY, unanswered now, would be retransmitted (RFC 3261 Timer E) to this port.
  expect(await notifiesArrivingAt(pbxPort)).toEqual([]);
}

describe('MWI behind the front door', () => {
  it('a deposit on worker 0 lights the lamp with exactly one NOTIFY (1/0)', async () => {
    await depositOn(0, 'uas-e2e-mwi-one-new.xml');
  }, 60_000);

  it('a deposit on worker 1 updates it with exactly one NOTIFY (2/0)', async () => {
    await depositOn(1, 'uas-e2e-mwi-two-new.xml');
  }, 60_000);
});
