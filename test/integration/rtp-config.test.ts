/**
 * The rtp section of the config as a PBX sees it, with a real server and real SIP over UDP.
 *
 * Covers: rtp.ports of 4 ports serves exactly 2 calls at once (the top pair included); the next INVITE gets
 * 503 with Retry-After, logged as one warning line naming the configured range, without a stack trace
 * (issue 9 item 13); rtp.advertise is the address in the answer's c= and o= lines (issue 9 item 18), while
 * RTP is still bound to rtp.address; pbx[].rtpWhileRecording: while a caller is recorded and nothing is
 * played, `silence` sends 50 packets a second, `keepalive` (the default) one, `none` nothing, and RTCP goes
 * on in every case (the hang-up's SR + BYE).
 * Does not cover: the allocator's order and quarantine (test/unit/media-ports.test.ts), the sender's
 * keepalive timeline (test/unit/media-rtp-sender.test.ts).
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { Call } from '../../src/call/call.js';
import { answerPort, audioOffer, deferred } from '../helpers/media-call.js';
import { startRtpProbe, type RtpProbe } from '../helpers/rtp-probe.js';
import { SipUac } from '../helpers/sip-client.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/test-server.js';

const opened: { close(): unknown }[] = [];
const servers: TestServer[] = [];

afterAll(async () => {
  for (const o of opened) await o.close();
  for (const s of servers) await s.stop();
});

async function probe(address = '127.0.0.1'): Promise<RtpProbe> {
  const p = await startRtpProbe({ address });
  opened.push(p);
  return p;
}

async function uac(ts: TestServer, address?: string): Promise<SipUac> {
  const u = await SipUac.open(ts.port('udp'), address);
  opened.push(u);
  return u;
}

describe('rtp.ports exhausted (issue 9 item 13)', () => {
  it('answers as many calls as the range has pairs, then 503 with Retry-After and one warning line without a stack', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const held = deferred<void>();
    const ts = await startTestServer('', '', { apps: { voicemail: async (call: Call) => { await Promise.race([held.promise, call.whenEnded()]); } } }, '', { rtpPorts: 4, logger });
    servers.push(ts);
    const { min, max } = ts.rtpPorts;

    const first = await uac(ts);
    const second = await uac(ts);
    const answers = [await first.invite(audioOffer({ port: (await probe()).port })), await second.invite(audioOffer({ port: (await probe()).port }))];
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(answers.map(answerPort).sort((a, b) => a - b), 'both pairs of the range, the top one included').toEqual([min, min + 2]);

    const third = await uac(ts);
    const refused = await third.invite(audioOffer({ port: (await probe()).port }));
    expect(refused.status).toBe(503);
    expect(refused.header('retry-after')).toMatch(/^\d+$/);

    const warnings = lines.filter((l) => typeof l.msg === 'string' && (l.msg as string).includes('RTP port'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.level, 'a warning, not an error').toBe(40);
    expect(warnings[0]!.err, 'no error object (and so no stack trace) in the line').toBeUndefined();
    expect(JSON.stringify(warnings[0])).not.toMatch(/\bat .*\.ts:\d+/);
    expect(warnings[0]!.msg).toContain(`${min}-${max}`);

    held.resolve();
    await Promise.all([first.bye(), second.bye()]);
    await waitFor(() => ts.server.calls.size === 0, 'the calls to end');
  });
});

describe('rtp.advertise (issue 9 item 18)', () => {
  it('writes the advertised address in the answer\'s c= and o= lines; RTP still arrives on rtp.address', async () => {
    const recorded = deferred<{ accepted: number }>();
    const ts = await startTestServer(
      '',
      '',
      {
        apps: {
          voicemail: async (call: Call) => {
            await new Promise((resolve) => setTimeout(resolve, 400));
            recorded.resolve((call.mediaStats() as { received: { accepted: number } }).received);
          },
        },
      },
      'advertise: 192.0.2.7',
    );
    servers.push(ts);
    const p = await probe();
    const u = await uac(ts);
    const ok = await u.invite(audioOffer({ port: p.port }));
    expect(ok.status).toBe(200);
    expect(ok.body).toMatch(/^c=IN IP4 192\.0\.2\.7\r?$/m);
    expect(ok.body).toMatch(/^o=\S+ \S+ \S+ IN IP4 192\.0\.2\.7\r?$/m);
    // The media itself is bound to rtp.address (127.0.0.1): a NAT in front forwards the advertised one there.
    await p.sendAudio(new Uint8Array(160 * 5).fill(0xff), answerPort(ok), '127.0.0.1');
    expect((await recorded.promise).accepted).toBe(5);
    await u.bye();
  });
});

describe('pbx[].rtpWhileRecording', () => {
  const PBXS = { silence: '127.0.0.1', keepalive: '127.0.0.4', none: '127.0.0.5' } as const;
  const RECORD_MS = 2500;
  let ts: TestServer;
  const recordDir = mkdtempSync(join(tmpdir(), 'vmpilot-rtp-while-recording-'));
  // Resolved by the app as it starts the recording: the packets counted are those after it. Before it the call
  // sends silence (the policy is for the recording), for as long as the app takes to get there: 40 ms once on a
  // loaded machine, which a count from the ACK on took for packets sent while recording.
  let recordingStarted = deferred<void>();

  it.each([
    // 2.5 s of recording is 125 frames; wall time may stretch it on a loaded machine, hence no upper bound.
    ['silence', 100, Infinity],
    ['keepalive', 1, 5],
    // One packet sent before the recording started may still be on its way.
    ['none', 0, 1],
  ] as const)('%s: from %d to %d RTP packets during 2.5 s of recording, and RTCP still', async (policy, least, most) => {
    ts ??= await (async () => {
      const server = await startTestServer(
        [
          'pbx:',
          `  - { name: continuous, addresses: ["${PBXS.silence}"], rtpWhileRecording: silence }`,
          `  - { name: default, addresses: ["${PBXS.keepalive}"] }`,
          `  - { name: quiet, addresses: ["${PBXS.none}"], rtpWhileRecording: none }`,
          '',
        ].join('\n'),
        '',
        {
          apps: {
            voicemail: async (call: Call) => {
              // record() puts the recorder in its recording state before it returns the promise.
              const recorded = call.record({ path: join(recordDir, `${call.callId}.wav`), maxMs: RECORD_MS, silenceMs: 0, beep: false, endOnDigits: '', onHangup: 'keep' });
              recordingStarted.resolve();
              await recorded;
              await call.hangup();
            },
          },
        },
      );
      servers.push(server);
      return server;
    })();
    const address = PBXS[policy];
    const p = await probe(address);
    const rtcp = createSocket('udp4');
    const reports: Buffer[] = [];
    rtcp.on('message', (d) => reports.push(d));
    await new Promise<void>((resolve) => rtcp.bind(p.port + 1, address, () => resolve()));
    opened.push(rtcp);
    const u = await uac(ts, address);
    recordingStarted = deferred<void>();
    const ok = await u.invite(audioOffer({ port: p.port, address }));
    expect(ok.status).toBe(200);
    await recordingStarted.promise;
    const before = p.packets.length;
    // The caller talks (as a caller leaving a message does), so the call is latched and its no-RTP timer happy.
    const talking = p.sendAudio(new Uint8Array(160 * 100).fill(0xff), answerPort(ok), '127.0.0.1');
    await u.waitForBye(RECORD_MS + 3000);
    await talking;
    await waitFor(() => reports.length > 0, 'the RTCP report and BYE of the hang-up', 2000);
    const whileRecording = p.packets.length - before;
    expect(whileRecording, `${policy}: RTP packets while recording`).toBeGreaterThanOrEqual(least);
    expect(whileRecording, `${policy}: RTP packets while recording`).toBeLessThanOrEqual(most);
  });
});
