/**
 * Stranger floods against a real `vmpilot serve` process while the PBX keeps calling (issue 9 items 2 and 3):
 * a slow-loris (connections from 127.0.0.2 dripping a never-ending header section a byte at a time, and
 * reconnecting when closed), then half-open TLS (connections from 127.0.0.2 to the TLS port that never start a
 * handshake, also reopened). During each, SIPp places calls from the PBX (127.0.0.1) over TCP and over TLS.
 * Prints the server's resident memory (baseline and peak, from /proc), the stranger's connections (opened,
 * closed by the server), and the PBX's calls (successful, failed). Default limits (sip.limits).
 *
 *   npx tsx bench/stranger-flood.ts [--connections 200] [--seconds 20] [--calls 20]
 *
 * Not part of the test run. Needs sipp and stunnel (TLS calls go through it, as in the tests).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSipp } from '../test/helpers/sipp.js';
import { tlsFixture } from '../test/helpers/tls-fixture.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]?.replace(/^--/, '') ?? '', process.argv[i + 1] ?? '');
const connections = Number(args.get('connections') ?? '200');
const seconds = Number(args.get('seconds') ?? '20');
const calls = Number(args.get('calls') ?? '20');
const STRANGER = '127.0.0.2';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
}

/** Keeps `count` stranger connections to `port` open (reopening closed ones); `drip` is written every 10 ms. */
function flood(port: number, count: number, drip: boolean): { opened: () => number; closedByServer: () => number; stop: () => void } {
  let opened = 0;
  let closedByServer = 0;
  let stopped = false;
  /** Each open socket and how many bytes of the header it has dripped. */
  const sockets = new Map<Socket, number>();
  const open = (): void => {
    if (stopped) return;
    const socket = connect({ port, host: '127.0.0.1', localAddress: STRANGER });
    socket.setNoDelay(true);
    opened++;
    sockets.set(socket, 0);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      if (stopped) return;
      closedByServer++;
      setTimeout(open, 50); // an attacker comes back
    });
  };
  for (let i = 0; i < count; i++) open();
  const head = Buffer.from('INVITE sip:8000@127.0.0.1 SIP/2.0\r\nX-Slow: ', 'latin1');
  const timer = drip
    ? setInterval(() => {
        for (const [s, n] of sockets) {
          if (!s.writable) continue;
          sockets.set(s, n + 1);
          s.write(n < head.length ? head.subarray(n, n + 1) : 'a');
        }
      }, 10)
    : undefined;
  return {
    opened: () => opened,
    closedByServer: () => closedByServer,
    stop: () => {
      stopped = true;
      if (timer) clearInterval(timer);
      for (const s of sockets.keys()) s.destroy();
    },
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vmpilot-flood-'));
  const tls = tlsFixture();
  const [tcp, tlsPort, udp] = [await freePort(), await freePort(), await freePort()];
  const configFile = join(dir, 'flood.yaml');
  writeFileSync(
    configFile,
    [
      'sip:',
      `  listen: ["udp:127.0.0.1:${udp}", "tcp:127.0.0.1:${tcp}", "tls:127.0.0.1:${tlsPort}"]`,
      `  tls: { cert: ${JSON.stringify(tls.certFile)}, key: ${JSON.stringify(tls.keyFile)} }`,
      'rtp: { address: 127.0.0.1, ports: "42000-42999" }',
      `storage: { dir: ${JSON.stringify(join(dir, 'data'))} }`,
      'http: false',
      'pbx: [{ name: pbx, addresses: ["127.0.0.1"] }]',
      'log: { level: info }',
      '',
    ].join('\n'),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/admin/cli.ts'), 'serve', '--config', configFile], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  try {
    const startBy = Date.now() + 60_000;
    while (!log.includes('"msg":"vmpilot listening"')) {
      if (Date.now() > startBy || child.exitCode !== null) throw new Error(`vmpilot did not start:\n${log}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const pid = child.pid!;
    const baseline = rssKiB(pid);
    console.log(`server RSS at rest: ${(baseline / 1024).toFixed(1)} MiB`);
    for (const [name, port, drip] of [['slow-loris (TCP)', tcp, true], ['half-open TLS', tlsPort, false]] as const) {
      const f = flood(port, connections, drip);
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, rssKiB(pid))), 250);
      const callRate = Math.max(1, calls / seconds);
      const [overTcp, overTls] = await Promise.all([
        runSipp({ scenario: 'uac-basic-call.xml', transport: 'tcp', port: tcp, calls, rate: callRate, timeoutS: seconds + 30 }),
        runSipp({ scenario: 'uac-basic-call.xml', transport: 'tls', port: tlsPort, calls, rate: callRate, timeoutS: seconds + 30 }),
      ]);
      for (const run of [overTcp, overTls]) if (run.code !== 0 && run.successful === 0) console.log(`sipp exited ${run.code}: ${run.stderr.slice(-500)}`);
      const left = seconds * 1000;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, left - 1000 * (calls / callRate))));
      clearInterval(sampler);
      f.stop();
      console.log(
        `${name}: ${connections} stranger connections kept up for ${seconds} s; opened ${f.opened()}, closed by the server ${f.closedByServer()}; ` +
          `server RSS peak ${(peak / 1024).toFixed(1)} MiB (+${((peak - baseline) / 1024).toFixed(1)}); ` +
          `PBX calls over TCP ${overTcp.successful} ok / ${overTcp.failed} failed, over TLS ${overTls.successful} ok / ${overTls.failed} failed`,
      );
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    const warnings = log.split("\n").filter((l) => l.includes(`"level":"warn"`));
    console.log(`warning lines logged: ${warnings.length}`);
  } finally {
    child.kill('SIGKILL');
  }
}

await main();
