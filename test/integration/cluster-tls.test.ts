/**
 * The front door over TLS, and a real phone following its 302: `vmpilot serve` with `cluster: { workers: 1 }`
 * listening on UDP and TLS (real CLI, real worker process); a raw TLS client and baresip (/usr/bin/baresip,
 * headless) as callers.
 *
 * Covers: over TLS the 302's Contact names the worker's TLS port with transport=tls for a sip: Request-URI
 * and is a sips: URI for a sips: one; the INVITE sent there over TLS is answered 200 by the worker; baresip,
 * which follows a 302 by itself, calling the front door reaches the echo test (*43) on the worker and
 * exchanges audio with it.
 * Does not cover: SRTP (the worker's own media tests), TCP (same code as TLS in the redirector).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invite } from '../helpers/raw-peer.js';
import { tlsFixture } from '../helpers/tls-fixture.js';
import { freePort } from '../helpers/stunnel.js';
import { startCluster, statusAndContact, type Cluster } from '../helpers/cluster.js';

let cluster: Cluster;
let tlsPort: number;

beforeAll(async () => {
  const tls = tlsFixture();
  tlsPort = await freePort();
  cluster = await startCluster({
    workers: 1,
    listen: [`tls:127.0.0.1:${tlsPort}`],
    tls: { cert: tls.certFile, key: tls.keyFile },
  });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
});

/** Sends one INVITE over a new TLS connection to `port` and returns the first final response. */
async function tlsInvite(port: number, requestUri: string, callId: string): Promise<string> {
  const socket: TLSSocket = await new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', servername: 'localhost', ca: readFileSync(tlsFixture().caFile) });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  });
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  socket.write(invite({ port: socket.localPort ?? 5061, transport: 'TLS', callId }).replace(/^INVITE \S+/, `INVITE ${requestUri}`));
  try {
    const end = Date.now() + 5_000;
    while (!/^SIP\/2\.0 [2-6]\d\d /m.test(received)) {
      if (Date.now() > end) throw new Error(`no final response to ${requestUri} on ${port}:\n${received}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    socket.destroy();
  }
  return received.slice(received.search(/^SIP\/2\.0 [2-6]\d\d /m));
}

describe('the front door over TLS', () => {
  it('redirects a sip: INVITE to the worker\'s TLS port with transport=tls, and the worker answers it there', async () => {
    const workerTls = cluster.workers()[0]!.listen.find((l) => l.transport === 'tls')!.port;
    const { status, contact } = statusAndContact(await tlsInvite(tlsPort, 'sip:8000@127.0.0.1;transport=tls', 'tls-302'));
    expect(status).toBe(302);
    expect(contact).toBe(`sip:8000@127.0.0.1:${workerTls};transport=tls`);
    expect(statusAndContact(await tlsInvite(workerTls, contact!, 'tls-302-followed')).status).toBe(200);
  });

  it('redirects a sips: INVITE to a sips: Contact on the worker\'s TLS port', async () => {
    const workerTls = cluster.workers()[0]!.listen.find((l) => l.transport === 'tls')!.port;
    const { status, contact } = statusAndContact(await tlsInvite(tlsPort, 'sips:8000@127.0.0.1', 'sips-302'));
    expect(status).toBe(302);
    expect(contact).toBe(`sips:8000@127.0.0.1:${workerTls}`);
  });
});

describe('baresip calling the front door', () => {
  it('follows the 302 by itself and reaches the echo test on the worker, with audio both ways', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmpilot-baresip-'));
    // Headless: a 440 Hz tone as the microphone (ausine only makes 48 kHz stereo), no player.
    writeFileSync(
      join(dir, 'config'),
      [
        'poll_method epoll',
        'sip_listen 127.0.0.1:0',
        'audio_source ausine,440',
        'ausrc_srate 48000',
        'ausrc_channels 2',
        'module_path /usr/lib/baresip/modules',
        'module g711.so',
        'module ausine.so',
        'module_app account.so',
        'module_app menu.so',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'accounts'), '<sip:27000@127.0.0.1>;regint=0;audio_codecs=PCMU\n');
    const from = cluster.records().length;
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn('baresip', ['-f', dir, '-t', '5', '-e', `/dial sip:*43@127.0.0.1:${cluster.port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('error', reject);
      child.on('close', () => {
        clearTimeout(timer);
        resolve(out);
      });
    });
    expect(output).toContain('Call established');
    const received = await cluster.waitForLog((r) => r.msg === 'call received' && r.number === '*43', 'the echo call on the worker', 5_000, from);
    expect(received.worker).toBe(0);
    // The worker's hang-up line counts the caller's RTP it took (the echo test sends it back).
    const ended = await cluster.waitForLog((r) => r.callId === received.callId && typeof r.media === 'object', 'the echo call ended', 10_000, from);
    const media = ended.media as { sent: number; received: { accepted: number } };
    expect(media.received.accepted).toBeGreaterThan(50);
    expect(media.sent).toBeGreaterThan(50);
  }, 40_000);
});
