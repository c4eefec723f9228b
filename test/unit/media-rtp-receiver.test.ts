/**
 * RtpReceiver's source rules (issue 9 item 1), with hand-made packets and a fake clock: which sources may
 * latch and when another may take over.
 *
 * Covers: the SDP c= host (any port) and trusted addresses latch, anyone else never does, before or after a
 * latch, and is counted as untrusted; an IPv6 c= written in another spelling (upper case, zeros) and an
 * IPv4 source reported in IPv4-mapped form match; another legitimate source is dropped while the latched one
 * is active and takes over after `relatchAfterMs` of its silence; a new offer/answer re-opens latching
 * against its own c= address, and a hold address (0.0.0.0) names no source.
 * Does not cover: SRTP (media-srtp.test.ts), real sockets and the kernel's filtering once connected
 * (test/integration/rtp-sources.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { RtpReceiver } from '../../src/media/rtp-receiver.js';
import { buildRtp } from '../helpers/rtp-probe.js';

function setup(trusted: string[] = []): { rx: RtpReceiver; latches: string[]; audio: string[]; clock: { ms: number } } {
  const latches: string[] = [];
  const audio: string[] = [];
  const clock = { ms: 1000 };
  const rx: RtpReceiver = new RtpReceiver(
    {
      // Audio is only ever delivered from the latched source: record which one that was.
      onAudio: () => void audio.push(`${rx.sourceAddress}:${rx.sourcePort}`),
      onEvent: () => undefined,
      onLatch: (address, port) => void latches.push(`${address}:${port}`),
      onRtcp: () => undefined,
    },
    () => clock.ms,
    { matches: (a) => trusted.includes(a) },
  );
  return { rx, latches, audio, clock };
}

let seq = 0;
const packet = (): Buffer => buildRtp({ pt: 0, seq: seq++, ts: seq * 160, ssrc: 1, payload: new Uint8Array(160) });
const send = (rx: RtpReceiver, address: string, port = 4000): void => rx.onMessage(packet(), { address, port });

describe('RtpReceiver sources', () => {
  it('latches onto the SDP c= host on any port, never onto a stranger, before or after', () => {
    const { rx, latches, audio } = setup();
    rx.configure(undefined, undefined, '192.0.2.10');
    send(rx, '198.51.100.66');
    send(rx, '192.0.2.10', 40002);
    send(rx, '198.51.100.66');
    expect(latches).toEqual(['192.0.2.10:40002']);
    expect(audio).toEqual(['192.0.2.10:40002']);
    expect(rx.stats.untrustedSource).toBe(2);
  });

  it('latches onto a trusted address (the PBX, its media anchors) that the SDP does not name', () => {
    const { rx, latches } = setup(['203.0.113.5']);
    rx.configure(undefined, undefined, '192.0.2.10');
    send(rx, '203.0.113.5');
    expect(latches).toEqual(['203.0.113.5:4000']);
  });

  it('matches an IPv6 c= written differently, and an IPv4 source in IPv4-mapped form', () => {
    const v6 = setup();
    v6.rx.configure(undefined, undefined, '2001:DB8:0:0::7');
    send(v6.rx, '2001:db8::7');
    expect(v6.latches).toEqual(['2001:db8::7:4000']);
    const mapped = setup();
    mapped.rx.configure(undefined, undefined, '192.0.2.10');
    send(mapped.rx, '::ffff:192.0.2.10');
    expect(mapped.latches).toEqual(['::ffff:192.0.2.10:4000']);
  });

  it('lets another legitimate source take over only after the latched one is silent for relatchAfterMs; a stranger never', () => {
    const { rx, latches, clock } = setup(['203.0.113.5']);
    rx.configure(undefined, undefined, '192.0.2.10');
    send(rx, '192.0.2.10');
    clock.ms += 500;
    send(rx, '203.0.113.5');
    expect(rx.stats.foreignSource).toBe(1);
    clock.ms += rx.relatchAfterMs;
    send(rx, '198.51.100.66');
    send(rx, '203.0.113.5');
    expect(latches).toEqual(['192.0.2.10:4000', '203.0.113.5:4000']);
    expect(rx.stats.untrustedSource).toBe(1);
  });

  it('re-opens latching on a new offer/answer, against its own c= address; 0.0.0.0 names no source', () => {
    const { rx, latches } = setup();
    rx.configure(undefined, undefined, '192.0.2.10');
    send(rx, '192.0.2.10');
    rx.configure(undefined, undefined, '192.0.2.20');
    send(rx, '192.0.2.10');
    send(rx, '192.0.2.20');
    rx.configure(undefined, undefined, '0.0.0.0');
    send(rx, '0.0.0.0');
    expect(latches).toEqual(['192.0.2.10:4000', '192.0.2.20:4000']);
    expect(rx.sourceAddress).toBeUndefined();
  });
});
