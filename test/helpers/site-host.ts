/**
 * One vmpilot host of a multi-host site for tests: the real `vmpilot serve` (from source) inside a network
 * namespace of a NetnsLab (helpers/netns.ts), listening on UDP 5060 of its namespace address, with its RTP
 * range there, trusting the addresses given as its PBX, and its JSON log lines at hand.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logRecords, serve, waitForRecord, type Exit, type LogRecord, type Serving } from './cli-process.js';
import type { Namespace, NetnsLab } from './netns.js';
import { startPostgres, type PostgresServer } from './postgres.js';

export const HOST_SIP_PORT = 5060;

export interface SiteHost {
  name: string;
  ns: Namespace;
  serving: Serving;
  /** Its config file (restart() starts the same again). */
  configFile: string;
  records(): LogRecord[];
  /** Waits for a log line matching `test`, at index `from` or later. */
  waitForLog(test: (r: LogRecord) => boolean, what: string, timeoutMs?: number, from?: number): Promise<LogRecord>;
  /** SIGKILL: a host that dies (power, kernel panic); resolves with the exit. */
  kill(): Promise<Exit>;
  /** Starts the same host again (after kill()) and waits until it listens. */
  restart(): Promise<void>;
  /** SIGTERM (drain), SIGKILL after 10 s. */
  stop(): Promise<void>;
}

export interface SiteHostOptions {
  /** Storage: `dir` (each host's own, or shared) and, for PostgreSQL, `url`. */
  storage: { dir: string; url?: string };
  /** Addresses trusted as the PBX (calls, probes, SUBSCRIBEs come from them). */
  pbxAddresses: string[];
  /** Unsolicited MWI targets (sip: URIs), if any. */
  mwiTargets?: string[];
  /** More YAML (top-level keys not set here). */
  extraYaml?: string;
}

/** Writes the host's config into `<dir>/<name>.yaml` and starts it in `ns`; resolves once it listens. */
export async function startSiteHost(lab: NetnsLab, ns: Namespace, name: string, dir: string, opts: SiteHostOptions): Promise<SiteHost> {
  mkdirSync(opts.storage.dir, { recursive: true });
  const configFile = join(dir, `${name}.yaml`);
  const pbx = { name: 'pbx', addresses: opts.pbxAddresses, ...(opts.mwiTargets && { mwi: { targets: opts.mwiTargets } }) };
  writeFileSync(
    configFile,
    [
      `sip: { listen: ["udp:${ns.address}:${HOST_SIP_PORT}"] }`,
      `rtp: { address: ${ns.address}, ports: "20000-20199" }`,
      `storage: ${JSON.stringify(opts.storage)}`,
      `pbx: [${JSON.stringify(pbx)}]`,
      'mwi: { resendOnStart: false }',
      'shutdown: { drainSeconds: 2 }',
      'log: { level: info }',
      'mailboxes:',
      '  - { number: "27000", pin: "7391", name: "Alice Example" }',
      opts.extraYaml ?? '',
      '',
    ].join('\n'),
  );
  const host: SiteHost = {
    name,
    ns,
    serving: serve(configFile, lab.wrap(ns)),
    configFile,
    records: () => logRecords(host.serving),
    waitForLog: (test, what, timeoutMs, from) => waitForRecord(host.serving, test, `${what} (host ${name})`, timeoutMs, from),
    async kill() {
      host.serving.child.kill('SIGKILL');
      return host.serving.exited;
    },
    async restart() {
      host.serving = serve(configFile, lab.wrap(ns));
      await host.waitForLog((r) => r.msg === 'vmpilot listening', 'vmpilot listening', 45_000);
    },
    async stop() {
      const s = host.serving;
      if (s.child.exitCode !== null || s.child.signalCode !== null) return;
      s.child.kill('SIGTERM');
      const timer = setTimeout(() => s.child.kill('SIGKILL'), 10_000);
      await s.exited;
      clearTimeout(timer);
    },
  };
  // From source through tsx: several seconds on a loaded machine.
  await host.waitForLog((r) => r.msg === 'vmpilot listening', 'vmpilot listening', 45_000);
  return host;
}

/**
 * The site's PostgreSQL (helpers/postgres.ts) on the lab's bridge, for hosts in their namespaces: it listens on
 * the bridge address too, and its own pg_hba lets the lab's subnet in (trust, as the harness does for
 * 127.0.0.1). `url` is a fresh database at the bridge address.
 */
export async function startSitePostgres(lab: NetnsLab, dir: string): Promise<{ server: PostgresServer; url: string }> {
  const hba = join(dir, 'pg_hba.conf');
  writeFileSync(hba, ['local all all trust', 'host all all 127.0.0.1/32 trust', `host all all ${lab.subnet}.0/24 trust`, ''].join('\n'));
  // Read by postgres, which runs as nobody.
  chmodSync(dir, 0o755);
  chmodSync(hba, 0o644);
  const server = await startPostgres({ listenAddresses: ['127.0.0.1', lab.hostAddress], settings: { hba_file: hba } });
  const url = (await server.createDatabase()).replace('@127.0.0.1:', `@${lab.hostAddress}:`);
  return { server, url };
}
