/**
 * The 302 front door with two local workers, as an operator runs it: `vmpilot serve` with `cluster:` (the
 * real CLI, real worker processes), SIPp and raw UDP peers as the PBX.
 *
 * Covers: OPTIONS 200 while a worker can take calls; the 302 for an initial INVITE (RFC 3261 §8.3: Contact
 * with the dialled user and its parameters, the host the PBX reached, a worker's port) and the ACK that ends
 * its transaction (§17.2.1); SIPp following the 302 to a worker and completing calls there, on both workers;
 * 481 for an in-dialog request and 405 for an out-of-dialog BYE at the front door; a worker killed with
 * SIGKILL out of the rotation within 1 s, the next INVITEs sent to the live worker, the dead one restarted;
 * SIGTERM draining: 503 with Retry-After to INVITE and OPTIONS, the call in progress finished, exit 0.
 *
 * Does not cover: full workers and hung workers (cluster-limits.test.ts), TLS and baresip
 * (cluster-tls.test.ts), remote workers (cluster-remote.test.ts), MWI from the front door (mwi-service tests).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invite, options, RawUdpPeer } from '../helpers/raw-peer.js';
import { runSipp } from '../helpers/sipp.js';
import { ackForFinal, startCluster, statusAndContact, type Cluster } from '../helpers/cluster.js';

let cluster: Cluster;
let peer: RawUdpPeer;

beforeAll(async () => {
  cluster = await startCluster({ workers: 2 });
  peer = await RawUdpPeer.open();
}, 90_000);

afterAll(async () => {
  peer?.close();
  await cluster?.stop();
});

const udpPortOf = (w: { listen: { transport: string; port: number }[] }): number => w.listen.find((l) => l.transport === 'udp')!.port;

/** Sends an INVITE to the front door and returns its final response (the ACK is sent for a non-2xx). */
async function inviteFrontDoor(callId: string, requestUri?: string): Promise<string> {
  let text = invite({ port: peer.port, callId });
  if (requestUri) text = text.replace(/^INVITE \S+/, `INVITE ${requestUri}`);
  const from = peer.received.length;
  await peer.send(cluster.port, text);
  const final = await peer.waitFor((t) => /^SIP\/2\.0 [2-6]\d\d /.test(t) && t.includes(`Call-ID: ${callId}\r\n`), 3000, from);
  if (!final.text.startsWith('SIP/2.0 2')) await peer.send(cluster.port, ackForFinal(text, final.text));
  return final.text;
}

describe('the front door', () => {
  it('answers OPTIONS with 200 while a worker can take calls', async () => {
    await peer.send(cluster.port, options({ port: peer.port, callId: 'opt-1' }));
    const res = await peer.waitFor((t) => t.includes('Call-ID: opt-1\r\n'));
    expect(res.text).toMatch(/^SIP\/2\.0 200 /);
  });

  it('answers an initial INVITE with 302 whose Contact keeps the dialled user and its parameters, on a worker\'s port (RFC 3261 §8.3)', async () => {
    const res = await inviteFrontDoor('redirect-1', 'sip:+46855501@127.0.0.1;user=phone');
    const { status, contact } = statusAndContact(res);
    expect(status).toBe(302);
    const ports = cluster.workers().map(udpPortOf);
    expect(contact).toMatch(/^sip:\+46855501@127\.0\.0\.1:\d+;user=phone$/);
    expect(ports).toContain(Number(/:(\d+);/.exec(contact!)![1]));
  });

  it('stops retransmitting the 302 once the PBX acknowledges it (§17.2.1: the ACK ends the INVITE transaction)', async () => {
    const from = peer.received.length;
    await inviteFrontDoor('redirect-ack');
    // Timer G would resend the 302 after T1 (500 ms), then 1 s later.
    await new Promise((r) => setTimeout(r, 1_700));
    const copies = peer.received.slice(from).filter((r) => r.text.startsWith('SIP/2.0 302') && r.text.includes('Call-ID: redirect-ack\r\n'));
    expect(copies).toHaveLength(1);
  });

  it('SIPp following the 302 completes its calls on the workers, and both workers take calls', async () => {
    const from = cluster.records().length;
    const result = await runSipp({ scenario: 'uac-redirected-call.xml', transport: 'udp', port: cluster.port, calls: 6, rate: 6, timeoutS: 30, extra: ['-d', '500'] });
    expect(result.failed, result.stdout.slice(-1500)).toBe(0);
    expect(result.successful).toBe(6);
    const received = cluster.records().slice(from).filter((r) => r.msg === 'call received');
    expect(received).toHaveLength(6);
    const perWorker = [0, 1].map((w) => received.filter((r) => r.worker === w).length);
    expect(perWorker[0]).toBeGreaterThan(0);
    expect(perWorker[1]).toBeGreaterThan(0);
  });

  it('answers 481 to an in-dialog request that reaches it (the dialog lives on a worker), 405 to an out-of-dialog BYE', async () => {
    const bye = (callId: string, toTag: string): string =>
      [
        'BYE sip:8000@127.0.0.1 SIP/2.0',
        `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK${callId};rport`,
        `From: <sip:27000@127.0.0.1>;tag=f-${callId}`,
        `To: <sip:8000@127.0.0.1>${toTag}`,
        `Call-ID: ${callId}`,
        'CSeq: 2 BYE',
        'Max-Forwards: 70',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
    await peer.send(cluster.port, bye('bye-in-dialog', ';tag=abc'));
    expect((await peer.waitFor((t) => t.includes('Call-ID: bye-in-dialog\r\n'))).text).toMatch(/^SIP\/2\.0 481 /);
    await peer.send(cluster.port, bye('bye-no-dialog', ''));
    expect((await peer.waitFor((t) => t.includes('Call-ID: bye-no-dialog\r\n'))).text).toMatch(/^SIP\/2\.0 405 /);
  });

  it('takes a worker killed with SIGKILL out of the rotation within 1 s, sends the next INVITEs to the live worker, and restarts the dead one', async () => {
    const [victim, survivor] = cluster.workers();
    const from = cluster.records().length;
    const killedAt = Date.now();
    process.kill(victim!.workerPid, 'SIGKILL');
    const died = await cluster.waitForLog((r) => r.msg.startsWith('worker died') && r.worker === victim!.worker, 'the dead worker out of rotation', 5_000, from);
    expect(Date.parse(died.time) - killedAt).toBeLessThan(1_000);
    for (let i = 0; i < 4; i++) {
      const { status, contact } = statusAndContact(await inviteFrontDoor(`after-kill-${i}`));
      expect(status).toBe(302);
      expect(contact).toContain(`:${udpPortOf(survivor!)}`);
    }
    const back = await cluster.waitForLog((r) => r.msg === 'worker ready' && r.worker === victim!.worker, 'the restarted worker ready', 45_000, from);
    expect(back.workerPid).not.toBe(victim!.workerPid);
  }, 60_000);

  it('on SIGTERM answers INVITE and OPTIONS with 503 and Retry-After, lets the call in progress finish, then exits 0', async () => {
    const from = cluster.records().length;
    const call = runSipp({ scenario: 'uac-redirected-call.xml', transport: 'udp', port: cluster.port, calls: 1, timeoutS: 30, extra: ['-d', '3000'] });
    await cluster.waitForLog((r) => r.msg === 'call received', 'the call on a worker', 10_000, from);
    cluster.serving.child.kill('SIGTERM');
    await cluster.waitForLog((r) => r.msg.startsWith('draining: every worker'), 'draining', 5_000, from);

    const refused = statusAndContact(await inviteFrontDoor('during-drain'));
    expect(refused.status).toBe(503);
    expect(peer.received.find((r) => r.text.includes('Call-ID: during-drain\r\n') && r.text.startsWith('SIP/2.0 503'))!.text).toMatch(/\r\nRetry-After: *\d+/i);
    await peer.send(cluster.port, options({ port: peer.port, callId: 'opt-drain' }));
    expect((await peer.waitFor((t) => t.includes('Call-ID: opt-drain\r\n'))).text).toMatch(/^SIP\/2\.0 503 /);

    const result = await call;
    expect(result.successful, result.stdout.slice(-1500)).toBe(1);
    const exit = await cluster.serving.exited;
    expect(exit.code).toBe(0);
  }, 40_000);
});
