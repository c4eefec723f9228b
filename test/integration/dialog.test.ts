/**
 * What happens inside a call once it is up, against the real server with SIPp as the PBX, over UDP and TCP.
 *
 * Covers: session timers in the INVITE's 200 (RFC 4028 §9: refresher=uac with Require: timer when the PBX
 * supports timers, refresher=uas without Require when it does not; Session-Expires below 90 s → 422 with
 * Min-SE: 90); hold with a=sendonly answered a=recvonly, RFC 2543 hold (c=0.0.0.0), resume answered sendrecv,
 * and the call's media state following them; a session refresh by UPDATE without SDP (200 with
 * Session-Expires); INFO application/dtmf-relay (200); BYE; an offerless INVITE (our offer in the 200 —
 * PCMU, PCMA, telephone-event — and the PBX's answer in the ACK taken as the negotiated audio); a re-INVITE
 * whose CSeq is below the last one (500, and the call carries on); resources released after each call.
 *
 * Does not cover: session-timer expiry and vmpilot refreshing as refresher=uas (the intervals are ≥ 90 s;
 * left to unit tests of session-timer.ts with short timers), re-INVITE glare (491), what INFO digits do to an
 * application (no application listens yet), TLS (the dialog layer does not depend on the transport; the
 * call-setup tests in sip-calls.test.ts run over TLS).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSipp, type SippRun, type SippTransport } from '../helpers/sipp.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/test-server.js';

const TRANSPORTS: SippTransport[] = ['udp', 'tcp'];

describe.each(TRANSPORTS)('in-dialog requests over %s', (transport) => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer('services: { voicemail: ["8000"] }', '  timers: { t1Ms: 100, t2Ms: 4000, t4Ms: 5000 }');
  });
  afterAll(async () => {
    await ts.stop();
  });

  async function sipp(scenario: string, extra: Partial<SippRun> = {}) {
    const result = await runSipp({ scenario, transport, port: ts.port(transport), timeoutS: 20, ...extra });
    if (result.code !== 0) throw new Error(`SIPp ${scenario} over ${transport} failed (exit ${result.code}):\n${result.stderr}\n${result.stdout.slice(-3000)}`);
    return result;
  }

  async function expectCleanedUp(): Promise<void> {
    await waitFor(() => ts.server.stats().calls === 0 && ts.server.stats().rtpPortsInUse === 0, 'the call and its RTP ports to be released');
  }

  it('MUST answer hold (sendonly → recvonly), RFC 2543 hold, resume (sendrecv), an UPDATE refresh, an INFO and a BYE with 200, the call going on and off hold', async () => {
    // The scenario pauses 300 ms after each ACK; sample the call's media state meanwhile.
    const seen: boolean[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const call = [...ts.server.calls][0];
        const onHold = call?.audio?.onHold;
        if (onHold !== undefined && seen[seen.length - 1] !== onHold) seen.push(onHold);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    try {
      const result = await sipp('uac-hold-resume.xml');
      expect(result.successful).toBe(1);
    } finally {
      sampling = false;
      await sampler;
    }
    // Up, held (sendonly, then c=0.0.0.0, both on hold), resumed.
    expect(seen).toEqual([false, true, false]);
    await expectCleanedUp();
  });

  it('MUST put Session-Expires with refresher=uas and no Require: timer in the 200 when the INVITE does not support timers', async () => {
    const result = await sipp('uac-no-timer.xml');
    expect(result.successful).toBe(1);
    await expectCleanedUp();
  });

  it('MUST reject a Session-Expires below 90 s with 422 carrying Min-SE: 90, and create no call', async () => {
    const result = await sipp('uac-session-interval-too-small.xml');
    expect(result.successful).toBe(1);
    await expectCleanedUp();
  });

  it('MUST put an offer (PCMU, PCMA, telephone-event) in the 200 to an offerless INVITE and take the answer from the ACK', async () => {
    const run = sipp('uac-offerless.xml');
    // The scenario answers with PCMU on 127.0.0.1:49170 and keeps the call up for 1 s.
    await waitFor(() => [...ts.server.calls].some((c) => c.audio !== undefined), 'the answer in the ACK to be negotiated');
    const audio = [...ts.server.calls][0]?.audio;
    expect(audio).toMatchObject({ codec: 'PCMU', payloadType: 0, remoteAddress: '127.0.0.1', remotePort: 49170, onHold: false });
    expect(audio?.telephoneEvent).toBeTypeOf('number');
    const result = await run;
    expect(result.successful).toBe(1);
    await expectCleanedUp();
  });

  it('MUST reject a re-INVITE whose CSeq is lower than the last with 500, and keep the call', async () => {
    const result = await sipp('uac-reinvite-cseq-out-of-order.xml');
    expect(result.successful).toBe(1);
    await expectCleanedUp();
  });
});
