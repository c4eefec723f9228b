/**
 * What a stranger (a source that is not a configured PBX) gets, and what the server tells about itself
 * (issue 9 item 8). The PBX is 127.0.0.1; the stranger is 127.0.0.2 (both loopback).
 *
 * Covers: sip.strangers reject (default): 403 for a well-formed and for a malformed request (a stranger learns
 * nothing about the parser), one warning line for ten requests from one source; a stranger's message over 8 KiB
 * is not parsed (no answer) and its garbage (malformed responses and requests) is logged only in the
 * rate-limited strangers' log; sip.strangers ignore: no answer
 * at all, over UDP and TCP, while the PBX is answered; the Server header is plain "vmpilot" (no version) by
 * default.
 *
 * A health check from this host (127.0.0.1, as `vmpilot ping` and the image's HEALTHCHECK send it) is answered
 * when `pbx` no longer trusts loopback: its out-of-dialog OPTIONS gets 200 (with either policy); anything else it
 * sends is a stranger's.
 *
 * Does not cover: the log's one-minute window and its cap over many sources (stranger-log.test.ts), rate
 * limits (rate-limit.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invite, options, RawTcpPeer, RawUdpPeer } from '../helpers/raw-peer.js';
import { createLogger } from '../../src/admin/log.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const PBX = 'pbx: [{ name: mxone, addresses: ["127.0.0.1"] }]';
const STRANGER = '127.0.0.2';

/** Sends an OPTIONS from `peer` and waits up to `ms` for its response; undefined when none came. */
async function ask(ts: TestServer, peer: RawUdpPeer, host: string, callId: string, ms = 2000, mangle = (t: string) => t): Promise<string | undefined> {
  const from = peer.received.length;
  await peer.send(ts.port('udp'), mangle(options({ host, port: peer.port, callId })));
  return peer
    .waitFor((t) => t.startsWith('SIP/2.0 ') && t.includes(callId), ms, from)
    .then((r) => r.text)
    .catch(() => undefined);
}

describe('strangers with sip.strangers: reject (the default)', () => {
  let ts: TestServer;
  let stranger: RawUdpPeer;
  let pbx: RawUdpPeer;
  const logs: string[] = [];
  beforeAll(async () => {
    ts = await startTestServer(PBX, '', {}, '', { logger: createLogger('info', { write: (line: string) => void logs.push(line) }) });
    stranger = await RawUdpPeer.open(STRANGER);
    pbx = await RawUdpPeer.open('127.0.0.1');
  });
  afterAll(async () => {
    stranger.close();
    pbx.close();
    await ts.stop();
  });

  it('answers a stranger 403 with a Server header that names no version', async () => {
    const res = await ask(ts, stranger, STRANGER, `stranger-403-${process.pid}`);
    expect(res).toMatch(/^SIP\/2\.0 403 /);
    expect(res).toMatch(/\r\nServer: vmpilot\r\n/);
  });

  it('answers a stranger\'s malformed request 403 too, not 400 with the parser\'s reason', async () => {
    const res = await ask(ts, stranger, STRANGER, `stranger-bad-${process.pid}`, 2000, (t) => t.replace('CSeq: 1 OPTIONS', 'CSeq: 1 INVITE'));
    expect(res).toMatch(/^SIP\/2\.0 403 /);
  });

  it('answers the PBX as before, with Server: vmpilot', async () => {
    const res = await ask(ts, pbx, '127.0.0.1', `pbx-200-${process.pid}`);
    expect(res).toMatch(/^SIP\/2\.0 200 /);
    expect(res).toMatch(/\r\nServer: vmpilot\r\n/);
  });

  it('logs ten refused requests from one source as one warning line', async () => {
    const source = await RawUdpPeer.open('127.0.0.3');
    try {
      for (let i = 0; i < 10; i++) expect(await ask(ts, source, '127.0.0.3', `many-${i}-${process.pid}`)).toMatch(/^SIP\/2\.0 403 /);
    } finally {
      source.close();
    }
    const lines = logs.filter((l) => l.includes('"source":"127.0.0.3"'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', answer: '403' });
  });

  it("does not parse a stranger's message over 8 KiB: no answer, one line in the strangers' log", async () => {
    const source = await RawUdpPeer.open('127.0.0.4');
    try {
      const pad = (t: string): string => t.replace('Max-Forwards: 70\r\n', `Max-Forwards: 70\r\nX-Pad: ${'a'.repeat(9000)}\r\n`);
      expect(await ask(ts, source, '127.0.0.4', `big-${process.pid}`, 1000, pad)).toBeUndefined();
      expect(await ask(ts, source, '127.0.0.4', `small-${process.pid}`)).toMatch(/^SIP\/2\.0 403 /); // the same stranger, a normal request
    } finally {
      source.close();
    }
    const lines = logs.filter((l) => l.includes('"source":"127.0.0.4"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([expect.objectContaining({ answer: 'none (too large)' })]);
  });

  it("logs a stranger's garbage only in the strangers' log: one line for twenty datagrams, not one each", async () => {
    const source = await RawUdpPeer.open('127.0.0.5');
    try {
      for (let i = 0; i < 10; i++) await source.send(ts.port('udp'), `SIP/2.0 99x Bad\r\n\r\n`);
      for (let i = 0; i < 10; i++) await source.send(ts.port('udp'), `\u0001\u0002 garbage ${i}\r\n\r\n`);
      // Then a request the server answers: every datagram before it has been handled.
      expect(await ask(ts, source, '127.0.0.5', `after-garbage-${process.pid}`)).toMatch(/^SIP\/2\.0 403 /);
    } finally {
      source.close();
    }
    const lines = logs.filter((l) => l.includes('127.0.0.5'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', source: '127.0.0.5', answer: 'none (malformed)' });
  });
});

describe('strangers with sip.strangers: ignore', () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer(PBX, '  strangers: ignore');
  });
  afterAll(async () => {
    await ts.stop();
  });

  it('sends a stranger nothing over UDP, and still answers the PBX', async () => {
    const stranger = await RawUdpPeer.open(STRANGER);
    const pbx = await RawUdpPeer.open('127.0.0.1');
    try {
      expect(await ask(ts, stranger, STRANGER, `ignored-udp-${process.pid}`, 500)).toBeUndefined();
      expect(await ask(ts, pbx, '127.0.0.1', `pbx-udp-${process.pid}`)).toMatch(/^SIP\/2\.0 200 /);
    } finally {
      stranger.close();
      pbx.close();
    }
  });

  it('sends a stranger nothing over TCP', async () => {
    const peer = await RawTcpPeer.open(ts.port('tcp'), STRANGER);
    try {
      peer.write(options({ host: STRANGER, port: peer.localPort, callId: `ignored-tcp-${process.pid}`, transport: 'TCP' }));
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(peer.text).toBe('');
    } finally {
      peer.close();
    }
  });
});

describe.each(['reject', 'ignore'])('a health check from 127.0.0.1 when only 127.0.0.2 is a PBX (strangers: %s)', (policy) => {
  let ts: TestServer;
  let local: RawUdpPeer;
  beforeAll(async () => {
    ts = await startTestServer('pbx: [{ name: mxone, addresses: ["127.0.0.2"] }]', `  strangers: ${policy}`);
    local = await RawUdpPeer.open('127.0.0.1');
  });
  afterAll(async () => {
    local.close();
    await ts.stop();
  });

  it('answers its OPTIONS 200', async () => {
    expect(await ask(ts, local, '127.0.0.1', `probe-${policy}-${process.pid}`)).toMatch(/^SIP\/2\.0 200 /);
  });

  it('treats its INVITE as a stranger\'s', async () => {
    const callId = `probe-invite-${policy}-${process.pid}`;
    const from = local.received.length;
    await local.send(ts.port('udp'), invite({ port: local.port, callId }));
    const res = await local
      .waitFor((t) => t.startsWith('SIP/2.0 ') && t.includes(callId), policy === 'reject' ? 2000 : 500, from)
      .then((r) => r.text)
      .catch(() => undefined);
    if (policy === 'reject') expect(res).toMatch(/^SIP\/2\.0 403 /);
    else expect(res).toBeUndefined();
  });
});
