/**
 * Runs SIPp (Debian's sip-tester) against a test server and reports its exit status and statistics.
 * TLS: Debian's SIPp is built without TLS, so TLS runs go through stunnel (SIPp speaks TCP to a local stunnel
 * that speaks TLS to vmpilot): the server under test sees a real TLS connection.
 */
import { spawn } from 'node:child_process';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStunnel } from './stunnel.js';

const SCENARIOS = fileURLToPath(new URL('../../sipp-scenarios/', import.meta.url));

export type SippTransport = 'udp' | 'tcp' | 'tls';

export interface SippRun {
  /** A file in sipp-scenarios/, or an absolute path (a generated scenario). */
  scenario: string;
  transport: SippTransport;
  /** Port of the server for this transport (the TLS port for tls). */
  port: number;
  service?: string;
  calls?: number;
  rate?: number;
  /** Give up after this long (SIPp's own -timeout, counted as failure). */
  timeoutS?: number;
  localIp?: string;
  /** The server's address. Default 127.0.0.1. */
  host?: string;
  extra?: string[];
}

export interface SippResult {
  code: number;
  stdout: string;
  stderr: string;
  successful: number;
  failed: number;
}

export async function runSipp(run: SippRun): Promise<SippResult> {
  let port = run.port;
  let stunnel: { port: number; stop(): Promise<void> } | undefined;
  if (run.transport === 'tls') {
    stunnel = await startStunnel(run.port);
    port = stunnel.port;
  }
  const localIp = run.localIp ?? '127.0.0.1';
  const args = [
    `${run.host ?? '127.0.0.1'}:${port}`,
    '-sf', isAbsolute(run.scenario) ? run.scenario : join(SCENARIOS, run.scenario),
    '-t', run.transport === 'udp' ? 'u1' : 't1',
    '-i', localIp,
    '-s', run.service ?? '8000',
    '-m', String(run.calls ?? 1),
    '-r', String(run.rate ?? 10),
    '-timeout', `${run.timeoutS ?? 30}s`,
    '-timeout_error',
    '-nostdin',
    '-max_recv_loops', '1000',
    ...(run.extra ?? []),
  ];
  try {
    return await new Promise<SippResult>((resolve, reject) => {
      const child = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => {
        resolve({ code: code ?? -1, stdout, stderr, successful: lastCount(stdout, 'Successful call'), failed: lastCount(stdout, 'Failed call') });
      });
    });
  } finally {
    await stunnel?.stop();
  }
}

/** SIPp's final screen: "Successful call | 0 | 1" — the cumulative column is the last number. */
function lastCount(screen: string, label: string): number {
  const lines = screen.split('\n').filter((l) => l.includes(label));
  const last = lines[lines.length - 1];
  const numbers = last?.match(/\d+/g);
  return numbers ? Number(numbers[numbers.length - 1]) : 0;
}
