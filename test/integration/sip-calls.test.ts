/**
 * Whole calls against the real server with SIPp as the PBX, over UDP, TCP and TLS (TLS through stunnel, as
 * Debian's SIPp has no TLS).
 *
 * Covers: basic call INVITE/100/200/ACK/BYE (codec choice and Session-Expires checked by the scenario);
 * server-initiated BYE; CANCEL before answer (487); lost ACK (200 retransmitted, then BYE); OPTIONS;
 * 404 for an unknown number; 488 with Warning for video-only and codec-less offers; 403 for an untrusted
 * source; resources released after every call.
 * Does not cover: retransmission timing (lost-ack-timing.test.ts), malformed input (malformed-input.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSipp, type SippTransport } from '../helpers/sipp.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/test-server.js';

const TRANSPORTS: SippTransport[] = ['udp', 'tcp', 'tls'];

describe.each(TRANSPORTS)('calls over %s', (transport) => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer('services: { voicemail: ["8000"], attendant: ["8001"] }', '  timers: { t1Ms: 100, t2Ms: 4000, t4Ms: 5000 }');
  });
  afterAll(async () => {
    await ts.stop();
  });

  async function sipp(scenario: string, extra: Partial<Parameters<typeof runSipp>[0]> = {}) {
    const result = await runSipp({ scenario, transport, port: ts.port(transport), ...extra });
    if (result.code !== 0) throw new Error(`SIPp ${scenario} over ${transport} failed (exit ${result.code}):\n${result.stderr}\n${result.stdout.slice(-3000)}`);
    return result;
  }

  it('answers a call to the voicemail pilot and ends it on the caller\'s BYE, releasing the call and its RTP ports', async () => {
    const result = await sipp('uac-basic-call.xml', { service: '8000' });
    expect(result.successful).toBe(1);
    await waitFor(() => ts.server.stats().calls === 0 && ts.server.stats().rtpPortsInUse === 0, 'call cleanup');
  });

  it('answers the attendant pilot too, five calls in a row', async () => {
    const result = await sipp('uac-basic-call.xml', { service: '8001', calls: 5, rate: 50 });
    expect(result.successful).toBe(5);
  });

  it('sends BYE when vmpilot ends the call, and the PBX\'s 200 closes it', async () => {
    const run = sipp('uac-server-bye.xml');
    await waitFor(() => ts.server.calls.size === 1, 'the call to be up');
    // Give the ACK time to arrive so the BYE is sent at once rather than after the ACK.
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const call of ts.server.calls) await call.hangup();
    const result = await run;
    expect(result.successful).toBe(1);
    await waitFor(() => ts.server.stats().calls === 0, 'call cleanup');
  });

  it('answers OPTIONS with 200 carrying Allow, Accept and Supported', async () => {
    const result = await sipp('uac-options.xml');
    expect(result.successful).toBe(1);
  });

  it('refuses a call to an unknown number with 404', async () => {
    const result = await sipp('uac-rejected-404.xml', { service: '12345' });
    expect(result.successful).toBe(1);
  });

  it('refuses a video-only offer with 488 and a Warning', async () => {
    const result = await sipp('uac-488-video-only.xml');
    expect(result.successful).toBe(1);
  });

  it('refuses an offer with no common codec with 488 and a Warning', async () => {
    const result = await sipp('uac-488-no-common-codec.xml');
    expect(result.successful).toBe(1);
  });

  it('ends a call whose 200 is never acknowledged with BYE after 64*T1', async () => {
    const started = Date.now();
    const result = await sipp('uac-lost-ack.xml');
    expect(result.successful).toBe(1);
    // 64 * T1 with T1 = 100 ms in this server's config.
    expect(Date.now() - started).toBeGreaterThanOrEqual(6000);
    await waitFor(() => ts.server.stats().calls === 0, 'call cleanup');
  });
});

describe.each(TRANSPORTS)('CANCEL before answer over %s', (transport) => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer('services: { voicemail: ["8000"], answerDelayMs: 3000 }');
  });
  afterAll(async () => {
    await ts.stop();
  });

  it('answers the CANCEL with 200 and the INVITE with 487, and frees the call', async () => {
    const result = await runSipp({ scenario: 'uac-cancel.xml', transport, port: ts.port(transport) });
    expect(result.code, result.stdout.slice(-2000)).toBe(0);
    expect(result.successful).toBe(1);
    await waitFor(() => ts.server.stats().calls === 0 && ts.server.stats().rtpPortsInUse === 0, 'call cleanup');
  });
});

describe.each(TRANSPORTS)('untrusted source over %s', (transport) => {
  let ts: TestServer;
  beforeAll(async () => {
    // Only 127.0.0.2 is a PBX: SIPp on 127.0.0.1 is a stranger.
    ts = await startTestServer('pbx: [{ name: other, addresses: ["127.0.0.2"] }]');
  });
  afterAll(async () => {
    await ts.stop();
  });

  it('refuses an INVITE with 403 and creates no call', async () => {
    const result = await runSipp({ scenario: 'uac-rejected-403.xml', transport, port: ts.port(transport) });
    expect(result.code, result.stdout.slice(-2000)).toBe(0);
    expect(ts.server.stats().calls).toBe(0);
  });
});
