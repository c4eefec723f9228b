/**
 * Supervised transfer end to end: a real server whose attendant app calls supervisedTransfer(), a caller
 * over real SIP/UDP (test/helpers/sip-client.ts) with an RTP probe as its media, and SIPp as the PBX and the
 * called phone behind it (sipp-scenarios/uas-transfer-*.xml), a second RTP probe standing in for that phone's
 * media where audio is checked.
 *
 * Covers — answered: the new INVITE (number at the PBX's address, the original caller in From, the caller's
 * law offered first); ringback to the caller while it rings; a tone from the caller reaches the phone and a
 * tone from the phone reaches the caller; the caller's stream keeps one SSRC with contiguous sequence numbers
 * and timestamps from ringback through the relayed audio; PCMU↔PCMA transcoding when the phone answers PCMA;
 * the caller's BYE ends the phone's leg, the phone's BYE ends the caller's. Busy (486 → 'busy'), invalid
 * (404 → 'invalid'), no answer (our timeout → CANCEL → 487 → 'no-answer', ringback heard meanwhile), the
 * caller hanging up while it rings (CANCEL), a 302 followed to a second SIPp, a 407 answered with credentials.
 * Does not cover: TCP/TLS to the PBX (the usage does not depend on the transport), SRTP on either leg, the
 * attendant's menu and voicemail fallback (issue 5's attendant work), digest verification of the 407 answer
 * (SIPp reads only Authorization; the unit test verifies it), re-INVITEs from the phone (unit test).
 *
 * Figures (relay delay, audio coverage) are printed with console.log so a run shows them.
 */
import { createSocket } from 'node:dgram';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallEndedError, type Call } from '../../src/call/call.js';
import { supervisedTransfer, type SupervisedTransferResult } from '../../src/call/supervised-transfer.js';
import type { DigestCredentials } from '../../src/sip/auth/digest.js';
import { ALAW_TO_LINEAR, ULAW_TO_LINEAR, linearToAlaw, linearToUlaw } from '../../src/media/g711.js';
import { findTones } from '../helpers/audio-analysis.js';
import { startRtpProbe, type ProbedPacket, type RtpProbe } from '../helpers/rtp-probe.js';
import { SipUac } from '../helpers/sip-client.js';
import { runSipp, type SippResult } from '../helpers/sipp.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/test-server.js';
import { freeUdpPort } from '../helpers/cli-process.js';

const logger = pino({ level: process.env.VMPILOT_TEST_LOG ?? 'silent' });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Plan {
  target: string;
  pbxPort: number;
  timeoutMs: number;
  credentials?: DigestCredentials;
  cancelGraceMs?: number;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

let ts: TestServer;
let plan: Plan;
/** The transfer's result, or the CallEndedError it rejected with. */
let outcome: Deferred<SupervisedTransferResult | CallEndedError>;
let transferred: Deferred<Call>;

beforeAll(async () => {
  ts = await startTestServer('services: { attendant: ["8001"] }', '  timers: { t1Ms: 100, t2Ms: 400, t4Ms: 500 }', {
    apps: {
      // The attendant's part under test: transfer, and for this test hang up when it did not connect (the real
      // attendant offers the target's voicemail or says "not a valid extension").
      attendant: async (call) => {
        const p = plan;
        const result = await supervisedTransfer(call, p.target, { pbxUri: `sip:127.0.0.1:${p.pbxPort}`, timeoutMs: p.timeoutMs, credentials: p.credentials, cancelGraceMs: p.cancelGraceMs, logger }).catch(
          (err: unknown) => {
            if (err instanceof CallEndedError) return err;
            throw err;
          },
        );
        transferred.resolve(call);
        outcome.resolve(result);
        if (result instanceof CallEndedError) throw result;
        if (result.outcome !== 'answered') await call.hangup();
      },
    },
  });
});

afterAll(async () => {
  await ts.stop();
});


/** Starts SIPp as the PBX/phone on a port of its own; -key values go into its messages. */
async function phone(scenario: string, keys: Record<string, string | number> = {}): Promise<{ port: number; done: Promise<SippResult> }> {
  const port = await freeUdpPort();
  // SIPp binds its own RTP port (and +2) even when it sends no media: give it a free one.
  const mediaPort = await freeUdpPort();
  const extra = ['-p', String(port), '-mp', String(mediaPort), ...Object.entries(keys).flatMap(([k, v]) => ['-key', k, String(v)])];
  const done = runSipp({ scenario, transport: 'udp', port: ts.port('udp'), timeoutS: 30, extra });
  await sleep(300); // SIPp binds its port
  return { port, done };
}

function expectSippOk(result: SippResult, what: string): void {
  if (result.code !== 0) throw new Error(`SIPp ${what} failed (exit ${result.code}):\n${result.stderr}\n${result.stdout.slice(-3000)}`);
}

/** The caller: a UAC calling the attendant pilot with one PCMU stream on its probe. */
async function caller(): Promise<{ uac: SipUac; probe: RtpProbe; vmPort: number }> {
  const probe = await startRtpProbe();
  const uac = await SipUac.open(ts.port('udp'));
  const sdp = ['v=0', 'o=caller 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${probe.port} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=ptime:20', 'a=sendrecv', ''].join('\r\n');
  const res = await uac.invite(sdp, '8001');
  expect(res.status).toBe(200);
  return { uac, probe, vmPort: Number(/m=audio (\d+)/.exec(res.body)![1]) };
}

/** `ms` of a sine at `hz`, -12 dBFS, in a G.711 law. */
function tone(hz: number, ms: number, law: 'PCMU' | 'PCMA'): Buffer {
  const out = Buffer.alloc(ms * 8);
  for (let i = 0; i < out.length; i++) {
    const s = Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 8000));
    out[i] = law === 'PCMU' ? linearToUlaw(s) : linearToAlaw(s);
  }
  return out;
}

/** PCM of probed packets in arrival order (loopback: arrival order is sending order). */
function pcm(packets: readonly ProbedPacket[]): Int16Array {
  const total = packets.reduce((n, p) => n + p.payload.length, 0);
  const out = new Int16Array(total);
  let at = 0;
  for (const p of packets) {
    const table = p.payloadType === 8 ? ALAW_TO_LINEAR : ULAW_TO_LINEAR;
    for (const b of p.payload) out[at++] = table[b]!;
  }
  return out;
}

/** Power of the audio at one frequency (a plain DFT bin). */
function powerAt(samples: Int16Array, hz: number): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < samples.length; i++) {
    re += samples[i]! * Math.cos((2 * Math.PI * hz * i) / 8000);
    im += samples[i]! * Math.sin((2 * Math.PI * hz * i) / 8000);
  }
  return (re * re + im * im) / samples.length;
}

/** Milliseconds of tone at `hz` (±15 Hz) in the audio, and its level (the loudest part's dBFS). */
function heard(samples: Int16Array, hz: number): { ms: number; dbfs: number } {
  const tones = findTones(samples).filter((t) => Math.abs(t.hz - hz) <= 15);
  return { ms: tones.reduce((ms, t) => ms + t.endMs - t.startMs, 0), dbfs: Math.max(-99, ...tones.map((t) => t.dbfs)) };
}

/** The level our tone() has when decoded in its own law: what a listener must hear, within 1 dB. */
const TONE_DBFS = findTones(pcm([{ payloadType: 0, payload: tone(1000, 200, 'PCMU') } as ProbedPacket]))[0]!.dbfs;

function begin(p: Plan): void {
  plan = p;
  outcome = deferred();
  transferred = deferred();
}

describe('supervised transfer answered', () => {
  /**
   * The caller and the phone each send a one-second tone once the transfer connected; each must hear the
   * other's. `codec` is what the phone answers with (the caller speaks PCMU).
   */
  async function talk(codec: 'PCMU' | 'PCMA', scenario: string) {
    const phoneMedia = await startRtpProbe();
    const pbx = await phone(scenario, { probe_port: phoneMedia.port, pt: codec === 'PCMU' ? 0 : 8, codec });
    begin({ target: '2001', pbxPort: pbx.port, timeoutMs: 10_000 });
    const { uac, probe, vmPort } = await caller();
    const result = await outcome.promise;
    expect(result).toEqual({ outcome: 'answered', status: 200 });
    // vmpilot's leg to the phone sends to the phone's probe from its own RTP port: that is where to talk.
    await phoneMedia.waitForPackets(1);
    const legPort = phoneMedia.packets[0]!.from.port;
    const connectedAt = probe.packets.length;
    const sentAt = process.hrtime.bigint();
    await Promise.all([
      probe.sendAudio(tone(1000, 1000, 'PCMU'), vmPort),
      phoneMedia.sendAudio(tone(600, 1000, codec), legPort, '127.0.0.1', { pt: codec === 'PCMU' ? 0 : 8 }),
    ]);
    await sleep(200);
    const toPhone = phoneMedia.packets.filter((p) => p.at >= sentAt);
    const toCaller = probe.packets.slice(connectedAt).filter((p) => p.at >= sentAt);
    return { uac, probe, phoneMedia, pbx, toPhone, toCaller, sentAt };
  }

  it('relays audio both ways with each leg keeping its own SSRC, sequence and timestamps; the caller BYE ends the phone leg', async () => {
    const { uac, probe, phoneMedia, pbx, toPhone, toCaller, sentAt } = await talk('PCMU', 'uas-transfer-answer.xml');
    const heardByPhone = heard(pcm(toPhone), 1000).ms;
    const heardByCaller = heard(pcm(toCaller), 600).ms;
    const firstAtPhone = toPhone.find((p) => p.payload.some((b) => b !== 0xff && b !== 0x7f));
    console.log(`relay: phone heard ${heardByPhone} ms of the caller's 1000 ms tone, caller heard ${heardByCaller} ms of the phone's; first tone packet at the phone ${firstAtPhone ? (Number(firstAtPhone.at - sentAt) / 1e6).toFixed(1) : '-'} ms after sending began`);
    expect(heardByPhone).toBeGreaterThanOrEqual(900);
    expect(heardByCaller).toBeGreaterThanOrEqual(900);
    expect(toPhone.every((p) => p.payloadType === 0)).toBe(true);
    // RFC 3550 §5.1: one source, one stream: ringback and relayed audio share the caller leg's SSRC, and the
    // sequence and timestamp run on without a jump; the phone's leg likewise.
    for (const stats of [probe.stats(), phoneMedia.stats()]) {
      expect(stats.ssrcs).toHaveLength(1);
      expect(stats.seqGaps).toBe(0);
      expect(stats.tsStepsNot160).toBe(0);
    }
    expect((await uac.bye()).status).toBe(200);
    expectSippOk(await pbx.done, 'uas-transfer-answer.xml');
    await waitFor(() => ts.server.stats().calls === 0, 'the caller leg to end');
    await waitFor(() => ts.server.stats().rtpPortsInUse === 0, 'both legs to release their RTP ports');
    uac.close();
    await Promise.all([probe.close(), phoneMedia.close()]);
  });

  it('transcodes PCMU↔PCMA when the phone answers A-law; the phone BYE ends the caller leg', async () => {
    const { uac, probe, phoneMedia, pbx, toPhone, toCaller } = await talk('PCMA', 'uas-transfer-answer-hangup.xml');
    expect(toPhone.length).toBeGreaterThan(40);
    expect(toPhone.every((p) => p.payloadType === 8)).toBe(true);
    expect(toCaller.every((p) => p.payloadType === 0)).toBe(true);
    // Same tone and same level on the far side: a payload passed on in the wrong law would still carry the
    // tone's period but not its level.
    const atPhone = heard(pcm(toPhone), 1000);
    const atCaller = heard(pcm(toCaller), 600);
    expect(atPhone.ms).toBeGreaterThanOrEqual(900);
    expect(atCaller.ms).toBeGreaterThanOrEqual(900);
    expect(Math.abs(atPhone.dbfs - TONE_DBFS)).toBeLessThan(1);
    expect(Math.abs(atCaller.dbfs - TONE_DBFS)).toBeLessThan(1);
    expectSippOk(await pbx.done, 'uas-transfer-answer-hangup.xml');
    await uac.waitForBye(5000);
    await waitFor(() => ts.server.stats().rtpPortsInUse === 0, 'both legs to release their RTP ports');
    uac.close();
    await Promise.all([probe.close(), phoneMedia.close()]);
  });
});

describe('supervised transfer not answered', () => {
  it("reports 'busy' for 486 Busy Here", async () => {
    const pbx = await phone('uas-transfer-busy.xml');
    begin({ target: '2001', pbxPort: pbx.port, timeoutMs: 10_000 });
    const { uac, probe } = await caller();
    expect(await outcome.promise).toEqual({ outcome: 'busy', status: 486 });
    expectSippOk(await pbx.done, 'uas-transfer-busy.xml');
    await uac.waitForBye();
    uac.close();
    await probe.close();
  });

  it("reports 'invalid' for 404 Not Found", async () => {
    const pbx = await phone('uas-transfer-invalid.xml');
    begin({ target: '2999', pbxPort: pbx.port, timeoutMs: 10_000 });
    const { uac, probe } = await caller();
    expect(await outcome.promise).toEqual({ outcome: 'invalid', status: 404 });
    expectSippOk(await pbx.done, 'uas-transfer-invalid.xml');
    uac.close();
    await probe.close();
  });

  it("CANCELs at the timeout and reports 'no-answer' with the 487; the caller hears ringback meanwhile", async () => {
    const pbx = await phone('uas-transfer-no-answer.xml');
    begin({ target: '2001', pbxPort: pbx.port, timeoutMs: 1500 });
    const started = Date.now();
    const { uac, probe } = await caller();
    expect(await outcome.promise).toEqual({ outcome: 'no-answer', status: 487 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expectSippOk(await pbx.done, 'uas-transfer-no-answer.xml');
    // North American ringback: 440 + 480 Hz together, on for the first 2 s of its cadence.
    const ringback = pcm(probe.packets.slice(5, 50));
    const [at440, at480, elsewhere] = [powerAt(ringback, 440), powerAt(ringback, 480), Math.max(powerAt(ringback, 600), powerAt(ringback, 1000))];
    expect(at440).toBeGreaterThan(100 * elsewhere);
    expect(at480).toBeGreaterThan(100 * elsewhere);
    uac.close();
    await probe.close();
  });

  it("reports 'no-answer' (408) soon after the timeout when the PBX sends nothing at all, not at Timer B", async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', () => resolve()));
    let invites = 0;
    silent.on('message', (m) => (invites += m.toString('latin1').startsWith('INVITE ') ? 1 : 0));
    begin({ target: '2001', pbxPort: silent.address().port, timeoutMs: 800, cancelGraceMs: 500 });
    const started = Date.now();
    const { uac, probe } = await caller();
    expect(await outcome.promise).toEqual({ outcome: 'no-answer', status: 408 });
    // Timer B is 64*T1 = 6.4 s with this server's T1 of 100 ms.
    expect(Date.now() - started).toBeLessThan(3000);
    // UDP: the INVITE was retransmitted (Timer A) and never CANCELled (§9.1: no provisional, no CANCEL).
    expect(invites).toBeGreaterThan(1);
    await uac.waitForBye();
    uac.close();
    await probe.close();
    silent.close();
  });

  it('CANCELs the new call when the caller hangs up while it rings', async () => {
    const pbx = await phone('uas-transfer-no-answer.xml');
    begin({ target: '2001', pbxPort: pbx.port, timeoutMs: 20_000 });
    const { uac, probe } = await caller();
    await sleep(800);
    expect((await uac.bye()).status).toBe(200);
    // The caller is gone: the transfer rejects like any pending call operation, after CANCELling the new call.
    expect(await outcome.promise).toBeInstanceOf(CallEndedError);
    expectSippOk(await pbx.done, 'uas-transfer-no-answer.xml (cancelled by the caller hanging up)');
    uac.close();
    await probe.close();
  });
});

describe('supervised transfer through redirects and challenges', () => {
  it('follows a 302 to the Contact it names and connects there', async () => {
    const phoneMedia = await startRtpProbe();
    const target = await phone('uas-transfer-answer.xml', { probe_port: phoneMedia.port, pt: 0, codec: 'PCMU' });
    const pbx = await phone('uas-transfer-redirect.xml', { target_port: target.port });
    begin({ target: '2001', pbxPort: pbx.port, timeoutMs: 10_000 });
    const { uac, probe } = await caller();
    expect(await outcome.promise).toEqual({ outcome: 'answered', status: 200 });
    expectSippOk(await pbx.done, 'uas-transfer-redirect.xml');
    await phoneMedia.waitForPackets(5);
    expect((await uac.bye()).status).toBe(200);
    expectSippOk(await target.done, 'uas-transfer-answer.xml (the redirect target)');
    uac.close();
    await Promise.all([probe.close(), phoneMedia.close()]);
  });

  it('answers the PBX 407 with the configured credentials and connects', async () => {
    const phoneMedia = await startRtpProbe();
    const pbx = await phone('uas-transfer-auth.xml', { probe_port: phoneMedia.port, pt: 0, codec: 'PCMU' });
    begin({ target: '2001', pbxPort: pbx.port, timeoutMs: 10_000, credentials: { username: 'vmpilot', password: 'secret' } });
    const { uac, probe } = await caller();
    expect(await outcome.promise).toEqual({ outcome: 'answered', status: 200 });
    await phoneMedia.waitForPackets(5);
    expect((await uac.bye()).status).toBe(200);
    expectSippOk(await pbx.done, 'uas-transfer-auth.xml');
    uac.close();
    await Promise.all([probe.close(), phoneMedia.close()]);
  });
});
