/**
 * `vmpilot ping`, the container health check (Dockerfile HEALTHCHECK), against the real `vmpilot serve`
 * process: a real OPTIONS over real sockets.
 *
 * Covers: a running server: exit 0 and "200 OK from udp:127.0.0.1:PORT" (the config's first listener), and over
 * TCP with --target; a draining server (SIGTERM with a call in progress): exit 1 naming the 503; a stopped
 * server: exit 1 with "no answer ... within 2000 ms" over UDP and "connection refused" over TCP; a bad --target:
 * exit 2.
 * Does not cover: TLS targets (the same code path as TCP behind a TLS socket), a server that does not trust
 * loopback (its health-probe exception is in strangers.test.ts).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeTcpPort, freeUdpPort, logLine, runCli as vmpilot, serve, stopServing, type Serving } from '../helpers/cli-process.js';
import { SipUac } from '../helpers/sip-client.js';
import { reserveRtpPorts, type RtpRange } from '../helpers/rtp-range.js';
import { DEFAULT_SDP_RTP_PORT } from '../helpers/raw-peer.js';

// The RTP port is one this process holds (raw-peer.ts), not a fixed one another test's socket could have.
const SDP = `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${DEFAULT_SDP_RTP_PORT} RTP/AVP 0\r\n`;

let udpPort: number;
let tcpPort: number;
let configFile: string;
let server: Serving;
let rtp: RtpRange | undefined;

beforeAll(async () => {
  udpPort = await freeUdpPort();
  tcpPort = await freeTcpPort();
  rtp = await reserveRtpPorts(20);
  const dir = mkdtempSync(join(tmpdir(), 'vmpilot-ping-'));
  configFile = join(dir, 'vmpilot.yaml');
  writeFileSync(
    configFile,
    [
      'sip:',
      `  listen: ["udp:0.0.0.0:${udpPort}", "tcp:127.0.0.1:${tcpPort}"]`,
      `rtp: { address: 127.0.0.1, ports: "${rtp.ports}" }`,
      `storage: { dir: ${JSON.stringify(dir)} }`,
      'http: false',
      'services: { voicemail: ["8000"] }',
      'shutdown: { drainSeconds: 30 }',
      '',
    ].join('\n'),
  );
  server = serve(configFile);
  await logLine(server, 'vmpilot listening');
});

afterAll(async () => {
  await stopServing(server);
  await rtp?.release();
});

describe('vmpilot ping', () => {
  it('exits 0 on 200 from a running server, asking the config\'s first listener (a wildcard on loopback)', async () => {
    const r = await vmpilot('ping', '--config', configFile);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^200 OK from udp:127\\.0\\.0\\.1:${udpPort} in \\d+ ms\\n$`));
  });

  it('asks another listener with --target (TCP)', async () => {
    const r = await vmpilot('ping', '--target', `sip:127.0.0.1:${tcpPort};transport=tcp`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^200 OK from tcp:127\\.0\\.0\\.1:${tcpPort} `));
  });

  it('refuses a target that is not an IP address with exit 2', async () => {
    const r = await vmpilot('ping', '--target', 'sip:pbx.example.com:5060');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^vmpilot: ping: "sip:pbx\.example\.com:5060" is not a target/);
  });

  it('exits 1 on 503 while the server drains for shutdown, then "no answer" / "connection refused" once it has stopped', async () => {
    // A call in progress keeps the draining server up (voicemail asks for a mailbox and waits).
    const uac = await SipUac.open(udpPort);
    try {
      const answered = await uac.invite(SDP, '8000');
      expect(answered.status).toBe(200);
      server.child.kill('SIGTERM');
      await logLine(server, 'draining');
      const draining = await vmpilot('ping', '--config', configFile);
      expect(draining.code).toBe(1);
      expect(draining.stdout).toBe('');
      expect(draining.stderr).toMatch(new RegExp(`^vmpilot: ping: 503 [^\\n]* from udp:127\\.0\\.0\\.1:${udpPort} in \\d+ ms: the server is draining`));
      await uac.bye();
    } finally {
      uac.close();
    }
    const exit = await server.exited;
    expect(exit.code).toBe(0);

    const stopped = await vmpilot('ping', '--config', configFile);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(new RegExp(`^vmpilot: ping: no answer from udp:127\\.0\\.0\\.1:${udpPort} within 2000 ms \\(not running, or it ignores 127\\.0\\.0\\.1`));
    const refused = await vmpilot('ping', '--target', `sip:127.0.0.1:${tcpPort};transport=tcp`);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/connection refused/);
  }, 60_000);
});
