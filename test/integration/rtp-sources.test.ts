/**
 * Who may send a call's RTP, and when vmpilot starts sending (issue 9 items 1 and 7), with a real server, real
 * SIP over UDP and RTP probes on several loopback addresses: the PBX at 127.0.0.1 (pbx[].addresses, also the
 * SDP's c= address), one of its media gateways at 127.0.0.2 (pbx[].mediaAddresses), and strangers at
 * 127.0.0.66 / 127.0.0.3 that know the call's RTP port (as if they had guessed it).
 *
 * Covers: a stranger spraying RTP before the caller's first packet never latches, hears nothing and is not
 * recorded; a stranger sending during the caller's silence (longer than the re-latch delay) neither; a media
 * gateway the PBX names may take over after that silence (and a stranger at the same moment may not); an
 * INVITE that is never acknowledged makes vmpilot send no RTP and no RTCP to the SDP address (nor does a
 * stranger's packet start it), while the first packet from the caller does.
 * Does not cover: SRTP (media-probe.test.ts: a packet must authenticate before it can latch), IPv6 sources,
 * a re-INVITE moving the media (media-probe.test.ts hold/resume), the port allocator (media-ports.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call } from '../../src/call/call.js';
import type { RecordOutcome } from '../../src/media/recorder.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTones, readRecording } from '../helpers/audio-analysis.js';
import { answerPort, audioOffer, deferred, toneUlaw } from '../helpers/media-call.js';
import { RawUdpPeer, invite } from '../helpers/raw-peer.js';
import { startRtpProbe, type RtpProbe } from '../helpers/rtp-probe.js';
import { SipUac } from '../helpers/sip-client.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/test-server.js';

/** The parts of Call.mediaStats() these tests read (src/media/session.ts stats()). */
interface MediaStats {
  sent: number;
  received: { accepted: number; foreignSource: number; untrustedSource: number; latches: number };
  sentConnected: number;
}

const PBX = '127.0.0.1';
const GATEWAY = '127.0.0.2';
const STRANGER = '127.0.0.66';
const OTHER_STRANGER = '127.0.0.3';
/** The stranger's audio: a 2 kHz tone that must never reach a recording. */
const STRANGER_HZ = 2000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let ts: TestServer;
let sipPort: number;
const recordDir = mkdtempSync(join(tmpdir(), 'vmpilot-rtp-sources-'));
let app: (call: Call) => Promise<void> = async () => undefined;
const opened: { close(): unknown }[] = [];

beforeAll(async () => {
  ts = await startTestServer(
    // A continuous stream while recording, so that "the caller hears the call" can be counted.
    `pbx:\n  - { name: pbx, addresses: ["${PBX}"], mediaAddresses: ["${GATEWAY}"], rtpWhileRecording: silence }\n`,
    '',
    { apps: { voicemail: (call) => app(call) } },
  );
  sipPort = ts.port('udp');
});

afterAll(async () => {
  for (const o of opened) await o.close();
  await ts.stop();
});

async function probe(address = PBX): Promise<RtpProbe> {
  const p = await startRtpProbe({ address });
  opened.push(p);
  return p;
}

/** A call from the PBX whose app records `maxMs` of the caller (no beep, no silence limit). */
async function recordedCall(name: string, maxMs: number): Promise<{ uac: SipUac; caller: RtpProbe; rtpPort: number; done: Promise<{ outcome: RecordOutcome; stats: MediaStats; path: string }> }> {
  const path = join(recordDir, `${name}.wav`);
  const done = deferred<{ outcome: RecordOutcome; stats: MediaStats; path: string }>();
  app = async (call) => {
    const outcome = await call.record({ path, maxMs, silenceMs: 0, beep: false, endOnDigits: '', onHangup: 'keep' });
    done.resolve({ outcome, stats: call.mediaStats() as unknown as MediaStats, path });
  };
  const caller = await probe();
  const uac = await SipUac.open(sipPort);
  opened.push(uac);
  const ok = await uac.invite(audioOffer({ port: caller.port }));
  expect(ok.status).toBe(200);
  return { uac, caller, rtpPort: answerPort(ok), done: done.promise };
}

async function hangUp(u: SipUac): Promise<void> {
  if (!u.byeReceived) expect((await u.bye()).status).toBe(200);
  await waitFor(() => ts.server.calls.size === 0, 'the call to end on the server');
}

/** Tones (Hz) found in a recording. */
async function tonesIn(path: string): Promise<number[]> {
  const { samples } = await readRecording(path);
  return findTones(samples).map((t) => t.hz);
}

const near = (hz: number) => (found: number): boolean => Math.abs(found - hz) <= 50;

describe('RTP latching: only the call\'s legitimate sources (issue 9 item 1)', () => {
  it('a stranger sending before the caller\'s first packet never latches, hears nothing and is not recorded', async () => {
    const { uac, caller, rtpPort, done } = await recordedCall('stranger-at-setup', 2500);
    const stranger = await probe(STRANGER);
    // The stranger sprays 0.6 s of tone at once; the caller starts 300 ms later and sends 1.2 s of 400 Hz.
    const spraying = stranger.sendAudio(toneUlaw(STRANGER_HZ, 30), rtpPort, PBX);
    await sleep(300);
    await caller.sendAudio(toneUlaw(400, 60), rtpPort, PBX);
    await spraying;
    const { stats, path } = await done;
    await hangUp(uac);

    expect(stranger.packets, 'nothing is ever sent to the stranger').toHaveLength(0);
    // Before the caller latched, each was dropped by the receiver; after, the kernel drops them before it (the
    // socket is connected to the caller, rtp-link.ts).
    expect(stats.received.untrustedSource).toBeGreaterThan(0);
    expect(stats.received.untrustedSource).toBeLessThanOrEqual(30);
    expect(stats.received.latches).toBe(1);
    expect(stats.sentConnected, 'packets sent on the socket connected to the latched caller').toBeGreaterThan(50);
    expect(caller.packets.length, 'the caller hears the call').toBeGreaterThan(50);
    const tones = await tonesIn(path);
    expect(tones.some(near(STRANGER_HZ)), `the stranger's tone in the recording: ${tones}`).toBe(false);
    expect(tones.some(near(400)), `the caller's tone in the recording: ${tones}`).toBe(true);
  });

  it('a stranger sending during the caller\'s silence (longer than the re-latch delay) never takes over', async () => {
    const { uac, caller, rtpPort, done } = await recordedCall('stranger-after-silence', 3500);
    const stranger = await probe(STRANGER);
    await caller.sendAudio(toneUlaw(400, 25), rtpPort, PBX);
    await sleep(1300);
    const before = caller.packets.length;
    await stranger.sendAudio(toneUlaw(STRANGER_HZ, 25), rtpPort, PBX);
    await caller.sendAudio(toneUlaw(700, 25), rtpPort, PBX);
    const { stats, path } = await done;
    await hangUp(uac);

    expect(stranger.packets, 'nothing is ever sent to the stranger').toHaveLength(0);
    expect(caller.packets.length, 'the caller kept hearing the call meanwhile').toBeGreaterThan(before + 40);
    expect(stats.received.untrustedSource).toBe(25);
    expect(stats.received.latches).toBe(1);
    const tones = await tonesIn(path);
    expect(tones.some(near(STRANGER_HZ)), `the stranger's tone in the recording: ${tones}`).toBe(false);
    expect(tones.some(near(400)) && tones.some(near(700)), `the caller's tones in the recording: ${tones}`).toBe(true);
  });

  it('a media gateway the PBX names (pbx[].mediaAddresses) takes over after the caller\'s silence; a stranger at the same moment does not', async () => {
    const { uac, caller, rtpPort, done } = await recordedCall('gateway-relatch', 3500);
    const gateway = await probe(GATEWAY);
    const stranger = await probe(OTHER_STRANGER);
    await caller.sendAudio(toneUlaw(400, 25), rtpPort, PBX);
    await sleep(1300);
    await Promise.all([
      stranger.sendAudio(toneUlaw(STRANGER_HZ, 40), rtpPort, PBX),
      sleep(60).then(() => gateway.sendAudio(toneUlaw(700, 40), rtpPort, PBX)),
    ]);
    const { stats, path } = await done;
    await hangUp(uac);

    expect(stranger.packets).toHaveLength(0);
    expect(gateway.packets.length, 'the stream follows the gateway once it latched').toBeGreaterThan(20);
    expect(stats.received.latches).toBe(2);
    const tones = await tonesIn(path);
    expect(tones.some(near(STRANGER_HZ)), `the stranger's tone in the recording: ${tones}`).toBe(false);
    expect(tones.some(near(700)), `the gateway's tone in the recording: ${tones}`).toBe(true);
  });

  it('a re-INVITE naming a new c= address moves the stream there, and the new source is heard', async () => {
    const { uac, caller, rtpPort, done } = await recordedCall('reinvite-move', 3000);
    const moved = await probe(OTHER_STRANGER);
    await caller.sendAudio(toneUlaw(400, 25), rtpPort, PBX);
    const ok = await uac.reinvite(audioOffer({ port: moved.port, address: OTHER_STRANGER, version: 2 }));
    expect(ok.status).toBe(200);
    await moved.sendAudio(toneUlaw(700, 40), rtpPort, PBX);
    const { stats, path } = await done;
    await hangUp(uac);

    expect(moved.packets.length, 'the stream follows the new SDP address').toBeGreaterThan(20);
    expect(stats.received.latches).toBe(2);
    const tones = await tonesIn(path);
    expect(tones.some(near(400)) && tones.some(near(700)), `both tones in the recording: ${tones}`).toBe(true);
  });
});

describe('nothing is sent before the ACK or the caller\'s first RTP (issue 9 item 7)', () => {
  /** Sends an INVITE whose 2xx is never acknowledged; resolves with the server's RTP port. */
  async function unacknowledgedInvite(sdpPort: number): Promise<{ rtpPort: number; peer: RawUdpPeer }> {
    app = async () => undefined;
    const peer = await RawUdpPeer.open(PBX);
    opened.push(peer);
    const callId = `no-ack-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const sdp = audioOffer({ port: sdpPort });
    await peer.send(sipPort, invite({ port: peer.port, callId, sdp }));
    const ok = await peer.waitFor((t) => t.startsWith('SIP/2.0 200') && t.includes(callId));
    const m = /^m=audio (\d+) /m.exec(ok.text);
    if (!m) throw new Error(`no m=audio in the 200:\n${ok.text}`);
    return { rtpPort: Number(m[1]), peer };
  }

  it('sends no RTP and no RTCP to the SDP address of an INVITE that is never acknowledged, even when a stranger sends RTP', async () => {
    const target = await probe();
    const { rtpPort } = await unacknowledgedInvite(target.port);
    const stranger = await probe(STRANGER);
    await stranger.sendAudio(toneUlaw(STRANGER_HZ, 10), rtpPort, PBX);
    await sleep(1500);
    expect(target.packets, 'RTP sent to an unconfirmed peer').toHaveLength(0);
    expect(target.rtcp).toHaveLength(0);
    expect(stranger.packets).toHaveLength(0);
  });

  it('starts sending before the ACK once the caller\'s own RTP arrives (the caller is there)', async () => {
    const target = await probe();
    const { rtpPort } = await unacknowledgedInvite(target.port);
    await sleep(300);
    expect(target.packets).toHaveLength(0);
    await target.sendAudio(toneUlaw(400, 5), rtpPort, PBX);
    await target.waitForPackets(5, 2000);
  });
});
