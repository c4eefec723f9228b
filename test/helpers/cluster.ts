/**
 * A real cluster for tests: `vmpilot serve` (the CLI, run from source) with a `cluster:` section, so that the
 * front door forks real worker processes, plus the raw SIP bits the tests send to it (the ACK for a
 * 302 or 503) and a way to wait for its JSON log lines.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeUdpPort, logRecords, serve, waitForRecord, type Exit, type LogRecord, type Serving } from './cli-process.js';
import { reserveRtpPorts } from './rtp-range.js';

export interface WorkerReady {
  worker: number;
  workerPid: number;
  listen: { transport: string; port: number }[];
}

export interface Cluster {
  serving: Serving;
  /** The front door's UDP port. */
  port: number;
  dir: string;
  records(): LogRecord[];
  /** Waits for a log line matching `test` (at index `from` or later) and returns it. */
  waitForLog(test: (r: LogRecord) => boolean, what: string, timeoutMs?: number, from?: number): Promise<LogRecord>;
  /** The most recent "worker ready" line of each worker index. */
  workers(): WorkerReady[];
  /** SIGTERM, then the exit (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<Exit>;
}

/** A worker's port for `transport`, as its last "worker ready" line gave it. */
export function workerPort(cluster: Cluster, worker: number, transport = 'udp'): number {
  return cluster.workers()[worker]!.listen.find((l) => l.transport === transport)!.port;
}

/**
 * The config of a server or cluster whose PBX (SIPp on `pbxPort`) takes unsolicited MWI, with mailbox 27000 (PIN 7391). No
 * state is sent at start-up: the only NOTIFYs are those the test causes.
 */
export function pbxWithMwiYaml(pbxPort: number): string {
  return [
    'pbx:',
    `  - { name: sipp, addresses: ["127.0.0.1"], mwi: { targets: ["sip:127.0.0.1:${pbxPort}"] } }`,
    'mwi: { resendOnStart: false }',
    'mailboxes:',
    '  - { number: "27000", pin: "7391", name: "Alice Example" }',
  ].join('\n');
}

/** Starts a cluster with `workers` local workers on free ports and waits until every one is ready. */
export async function startCluster(opts: {
  workers: number;
  extraYaml?: string;
  /** Listeners besides the front door's UDP one. */
  listen?: string[];
  /** sip.tls, for a tls: listener. */
  tls?: { cert: string; key: string };
  drainSeconds?: number;
  /** rtp.ports, shared out among the workers. Default: 200 ports reserved for it (rtp-range.ts; about 50 calls a worker). */
  rtpPorts?: string;
}): Promise<Cluster> {
  const port = await freeUdpPort();
  const dir = mkdtempSync(join(tmpdir(), 'vmpilot-cluster-'));
  const rtp = opts.rtpPorts === undefined ? await reserveRtpPorts() : undefined;
  const configFile = join(dir, 'vmpilot.yaml');
  writeFileSync(
    configFile,
    [
      'sip:',
      `  listen: ${JSON.stringify([`udp:127.0.0.1:${port}`, ...(opts.listen ?? [])])}`,
      ...(opts.tls ? [`  tls: ${JSON.stringify(opts.tls)}`] : []),
      `rtp: { address: 127.0.0.1, ports: "${opts.rtpPorts ?? rtp!.ports}" }`,
      `storage: { dir: ${JSON.stringify(dir)} }`,
      `cluster: { workers: ${opts.workers}, basePort: 0 }`,
      `shutdown: { drainSeconds: ${opts.drainSeconds ?? 10} }`,
      'log: { level: info }',
      // No admin HTTP on the embedded default port 8080 (tests run side by side) unless the test asks for it.
      /^http:/m.test(opts.extraYaml ?? '') ? '' : 'http: false',
      opts.extraYaml ?? '',
      '',
    ].join('\n'),
  );
  const serving = serve(configFile);
  const records = (): LogRecord[] => logRecords(serving);
  const waitForLog = (test: (r: LogRecord) => boolean, what: string, timeoutMs = 30_000, from = 0): Promise<LogRecord> =>
    waitForRecord(serving, test, what, timeoutMs, from);
  const workers = (): WorkerReady[] => {
    const latest = new Map<number, WorkerReady>();
    for (const r of records()) if (r.msg === 'worker ready') latest.set(r.worker as number, r as unknown as WorkerReady);
    return [...latest.values()].sort((a, b) => a.worker - b.worker);
  };
  const cluster: Cluster = {
    serving,
    port,
    dir,
    records,
    waitForLog,
    workers,
    async stop(timeoutMs = 30_000): Promise<Exit> {
      if (serving.child.exitCode === null && serving.child.signalCode === null) serving.child.kill('SIGTERM');
      const timer = setTimeout(() => serving.child.kill('SIGKILL'), timeoutMs);
      const exit = await serving.exited;
      clearTimeout(timer);
      await rtp?.release();
      return exit;
    },
  };
  try {
    // Workers start from source through tsx: several seconds each on a loaded machine.
    for (let i = 0; i < opts.workers; i++) await waitForLog((r) => r.msg === 'worker ready' && r.worker === i, `worker ${i} ready`, 45_000);
  } catch (err) {
    await cluster.stop(5_000);
    throw err;
  }
  return cluster;
}

/**
 * RFC 3261 §17.1.1.3: the ACK for a non-2xx final response: the INVITE's Request-URI and top Via, the
 * response's To (with its tag), CSeq number of the INVITE.
 */
export function ackForFinal(inviteText: string, responseText: string): string {
  const line = (text: string, name: string): string => text.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name}:`)) ?? '';
  return [
    inviteText.split('\r\n')[0]!.replace(/^INVITE /, 'ACK '),
    line(inviteText, 'via'),
    line(inviteText, 'from'),
    line(responseText, 'to'),
    line(inviteText, 'call-id'),
    line(inviteText, 'cseq').replace('INVITE', 'ACK'),
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** The status code and Contact URI of a response. */
export function statusAndContact(text: string): { status: number; contact: string | undefined } {
  const status = Number(/^SIP\/2\.0 (\d{3}) /.exec(text)?.[1] ?? 0);
  const contact = /^Contact: *<([^>]*)>/im.exec(text)?.[1];
  return { status, contact };
}
