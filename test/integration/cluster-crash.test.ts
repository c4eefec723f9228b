/**
 * A worker killed during a deposit, behind the front door: `vmpilot serve` with two local workers (real CLI,
 * real processes, one store), a SIPp caller leaving a message on worker 0 and another call held on worker 1,
 * a SIPp UAS as the PBX's MWI target.
 *
 * Covers: worker 0 SIGKILLed about 3 s into a recording: the call on worker 1 goes on and ends normally; the
 * front door restarts worker 0, whose start-up repair re-attaches the cut-off recording (its predecessor's
 * folder: that process is gone); the PBX's lamp then gets exactly one NOTIFY 1/0 (0/0), from the front door.
 * Does not cover: what the repair keeps in detail (store repair tests, vm-e2e.test.ts), 200 held calls (the
 * issue's bench scenario).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeLayout } from '../../src/store/layout.js';
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

describe('a worker killed during a deposit', () => {
  it('ends only its own call; its restarted successor keeps the message and the lamp gets exactly one NOTIFY', async () => {
    const [victim] = cluster.workers();
    const pbx = runSipp({ scenario: 'uas-e2e-mwi-one-new.xml', transport: 'udp', port: cluster.port, timeoutS: 60, extra: ['-p', String(pbxPort), '-m', '1'] });
    const deposit = runSipp({
      scenario: 'uac-e2e-deposit-crash.xml',
      transport: 'udp',
      port: workerPort(cluster, 0),
      timeoutS: 30,
      extra: ['-key', 'vm_from', '"Bob" <sip:27001@127.0.0.1>', '-key', 'vm_header', 'Diversion: <sip:27000@127.0.0.1>;reason=no-answer;counter=1'],
    });
    // The recording has started when a WAV appears in a process's folder under tmp/ (after the beep).
    const tmp = storeLayout(cluster.dir).tmpDir;
    const end = Date.now() + 20_000;
    while (!(await readdir(tmp, { recursive: true }).catch(() => [] as string[])).some((f) => /(^|\/)vm-[^/]*\.wav$/.test(f))) {
      if (Date.now() > end) throw new Error('no recording started');
      await sleep(20);
    }
    await sleep(2500);
    const other = runSipp({ scenario: 'uac-long-call.xml', transport: 'udp', port: workerPort(cluster, 1), timeoutS: 20 });
    await sleep(500);
    const from = cluster.records().length;
    process.kill(victim!.workerPid, 'SIGKILL');

    expect((await other).successful).toBe(1);
    expect((await deposit).failed).toBe(0);
    const repaired = await cluster.waitForLog((r) => r.msg === 'message store repaired after an unclean stop' && r.worker === 0, 'the restarted worker\'s repair', 45_000, from);
    expect((repaired.repair as { reattached: string[] }).reattached).toHaveLength(1);
    const lamp = await pbx;
    if (lamp.code !== 0) throw new Error(`the PBX did not get NOTIFY 1/0 (exit ${lamp.code}):\n${lamp.stdout.slice(-2000)}`);
    // Exactly once: a second NOTIFY, unanswered now, would be retransmitted (RFC 3261 Timer E) to this port.
    expect(await notifiesArrivingAt(pbxPort)).toEqual([]);
  }, 90_000);
});
