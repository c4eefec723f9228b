/**
 * A throwaway Kamailio (Debian package kamailio, /usr/sbin/kamailio) running the example front of a multi-host
 * site, examples/kamailio/kamailio.cfg, unedited: its settings (listen address, dispatcher list, probe
 * interval, no-reply timer) are given with -A on the command line, as the example's header says. It runs in the
 * foreground (-DD) with its log on stderr (-E), inside a namespace of a NetnsLab, so it may take port 5060
 * there without touching the machine's.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli-process.js';
import type { Namespace, NetnsLab } from './netns.js';
import { RawUdpPeer } from './raw-peer.js';

export const KAMAILIO_CONFIG = join(ROOT, 'examples/kamailio/kamailio.cfg');

export interface Kamailio {
  child: ChildProcess;
  /** Its SIP address and port. */
  address: string;
  port: number;
  /** Everything it logged so far. */
  log(): string;
  /** Waits until its log matches `pattern` (after `from` characters). */
  waitForLog(pattern: RegExp, what: string, timeoutMs?: number, from?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface KamailioOptions {
  /** SIP URIs of the vmpilot hosts (dispatcher set 1). */
  hosts: string[];
  /** A temporary folder for its dispatcher list. */
  dir: string;
  probeIntervalS: number;
  noReplyMs: number;
  port?: number;
}

export async function startKamailio(lab: NetnsLab, ns: Namespace, opts: KamailioOptions): Promise<Kamailio> {
  const port = opts.port ?? 5060;
  const list = join(opts.dir, 'dispatcher.list');
  writeFileSync(list, opts.hosts.map((uri) => `1 ${uri}`).join('\n') + '\n');
  const args = [
    '-f', KAMAILIO_CONFIG,
    '-DD', '-E',
    // Small shared and private memory: a test proxy, not a site's.
    '-m', '32', '-M', '4',
    // Its runtime files (none with this config, but never the system's /run/kamailio).
    '-Y', opts.dir,
    '-A', `LISTEN=udp:${ns.address}:${port}`,
    '-A', `DISPATCHER_LIST="${list}"`,
    '-A', `PROBE_INTERVAL_S=${opts.probeIntervalS}`,
    '-A', `NO_REPLY_MS=${opts.noReplyMs}`,
    '-A', 'LOG_LEVEL=2',
  ];
  const child = lab.spawn(ns, '/usr/sbin/kamailio', args, { cwd: opts.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const kamailio: Kamailio = {
    child,
    address: ns.address,
    port,
    log: () => log,
    async waitForLog(pattern, what, timeoutMs = 10_000, from = 0) {
      const end = Date.now() + timeoutMs;
      while (!pattern.test(log.slice(from))) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`kamailio exited before ${what}:\n${log.slice(-3000)}`);
        if (Date.now() > end) throw new Error(`kamailio: no ${what} within ${timeoutMs} ms:\n${log.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('close', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
  try {
    await answersOptions(lab.hostAddress, ns.address, port, child);
  } catch (err) {
    await kamailio.stop();
    throw new Error(`${(err as Error).message}\n${log.slice(-3000)}`);
  }
  return kamailio;
}

/** Waits until Kamailio answers an OPTIONS addressed to itself (its keepalive branch) with 200. */
async function answersOptions(from: string, address: string, port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const peer = await RawUdpPeer.open(from);
  try {
    const end = Date.now() + timeoutMs;
    for (let n = 0; ; n++) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error('kamailio exited at start-up');
      const request = [
        `OPTIONS sip:${address}:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP ${from}:${peer.port};branch=z9hG4bKready${n};rport`,
        `From: <sip:test@${from}>;tag=ready`,
        `To: <sip:${address}:${port}>`,
        `Call-ID: ready-${n}@${from}`,
        `CSeq: ${n + 1} OPTIONS`,
        'Max-Forwards: 70',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      await peer.send(port, request, address);
      try {
        await peer.waitFor((t) => t.startsWith('SIP/2.0 200') && t.includes(`ready-${n}@`), 200);
        return;
      } catch {
        if (Date.now() > end) throw new Error(`kamailio did not answer OPTIONS within ${timeoutMs} ms`);
      }
    }
  } finally {
    peer.close();
  }
}
