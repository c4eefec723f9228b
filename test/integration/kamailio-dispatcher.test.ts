/**
 * The tested recipe for the common front of a multi-host site (issue 10): Kamailio's dispatcher
 * (examples/kamailio/kamailio.cfg, unedited; settings by -A) in front of two vmpilot hosts, each in its own
 * network namespace (helpers/netns.ts), the PBX being SIPp in the test's namespace:
 *
 *   PBX (SIPp, 10.213.N.1) ──► Kamailio (ns kam, :5060) ──► vmpilot A (ns a, :5060)
 *                                                       └─► vmpilot B (ns b, :5060)
 *
 * Covered: calls through Kamailio reach both hosts (round-robin), with ACK and BYE loose-routed through it
 * (Record-Route); host A killed (SIGKILL): every following call is answered by B (the first one to A, if any,
 * after Kamailio's no-reply timer; OPTIONS probing marks A inactive); A started again: probing takes it back.
 * A phone's SUBSCRIBE sent by round-robin to the host that is not the MWI leader gets 503 there and goes on to
 * the leader (the hosts share a PostgreSQL database whose advisory lock picks the leader); the in-dialog
 * NOTIFYs come back through Kamailio.
 * Not covered: TCP/TLS between the PBX and Kamailio (the recipe's listen line), unsolicited MWI (it goes from
 * the leading host straight to the PBX: multi-host.test.ts).
 *
 * Kamailio: probe interval 1 s, no-reply timer 1000 ms (the example's defaults: 5 s and 2000 ms).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../helpers/cli-process.js';
import { startKamailio, type Kamailio } from '../helpers/kamailio.js';
import { createNetnsLab, type NetnsLab } from '../helpers/netns.js';
import type { PostgresServer } from '../helpers/postgres.js';
import { RawUdpPeer, subscribeMwi } from '../helpers/raw-peer.js';
import { runSipp, type SippResult } from '../helpers/sipp.js';
import { HOST_SIP_PORT, startSiteHost, startSitePostgres, type SiteHost } from '../helpers/site-host.js';

const PROBE_INTERVAL_S = 1;
const NO_REPLY_MS = 1000;

let lab: NetnsLab;
let dir: string;
let kamailio: Kamailio;
let a: SiteHost;
let b: SiteHost;
let postgres: PostgresServer;

/** Calls placed by the PBX through Kamailio (uac-proxied-call.xml). */
async function calls(count: number, rate: number): Promise<SippResult> {
  return runSipp({
    scenario: 'uac-proxied-call.xml',
    transport: 'udp',
    host: kamailio.address,
    port: kamailio.port,
    localIp: lab.hostAddress,
    calls: count,
    rate,
    timeoutS: 20,
    extra: ['-p', String(await freeUdpPort(lab.hostAddress)), '-mp', String(await freeUdpPort(lab.hostAddress))],
  });
}

/** Calls each host has received so far (its "call received" log lines). */
const received = (host: SiteHost): number => host.records().filter((r) => r.msg === 'call received').length;

beforeAll(async () => {
  lab = createNetnsLab();
  dir = mkdtempSync(join(tmpdir(), 'vmpilot-kamailio-'));
  const kam = lab.add('kam');
  // One site: the hosts share a PostgreSQL database, whose advisory lock makes one of them the MWI leader.
  let url: string;
  ({ server: postgres, url } = await startSitePostgres(lab, dir));
  const hostOpts = (name: string) => ({ storage: { dir: join(dir, name), url }, pbxAddresses: [kam.address, lab.hostAddress] });
  [a, b] = await Promise.all([startSiteHost(lab, lab.add('a'), 'a', dir, hostOpts('a')), startSiteHost(lab, lab.add('b'), 'b', dir, hostOpts('b'))]);
  kamailio = await startKamailio(lab, kam, {
    hosts: [`sip:${a.ns.address}:${HOST_SIP_PORT}`, `sip:${b.ns.address}:${HOST_SIP_PORT}`],
    dir,
    probeIntervalS: PROBE_INTERVAL_S,
    noReplyMs: NO_REPLY_MS,
  });
}, 60_000);

afterAll(async () => {
  await kamailio?.stop();
  await Promise.all([a?.stop(), b?.stop()]);
  lab?.close();
  await postgres?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe('Kamailio dispatcher in front of two vmpilot hosts', () => {
  it('sends calls to both hosts in turn; ACK and BYE follow the Record-Route to the host that answered', async () => {
    const result = await calls(4, 10);
    expect(result.failed, result.stdout.slice(-2000) + result.stderr).toBe(0);
    expect(result.code, result.stderr).toBe(0);
    expect(result.successful).toBe(4);
    expect(received(a)).toBe(2);
    expect(received(b)).toBe(2);
    // Each host had its ACK (the app starts only on the ACK: "log-in call") and then the caller's BYE.
    for (const host of [a, b]) {
      // Its two calls' ends (SIPp has its 200s; the host may log the second end a moment later).
      await host.waitForLog((r) => r.msg === 'call ended', 'a call end', 5000);
      const first = host.records().findIndex((r) => r.msg === 'call ended');
      await host.waitForLog((r) => r.msg === 'call ended', 'a second call end', 5000, first + 1);
      const ended = host.records().filter((r) => r.msg === 'call ended');
      expect(ended.map((r) => r.reason)).toEqual(['remote-bye', 'remote-bye']);
      expect(host.records().filter((r) => r.msg === 'log-in call')).toHaveLength(2);
    }
  });

  it("sends a phone's SUBSCRIBE on to the MWI leader when the other host answers 503, and the leader's NOTIFY comes back through it", async () => {
    const leader = [a, b].find((h) => h.records().some((r) => r.msg === 'leader: this host now sends MWI'))!;
    expect(leader).toBeDefined();
    const phone = await RawUdpPeer.open(lab.hostAddress);
    try {
      // Round-robin: of two SUBSCRIBEs in a row, one is first sent to the follower.
      for (const n of [1, 2]) {
        const callId = `sub-${n}-${Date.now()}`;
        await phone.send(kamailio.port, subscribeMwi({ mailbox: '27000', target: `${kamailio.address}:${kamailio.port}`, host: lab.hostAddress, port: phone.port, callId }), kamailio.address);
        const final = await phone.waitFor((t) => t.startsWith('SIP/2.0') && !t.startsWith('SIP/2.0 100') && t.includes(callId), 5000);
        expect(final.text.split('\r\n')[0]).toBe('SIP/2.0 200 OK');
        expect(final.text).toMatch(new RegExp(`^Record-Route: <sip:${kamailio.address.replace(/\./g, '\\.')}[;:>]`, 'im'));
        // The first NOTIFY, in the dialog, relayed by Kamailio (its Via on top).
        const notify = await phone.waitFor((t) => t.startsWith('NOTIFY ') && t.includes(callId), 5000);
        expect(/^Via: *SIP\/2\.0\/UDP ([^:;]+)/im.exec(notify.text)?.[1]).toBe(kamailio.address);
      }
    } finally {
      phone.close();
    }
    await kamailio.waitForLog(new RegExp(`SUBSCRIBE \\S+ retried at sip:${leader.ns.address.replace(/\./g, '\\.')}`), 'a SUBSCRIBE sent on to the leader', 2000);
  });

  it('when host A dies, every call goes on at host B', async () => {
    const beforeB = received(b);
    await a.kill();
    const started = Date.now();
    const result = await calls(6, 3);
    const tookMs = Date.now() - started;
    expect(result.failed, result.stdout.slice(-2000)).toBe(0);
    expect(result.successful).toBe(6);
    expect(received(b) - beforeB).toBe(6);
    // A is marked inactive by now (the failed INVITE, or an OPTIONS probe): the next call goes straight to B.
    await kamailio.waitForLog(/did not answer INVITE; marked inactive/, 'A marked inactive', 5000).catch(() => undefined);
    const oneStarted = Date.now();
    const one = await calls(1, 1);
    expect(one.successful).toBe(1);
    console.log(
      `A killed (SIGKILL): 6 calls at 3/s, all answered by B, took ${tookMs} ms (a call sent to A first waits the ${NO_REPLY_MS} ms ` +
        `no-reply timer, then goes to B); one call once A is marked inactive: ${Date.now() - oneStarted} ms (SIPp start, 200 ms call, BYE)`,
    );
  });

  it('when host A comes back, OPTIONS probing takes it back into the rotation', async () => {
    await a.restart();
    const beforeA = received(a);
    // Probing sees A answer within one interval.
    await new Promise((r) => setTimeout(r, (PROBE_INTERVAL_S + 1) * 1000));
    const result = await calls(4, 10);
    expect(result.successful).toBe(4);
    expect(received(a) - beforeA).toBeGreaterThanOrEqual(1);
  });
});
