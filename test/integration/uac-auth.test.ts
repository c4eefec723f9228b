/**
 * vmpilot as a UAC answering digest challenges (RFC 3261 §22.2, RFC 2617 qop=auth) from a PBX that challenges
 * the BYEs it receives, with the credentials configured for that PBX (`pbx[].auth`), over UDP and TCP.
 *
 * Covers: a BYE challenged with 401 is resent once with an Authorization that SIPp's verifyauth accepts
 * (username, realm, nonce, opaque echoed; qop=auth with nc and cnonce; CSeq incremented), and the call ends
 * on the PBX's 200; a PBX that refuses the credentials (401 twice) gets no third BYE, and the call is over
 * on our side anyway.
 *
 * Does not cover: 407 / Proxy-Authorization (same code path, other header names; unit tests of the digest
 * module), challenges to UPDATE or re-INVITE refreshes (sent only after half a session interval, ≥ 45 s),
 * SHA-256 digests (SIPp 3.6.1 verifies MD5 only), TLS (the challenge handling does not depend on the transport).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSipp, type SippTransport } from '../helpers/sipp.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/test-server.js';

const TRANSPORTS: SippTransport[] = ['udp', 'tcp'];

describe.each(TRANSPORTS)('BYE challenged by the PBX over %s', (transport) => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer(
      [
        'services: { voicemail: ["8000"] }',
        'pbx: [{ name: mxone, addresses: ["127.0.0.1"], auth: { username: vmpilot, password: secret } }]',
      ].join('\n'),
      // T4 1 s: a UDP BYE's client transaction lingers for Timer K = T4 after its final response.
      '  timers: { t1Ms: 100, t2Ms: 4000, t4Ms: 1000 }',
    );
  });
  afterAll(async () => {
    await ts.stop();
  });

  /** Runs `scenario`, and once the call is up and acknowledged, hangs it up from vmpilot's side. */
  async function hangUpFromServer(scenario: string) {
    const run = runSipp({ scenario, transport, port: ts.port(transport), timeoutS: 20 });
    await waitFor(() => ts.server.calls.size === 1, 'the call to be up');
    // Give the ACK time to arrive so the BYE is sent at once rather than after the ACK.
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const call of ts.server.calls) await call.hangup();
    const result = await run;
    if (result.code !== 0) throw new Error(`SIPp ${scenario} over ${transport} failed (exit ${result.code}):\n${result.stderr}\n${result.stdout.slice(-3000)}`);
    return result;
  }

  it('MUST resend a challenged BYE once with valid digest credentials and a higher CSeq', async () => {
    const result = await hangUpFromServer('uac-server-bye-auth.xml');
    expect(result.successful).toBe(1);
    await waitFor(() => ts.server.stats().calls === 0 && ts.server.stats().clientTransactions === 0, 'the call and its BYE transactions to end');
  });

  it('MUST NOT retry again when the credentials are refused a second time', async () => {
    const result = await hangUpFromServer('uac-server-bye-auth-rejected.xml');
    // The scenario fails on a third BYE within 3 s of the second 401.
    expect(result.successful).toBe(1);
    expect(ts.server.stats().calls).toBe(0);
  });
});
