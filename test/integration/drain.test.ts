/**
 * Graceful shutdown as an operator sees it: the real `vmpilot serve` process (src/admin/cli.ts run through
 * tsx), a call in progress from SIPp, then SIGTERM.
 *
 * Covers: after SIGTERM a new INVITE is refused with 503 (with Retry-After) while the process keeps serving the
 * call in progress; that call's BYE is answered 200 and SIPp counts it successful; the process then exits 0 on
 * its own, soon after the last call ended rather than at the drain deadline.
 *
 * Does not cover: the drain deadline ending calls that outlive it (BYE from vmpilot; the RunningServer.close()
 * path is exercised by every integration test's teardown), a second SIGTERM (exits at once; cli.ts), TCP/TLS
 * (draining is decided above the transport).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { invite, RawUdpPeer } from '../helpers/raw-peer.js';
import { runSipp } from '../helpers/sipp.js';
import { freeUdpPort, serve, type Serving } from '../helpers/cli-process.js';
import { reserveRtpPorts } from '../helpers/rtp-range.js';

const DRAIN_SECONDS = 20;




/** Waits until a log line with this `msg` appears (or the process exits, or time runs out). */
async function logLine(s: Serving, msg: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!s.stdout().split('\n').some((l) => l.includes(`"msg":"${msg}`))) {
    if (s.child.exitCode !== null) throw new Error(`vmpilot exited (${s.child.exitCode}) before logging "${msg}":\n${(await s.exited).stderr}\n${s.stdout()}`);
    if (Date.now() > end) throw new Error(`vmpilot did not log "${msg}" within ${timeoutMs} ms:\n${s.stdout()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('vmpilot serve on SIGTERM', () => {
  it('refuses new calls with 503, lets the call in progress finish, then exits 0', async () => {
    const port = await freeUdpPort();
    const rtp = await reserveRtpPorts(20);
    const dir = mkdtempSync(join(tmpdir(), 'vmpilot-drain-'));
    const configFile = join(dir, 'vmpilot.yaml');
    writeFileSync(
      configFile,
      [
        'sip:',
        `  listen: ["udp:127.0.0.1:${port}"]`,
        `rtp: { address: 127.0.0.1, ports: "${rtp.ports}" }`,
        `storage: { dir: ${JSON.stringify(dir)} }`,
        'http: false',
        'services: { voicemail: ["8000"] }',
        `shutdown: { drainSeconds: ${DRAIN_SECONDS} }`,
        'log: { level: info }',
        '',
      ].join('\n'),
    );
    const server = serve(configFile);
    const peer = await RawUdpPeer.open('127.0.0.1');
    try {
      await logLine(server, 'vmpilot listening');

      // A call that stays up for 3 s.
      let sippDoneAt = 0;
      const call = runSipp({ scenario: 'uac-long-call.xml', transport: 'udp', port, timeoutS: 20 }).then((r) => {
        sippDoneAt = Date.now();
        return r;
      });
      await logLine(server, 'call received');
      await new Promise((r) => setTimeout(r, 300)); // let the 200 and the ACK cross

      server.child.kill('SIGTERM');
      await logLine(server, 'draining');

      const callId = `drain-${process.pid}-${Date.now()}`;
      await peer.send(port, invite({ port: peer.port, callId }));
      const refused = await peer.waitFor((t) => /^SIP\/2\.0 [2-6]\d\d /.test(t) && t.includes(`Call-ID: ${callId}\r\n`), 3000);
      expect(refused.text.split('\r\n')[0]).toMatch(/^SIP\/2\.0 503 /);
      expect(refused.text).toMatch(/\r\nRetry-After: *\d+/i);
      // §17.1.1.3: acknowledge the final response so that vmpilot stops retransmitting it.
      const toHeader = refused.text.split('\r\n').find((l) => /^To:/i.test(l)) ?? 'To: <sip:8000@127.0.0.1>';
      await peer.send(
        port,
        [
          'ACK sip:8000@127.0.0.1 SIP/2.0',
          `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK${callId};rport`,
          `From: <sip:27000@127.0.0.1>;tag=from-${callId}`,
          toHeader,
          `Call-ID: ${callId}`,
          'CSeq: 1 ACK',
          'Max-Forwards: 70',
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
      );
      expect(server.child.exitCode, 'vmpilot must keep running while a call is in progress').toBeNull();

      const result = await call;
      expect(result.code, `${result.stderr}\n${result.stdout.slice(-2000)}`).toBe(0);
      expect(result.successful).toBe(1);

      const exit = await server.exited;
      expect(exit.code, exit.stderr).toBe(0);
      // The call ended by the PBX's BYE, not by the shutdown, and only then did vmpilot stop.
      const messages = server
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg?: string; reason?: string });
      const ended = messages.findIndex((m) => m.msg === 'call ended');
      expect(messages[ended]?.reason).toBe('remote-bye');
      expect(messages.findIndex((m) => m.msg === 'vmpilot stopped')).toBeGreaterThan(ended);
      // It left because the last call ended, not because the 20 s deadline passed.
      expect(exit.at - sippDoneAt).toBeLessThan(5000);
    } finally {
      peer.close();
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
      await rtp.release();
    }
  }, 45_000);
});
