/**
 * A local stunnel in client mode: accepts TCP on an ephemeral loopback port and connects with TLS to the
 * server under test. Lets TLS-less tools (Debian's SIPp) exercise vmpilot's TLS transport end to end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tlsFixture } from './tls-fixture.js';

/** A TCP port nobody listens on right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitListening(port: number, child: ChildProcess): Promise<void> {
  const { connect } = await import('node:net');
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`stunnel exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('stunnel did not start listening');
}

export async function startStunnel(tlsPort: number): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'vmpilot-stunnel-'));
  const conf = join(dir, 'stunnel.conf');
  writeFileSync(
    conf,
    [
      'foreground = yes',
      `pid =`,
      'debug = 3',
      '[sip]',
      'client = yes',
      `accept = 127.0.0.1:${port}`,
      `connect = 127.0.0.1:${tlsPort}`,
      `CAfile = ${tlsFixture().caFile}`,
      'verifyChain = yes',
      'checkHost = localhost',
      'sslVersionMin = TLSv1.2',
      '',
    ].join('\n'),
  );
  const child = spawn('stunnel', [conf], { stdio: 'ignore' });
  await waitListening(port, child);
  return {
    port,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
