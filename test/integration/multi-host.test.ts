/**
 * Two vmpilot hosts on one store (issue 10, "Several hosts"; seed 003: two UM servers the PBX reaches by DNS
 * SRV, trying the next on no answer or 503), each in its own network namespace, and the PBX (this test: SIPp
 * for calls, helpers/mwi-pbx.ts for NOTIFYs) on the bridge:
 *
 *   PBX 10.213.N.1 ──► host A (ns a, :5060)     PostgreSQL 10.213.N.1 (leadership lock)
 *                 └──► host B (ns b, :5060)
 *
 * Both hosts start at once; "A" is whichever takes the advisory lock first, "B" the other.
 * Covered:
 *  - exactly one host sends unsolicited MWI: the leader (the first to take the advisory lock); a deposit on A
 *    lights the lamp with one NOTIFY, a read committed on B puts it out with one NOTIFY, both from the leader;
 *  - host A (the leader) SIGKILLed in the middle of a deposit: leadership moves to B within 5 s and B sends no
 *    lamp again (the PBX acknowledged each from A and none changed: mwi/ack-ledger.ts); the PBX's INVITE to A gets no answer and the same call to B is answered; A started again
 *    repairs the interrupted recording at start-up, the message is kept, and B (still the leader) lights the
 *    lamp for it, once, while A stays quiet.
 *
 * Store: one PostgreSQL database (storage.url) holds everything and carries changes between hosts
 * (LISTEN/NOTIFY); its advisory lock decides the MWI leader. Each host has its own storage.dir (recordings in
 * progress, audio cache), as on separate machines.
 *
 * Not covered: a host cut off by the network (pg-leadership.test.ts), a front proxy (kamailio-dispatcher.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../helpers/cli-process.js';
import { openConfigStore } from '../helpers/config-store.js';
import { MwiPbx } from '../helpers/mwi-pbx.js';
import { createNetnsLab, type NetnsLab } from '../helpers/netns.js';
import type { PostgresServer } from '../helpers/postgres.js';
import { invite, RawUdpPeer } from '../helpers/raw-peer.js';
import { runSipp, type SippResult } from '../helpers/sipp.js';
import { HOST_SIP_PORT, startSiteHost, startSitePostgres, type SiteHost } from '../helpers/site-host.js';
import { ROOT } from '../helpers/cli-process.js';

const LEADS = 'leader: this host now sends MWI';
const BOB = '"Bob Smith" <sip:27001@10.213.0.1>';
const DIVERSION = 'Diversion: "Alice Example" <sip:27000@10.213.0.1;user=phone>;reason=no-answer;counter=1';

let lab: NetnsLab;
let dir: string;
let postgres: PostgresServer;
let pbx: MwiPbx;
let a: SiteHost;
let b: SiteHost;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The storage of host `name`: the site's database, and a folder of its own. */
const storageFor = (name: string, url: string): { dir: string; url: string } => ({ dir: join(dir, `${name}-data`), url });

/** A message left for 27000 (Diversion) by a caller at the PBX, at `host`. */
async function deposit(host: SiteHost, timeoutS = 30): Promise<SippResult> {
  return runSipp({
    scenario: 'uac-vm-deposit.xml',
    transport: 'udp',
    host: host.ns.address,
    port: HOST_SIP_PORT,
    localIp: lab.hostAddress,
    service: '8000',
    timeoutS,
    extra: ['-key', 'vm_from', BOB, '-key', 'vm_header', DIVERSION, '-p', String(await freeUdpPort(lab.hostAddress)), '-mp', String(await freeUdpPort(lab.hostAddress))],
  });
}

/** 27000's messages, read from the site's store as host B's config opens it (in this process). */
async function messages(): Promise<{ folder: string; heard: boolean; durationMs: number }[]> {
  const store = await openConfigStore(b.configFile);
  try {
    return await store.listMessages('27000');
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  lab = createNetnsLab();
  dir = mkdtempSync(join(tmpdir(), 'vmpilot-hosts-'));
  let url: string;
  ({ server: postgres, url } = await startSitePostgres(lab, dir));
  pbx = await MwiPbx.open(lab.hostAddress);
  const hostOpts = (name: string) => ({ storage: storageFor(name, url), pbxAddresses: [lab.hostAddress], mwiTargets: [`sip:${lab.hostAddress}:${pbx.port}`] });
  // Both at once: whichever takes the lock first leads (A below), the other follows (B).
  const [first, second] = await Promise.all([startSiteHost(lab, lab.add('a'), 'a', dir, hostOpts('a')), startSiteHost(lab, lab.add('b'), 'b', dir, hostOpts('b'))]);
  await Promise.race([first.waitForLog((r) => r.msg === LEADS, 'leading', 10_000), second.waitForLog((r) => r.msg === LEADS, 'leading', 10_000)]);
  [a, b] = first.records().some((r) => r.msg === LEADS) ? [first, second] : [second, first];
  // The leader's refresh of every lamp on taking the lead (27000: no messages yet).
  await pbx.waitFor((n) => n.mailbox === '27000' && !n.waiting, 'of the refresh at A taking the lead');
}, 90_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  pbx?.close();
  lab?.close();
  await postgres?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe('two vmpilot hosts on one store', () => {
  it('exactly one host sends MWI: a deposit on A lights the lamp once, a read committed on B puts it out once, both from the leader', async () => {
    expect(b.records().some((r) => r.msg === LEADS)).toBe(false);
    const mark = pbx.notifies.length;
    const call = await deposit(a);
    expect(call.successful, call.stdout.slice(-1500)).toBe(1);
    await pbx.waitFor((n) => n.waiting, 'Messages-Waiting: yes', 10_000, mark);
    // Retransmissions or a second sender would show within this second.
    await sleep(1000);
    expect(pbx.notifies.slice(mark).map((n) => [n.from, n.waiting])).toEqual([[a.ns.address, true]]);

    const read = pbx.notifies.length;
    const marked = execFileSync('ip', ['netns', 'exec', b.ns.name, process.execPath, '--import', 'tsx', 'test/helpers/mark-heard.ts', b.configFile, '27000'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(marked.trim()).toBe('1');
    await pbx.waitFor((n) => !n.waiting, 'Messages-Waiting: no', 10_000, read);
    await sleep(1000);
    expect(pbx.notifies.slice(read).map((n) => [n.from, n.waiting])).toEqual([[a.ns.address, false]]);
  }, 60_000);

  it('host A killed in the middle of a deposit: B leads within 5 s and keeps serving, and the message is not lost', async () => {
    const logFrom = a.records().length;
    const interrupted = deposit(a, 10);
    // The greeting is skipped at 0.3 s, the beep ends at ~0.8 s, the caller talks from 2.0 s for 3 s.
    await a.waitForLog((r) => r.msg === 'greeting', 'the greeting of the deposit', 10_000, logFrom);
    await sleep(3500);
    const mark = pbx.notifies.length;
    const bLogFrom = b.records().length;
    await a.kill();
    const killedAt = Date.now();

    const lead = await b.waitForLog((r) => r.msg === LEADS, 'B taking the lead', 10_000, bLogFrom);
    const takeoverMs = Date.parse(lead.time) - killedAt;
    expect((await interrupted).successful).toBe(0);
    // B's refresh: nothing, as the PBX acknowledged every lamp from A and none changed since.
    await sleep(1500);
    expect(pbx.notifies.slice(mark)).toEqual([]);

    // The PBX's next INVITE to A gets nothing (seed 003: MX-ONE waits 4 s, then tries the next server) ...
    const peer = await RawUdpPeer.open(lab.hostAddress);
    try {
      await peer.send(HOST_SIP_PORT, invite({ port: peer.port, callId: `to-dead-a-${Date.now()}` }), a.ns.address);
      await expect(peer.waitFor((t) => t.startsWith('SIP/2.0'), 1500)).rejects.toThrow();
    } finally {
      peer.close();
    }
    // ... and B answers the same call.
    const toB = await runSipp({
      scenario: 'uac-basic-call.xml',
      transport: 'udp',
      host: b.ns.address,
      port: HOST_SIP_PORT,
      localIp: lab.hostAddress,
      timeoutS: 10,
      extra: ['-p', String(await freeUdpPort(lab.hostAddress))],
    });
    expect(toB.successful, toB.stdout.slice(-1500)).toBe(1);

    // A comes back: its start-up repair delivers the interrupted recording; B, still the leader, lights the lamp.
    const beforeRestart = pbx.notifies.length;
    await a.restart();
    await pbx.waitFor((n) => n.waiting, 'Messages-Waiting: yes for the repaired message', 15_000, beforeRestart);
    await sleep(1000);
    expect(pbx.notifies.slice(beforeRestart).map((n) => [n.from, n.waiting])).toEqual([[b.ns.address, true]]);
    expect(a.records().some((r) => r.msg === LEADS)).toBe(false);
    const kept = await messages();
    expect(kept.map((m) => m.heard)).toEqual([true, false].sort());
    const repaired = kept.find((m) => !m.heard)!;
    expect(repaired.durationMs).toBeGreaterThan(1000);
    console.log(
      `A killed mid-deposit: B leads after ${takeoverMs} ms; ` +
        `A's interrupted recording repaired at A's restart: ${repaired.durationMs} ms kept`,
    );
    expect(takeoverMs).toBeLessThan(5000);
  }, 90_000);
});
