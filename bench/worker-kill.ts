/**
 * A worker killed with SIGKILL under load (issue 13): `vmpilot serve` as the 302 front door with 2 workers
 * (the real CLI and voicemail app, one SQLite store), CALLS SIPp callers leaving a message each through the
 * front door (about half on each worker), then worker 0 SIGKILLed while every caller is talking.
 *
 *   npx tsx bench/worker-kill.ts [--calls 200] [--rate 50] [--talk-ms 25000] [--after 20] [--kill-at-s 6]
 *
 * --talk-ms: how long each caller talks before hanging up (the message's length); --after: calls placed
 * through the front door from the moment of the kill (20/s), the "next INVITEs"; --kill-at-s: the kill comes
 * this long after the last caller was put through to a mailbox.
 *
 * Prints:
 * - calls held on each worker at the kill (from the workers' own log lines) and how they ended: the killed
 *   worker's calls fail (SIPp's BYE goes unanswered), the survivor's complete;
 * - how long the front door kept naming the dead worker: its 'worker died: out of rotation' line after the
 *   kill, and the last 302 naming the dead worker's port seen by a raw UDP client asking 50 times a second
 *   (bench/redirect-probe.ts) around the kill;
 * - the calls placed after the kill that failed (should be 0) and which workers they went to;
 * - the restart: the new worker 0's 'worker ready' after the kill, and its repair: recordings re-attached
 *   as messages (should be the calls the killed worker held);
 * - messages in the store (vmpilot messages --json) against the calls that left one: every caller who talked
 *   for at least voicemail.minMessageMs, the killed worker's too (no stored message lost).
 *
 * Not part of the test run (test/integration/cluster-crash.test.ts is the one-call test). Needs sipp. Loads
 * the machine for about a minute.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCluster, type Cluster } from '../test/helpers/cluster.js';
import { runCli, type LogRecord } from '../test/helpers/cli-process.js';
import { runSipp, type SippResult } from '../test/helpers/sipp.js';
import { writeFollowingRedirect } from './redirected-scenario.js';
import { probeRedirects } from './redirect-probe.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]?.replace(/^--/, '') ?? '', process.argv[i + 1] ?? '');
const calls = Number(args.get('calls') ?? '200');
const rate = Number(args.get('rate') ?? '50');
const talkMs = Number(args.get('talk-ms') ?? '25000');
const after = Number(args.get('after') ?? '20');
const killAtS = Number(args.get('kill-at-s') ?? '6');
const MAILBOX = '27000';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const timeOf = (r: LogRecord): number => (typeof r.time === 'number' ? r.time : Date.parse(r.time));

/** SIPp callers through the front door, each leaving a message (uac-vm-deposit-hangup.xml after the 302). */
function depositCalls(cluster: Cluster, count: number, perSecond: number, talk: number, mediaPort: number): Promise<SippResult> {
  return runSipp({
    scenario: writeFollowingRedirect(join(root, 'sipp-scenarios/uac-vm-deposit-hangup.xml')),
    transport: 'udp',
    port: cluster.port,
    calls: count,
    rate: perSecond,
    // The killed worker's callers give up on their BYE after SIPp's retransmissions (-max_retrans).
    timeoutS: Math.ceil(talk / 1000) + 90,
    extra: [
      '-l', String(count),
      '-d', String(talk),
      '-mp', String(mediaPort),
      '-max_retrans', '4',
      '-key', 'vm_from', '"Bob" <sip:27001@127.0.0.1>',
      '-key', 'vm_header', `Diversion: <sip:${MAILBOX}@127.0.0.1>;reason=no-answer;counter=1`,
    ],
  });
}

/** The worker index -> how many of `records` say `msg`. */
function perWorker(records: LogRecord[], msg: string): Map<number, number> {
  const counts = new Map<number, number>();
  for (const r of records) if (r.msg === msg && typeof r.worker === 'number') counts.set(r.worker, (counts.get(r.worker) ?? 0) + 1);
  return counts;
}

async function main(): Promise<void> {
  const cluster = await startCluster({
    workers: 2,
    rtpPorts: '30000-31999',
    // SIPp is the PBX: a trusted source, not rate-limited as a stranger would be.
    extraYaml: ['pbx:', '  - { name: sipp, addresses: ["127.0.0.1"] }', 'voicemail: { maxMessages: 0 }', 'mailboxes:', `  - { number: "${MAILBOX}", pin: "7391", name: "Alice Example" }`].join('\n'),
  });
  try {
    const [victim, survivor] = cluster.workers();
    const victimPort = victim!.listen.find((l) => l.transport === 'udp')!.port;
    console.log(`worker kill: ${calls} deposit calls through the front door (2 workers), ${talkMs / 1000} s each, ${rate}/s; worker 0 (pid ${victim!.workerPid}, port ${victimPort}) gets SIGKILL ${killAtS} s after the last call is put through`);

    const main = depositCalls(cluster, calls, rate, talkMs, 36000);
    for (const end = Date.now() + 60_000 + (calls / rate) * 1000; cluster.records().filter((r) => r.msg === 'call for a mailbox').length < calls; await sleep(250)) {
      if (Date.now() > end) {
        const seen = new Map<string, number>();
        for (const r of cluster.records()) seen.set(r.msg, (seen.get(r.msg) ?? 0) + 1);
        throw new Error(`fewer than ${calls} calls reached the mailbox in time; log lines so far: ${JSON.stringify(Object.fromEntries(seen))}`);
      }
    }
    await sleep(killAtS * 1000);

    const beforeKill = cluster.records().length;
    const started = perWorker(cluster.records(), 'call for a mailbox');
    const ended = perWorker(cluster.records(), 'call ended');
    const held = (w: number): number => (started.get(w) ?? 0) - (ended.get(w) ?? 0);
    // The raw probe asks the front door from 1 s before the kill to 3 s after.
    const probe = probeRedirects({ port: cluster.port, perSecond: 50, seconds: 4 });
    await sleep(1000);
    const killedAt = Date.now();
    process.kill(victim!.workerPid, 'SIGKILL');
    const next = after > 0 ? depositCalls(cluster, after, 20, 3000, 38000) : Promise.resolve(undefined);

    const died = await cluster.waitForLog((r) => r.msg === 'worker died: out of rotation, restarting' && r.worker === 0, 'the front door noticing the death', 10_000, beforeKill);
    const ready = await cluster.waitForLog((r) => r.msg === 'worker ready' && r.worker === 0, 'worker 0 ready again', 60_000, beforeKill);
    const repaired = await cluster
      .waitForLog((r) => r.msg === 'message store repaired after an unclean stop' && r.worker === 0, "the restarted worker's repair", 60_000, beforeKill)
      .catch(() => undefined);
    const samples = await probe;
    const [mainResult, nextResult] = await Promise.all([main, next]);

    const afterKill = cluster.records().slice(beforeKill);
    const nextPerWorker = perWorker(afterKill, 'call for a mailbox');
    const toDead = samples.filter((s) => s.sentAt >= killedAt && s.contactPort === victimPort);
    const lastToDeadMs = toDead.length > 0 ? Math.max(...toDead.map((s) => s.sentAt)) - killedAt : undefined;
    const stored = await runCli('messages', MAILBOX, '--json', '--config', join(cluster.dir, 'vmpilot.yaml'));
    const messages = stored.code === 0 ? (JSON.parse(stored.stdout) as unknown[]).length : NaN;
    const reattached = (repaired?.repair as { reattached?: string[] } | undefined)?.reattached?.length ?? 0;
    const expected = calls + after;

    console.log(
      [
        `  at the kill: worker 0 held ${held(0)} calls, worker 1 held ${held(1)}`,
        `  the first ${calls} calls: ${mainResult.successful} completed, ${mainResult.failed} failed (the killed worker's ${held(0)} should fail, the survivor's ${held(1)} complete)`,
        `  front door: 'worker died: out of rotation' ${timeOf(died) - killedAt} ms after the SIGKILL; the raw client's INVITEs after the kill (${samples.filter((s) => s.sentAt >= killedAt).length}) were sent to the dead worker ${toDead.length} times${lastToDeadMs === undefined ? '' : `, the last ${lastToDeadMs} ms after the kill`}`,
        `  ${after} calls placed from the kill on: ${nextResult?.successful ?? 0} completed, ${nextResult?.failed ?? 0} failed; they went to ${[...nextPerWorker].map(([w, n]) => `worker ${w}: ${n}`).join(', ') || 'no worker'}`,
        `  worker 0 restarted: ready ${timeOf(ready) - killedAt} ms after the SIGKILL (pid ${String(ready.workerPid)}); its repair re-attached ${reattached} recordings as messages${repaired ? '' : ' (no repair logged)'}`,
        `  messages in the store: ${messages} of ${expected} expected (every call that reached the recording); ${messages === expected ? 'none lost' : `${expected - messages} missing`}`,
        `  survivor (worker 1, pid ${survivor!.workerPid}): ${cluster.records().some((r) => r.msg === 'worker died: out of rotation, restarting' && r.worker === 1) ? 'DIED TOO' : 'kept running'}`,
      ].join('\n'),
    );
    if (mainResult.failed !== held(0) || (nextResult?.failed ?? 0) > 0) console.log(mainResult.stdout.split('\n').slice(-25).join('\n'));
  } finally {
    await cluster.stop();
  }
}

await main();
