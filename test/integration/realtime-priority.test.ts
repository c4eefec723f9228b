/**
 * rtp.realtimePriority as an operator turns it on: the real `vmpilot serve` process. Its main thread (the one
 * that paces RTP) must run SCHED_FIFO at the configured priority, and only it: the store, disk and V8 helper
 * threads must stay ordinary. Without the permission the server must still serve, with a warning that says
 * what to grant.
 *
 * Read from /proc/PID/task/TID/stat (fields 40 rt_priority and 41 policy, proc(5)). Linux only.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort, logLine, serve, type Serving } from '../helpers/cli-process.js';
import { reserveRtpPorts, type RtpRange } from '../helpers/rtp-range.js';

const SCHED_OTHER = 0;
const SCHED_FIFO = 1;

/** policy and rt_priority of one thread. */
function schedOf(pid: number, tid: string): { policy: number; priority: number; name: string } {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  // After "(comm)" come fields 3 onwards; comm itself may hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
  return { priority: Number(fields[40 - 3]), policy: Number(fields[41 - 3]), name };
}

let rtp: RtpRange;
beforeAll(async () => {
  rtp = await reserveRtpPorts(20);
});
afterAll(() => rtp.release());

async function start(priority: number, wrap: string[] = [], extra: string[] = []): Promise<Serving> {
  const port = await freeUdpPort();
  const dir = mkdtempSync(join(tmpdir(), 'vmpilot-realtime-'));
  const configFile = join(dir, 'vmpilot.yaml');
  writeFileSync(
    configFile,
    [
      `sip: { listen: ["udp:127.0.0.1:${port}"] }`,
      `rtp: { address: 127.0.0.1, ports: "${rtp.ports}", realtimePriority: ${priority} }`,
      `storage: { dir: ${JSON.stringify(dir)} }`,
      'http: false',
      'log: { level: info }',
      ...extra,
      '',
    ].join('\n'),
  );
  const server = serve(configFile, wrap);
  await logLine(server, 'vmpilot listening');
  return server;
}

async function stop(server: Serving): Promise<void> {
  server.child.kill('SIGTERM');
  await server.exited;
}

describe.runIf(process.platform === 'linux')('rtp.realtimePriority', () => {
  it('MUST run the pacing (main) thread SCHED_FIFO at the priority, and no other thread', async () => {
    const server = await start(7);
    try {
      await logLine(server, 'the RTP pacing thread runs real-time');
      await logLine(server, "rtp.realtimePriority: V8's collector helper threads stay ordinary");
      const pid = server.child.pid!;
      const main = schedOf(pid, String(pid));
      expect(main).toMatchObject({ policy: SCHED_FIFO, priority: 7 });
      const others = readdirSync(`/proc/${pid}/task`)
        .filter((tid) => tid !== String(pid))
        .map((tid) => schedOf(pid, tid));
      // The store thread and the disk thread are among them (started before), as are V8's and libuv's.
      expect(others.length).toBeGreaterThan(3);
      expect(others.filter((t) => t.policy !== SCHED_OTHER)).toEqual([]);
    } finally {
      await stop(server);
    }
  });

  it("MUST give a cluster's workers real-time pacing threads and single-threaded GC (no waiting on ordinary GC helpers)", async () => {
    const server = await start(7, [], ['cluster: { workers: 1 }']);
    try {
      await logLine(server, 'the RTP pacing thread runs real-time');
      const pid = server.child.pid!;
      expect(schedOf(pid, String(pid)).policy, 'the front door paces no RTP').toBe(SCHED_OTHER);
      const workers = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
      expect(workers).toHaveLength(1);
      const worker = workers[0]!;
      expect(schedOf(worker, String(worker))).toMatchObject({ policy: SCHED_FIFO, priority: 7 });
      expect(readFileSync(`/proc/${worker}/cmdline`, 'utf8').split('\0')).toContain('--single-threaded-gc');
      expect(server.stdout(), 'no advice to add the flag: the worker has it').not.toContain('single-threaded-gc $(which vmpilot)');
    } finally {
      await stop(server);
    }
  });

  it('MUST still serve, with a warning naming what to grant, when the OS refuses (no CAP_SYS_NICE)', async () => {
    // As root without CAP_SYS_NICE in the bounding set, as an unprivileged service would run.
    const server = await start(7, ['setpriv', '--bounding-set=-sys_nice', '--']);
    try {
      const warning = await logLine(server, 'rtp.realtimePriority not applied');
      expect(String(warning.reason)).toMatch(/CAP_SYS_NICE/);
      const pid = server.child.pid!;
      expect(schedOf(pid, String(pid)).policy).toBe(SCHED_OTHER);
    } finally {
      await stop(server);
    }
  });
});
