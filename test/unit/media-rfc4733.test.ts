/**
 * RFC 4733 telephone-events: TelephoneEventDecoder (one key per event) and the sending plan.
 *
 * Covers: a golden packet sequence for key 5 (marker, updates, three E-bit packets), retransmitted updates,
 * an event whose end packets are all lost (ended by the next event, or by poll() after the timeout, and
 * not reported again when they arrive late), an event seen only by its end packets, the same key pressed
 * twice, a late packet of an older event, every key 0-9 * # A-D and flash, events above 16 ignored,
 * malformed payloads, an SSRC change, a long event split in segments (§2.5.1.3), timestamp wrap, and the
 * encoder's packets (marker, durations, three end packets) decoded back to one key.
 * Does not cover: payload-type routing (the session), RFC 2198 redundancy, multiple events in one packet.
 */
import { describe, expect, it } from 'vitest';
import {
  EVENT_KEYS, TelephoneEventDecoder, TelephoneEventState, eventCodeToKey, keyToEventCode, planTelephoneEvent,
  writeTelephoneEvent, type DtmfKey, type TelephoneEventEnd,
} from '../../src/media/dtmf/rfc4733.js';
import { RtpPacketView, parseRtp, writeRtpHeader } from '../../src/media/rtp-packet.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Key 5 as a phone sends it: PT 101, SSRC 0xdeadbeef, timestamp 0x640, 50 ms updates, 100 ms press. */
const KEY_5 = [
  '80e1 0001 00000640 deadbeef 05 0a 0190', // M=1, duration 400
  '8061 0002 00000640 deadbeef 05 0a 0320', // 800
  '8061 0003 00000640 deadbeef 05 8a 0320', // E=1, final duration 800 (100 ms)
  '8061 0004 00000640 deadbeef 05 8a 0320', // retransmission 2 of 3
  '8061 0005 00000640 deadbeef 05 8a 0320', // retransmission 3 of 3
].map(hex);

function harness(options = {}) {
  const log: string[] = [];
  const ups: Array<{ key: DtmfKey; ms: number; how: TelephoneEventEnd }> = [];
  const decoder = new TelephoneEventDecoder(
    {
      onKeyDown: (key) => log.push(key),
      onKeyUp: (key, ms, how) => ups.push({ key, ms, how }),
    },
    options,
  );
  const view = new RtpPacketView();
  const feed = (pkt: Buffer, now = 0): boolean => {
    if (!parseRtp(pkt, view)) throw new Error('bad test packet');
    return decoder.receive(view, pkt, now);
  };
  return { decoder, log, ups, feed };
}

/** A telephone-event packet. */
function ev(seq: number, ts: number, code: number, end: boolean, duration: number, marker = false, ssrc = 0xdeadbeef): Buffer {
  const pkt = Buffer.alloc(16);
  writeRtpHeader(pkt, 101, marker, seq, ts, ssrc);
  writeTelephoneEvent(pkt, 12, code, end, duration);
  return pkt;
}

describe('TelephoneEventDecoder', () => {
  it('reports one key for an event however many end packets arrive (RFC 4733 §2.5.1.4)', () => {
    const { log, ups, feed, decoder } = harness();
    KEY_5.forEach((pkt, i) => feed(pkt, i * 50));
    expect(log).toEqual(['5']);
    expect(ups).toEqual([{ key: '5', ms: 100, how: 'end-packet' }]);
    expect(decoder.state).toBe(TelephoneEventState.Idle);
  });

  it('reports the key on the first packet, before the event ends (barge-in)', () => {
    const { log, ups, feed, decoder } = harness();
    feed(KEY_5[0]!);
    expect(log).toEqual(['5']);
    expect(ups).toEqual([]);
    expect(decoder.state).toBe(TelephoneEventState.Active);
  });

  it('ignores retransmitted and duplicated update packets', () => {
    const { log, ups, feed } = harness();
    for (const pkt of [KEY_5[0]!, KEY_5[0]!, KEY_5[1]!, KEY_5[1]!, KEY_5[0]!, KEY_5[2]!, KEY_5[2]!]) feed(pkt);
    expect(log).toEqual(['5']);
    expect(ups.length).toBe(1);
  });

  it('ends an event whose end packets were all lost when the next event begins', () => {
    const { log, ups, feed } = harness();
    feed(ev(1, 1000, 1, false, 160, true));
    feed(ev(2, 1000, 1, false, 320));
    feed(ev(3, 5000, 2, false, 160, true)); // key 2 begins; key 1 never ended
    expect(log).toEqual(['1', '2']);
    expect(ups).toEqual([{ key: '1', ms: 40, how: 'new-event' }]);
  });

  it('ends an event whose end packets were all lost after endTimeoutMs of poll(now), once', () => {
    const { log, ups, feed, decoder } = harness({ endTimeoutMs: 300 });
    feed(ev(1, 1000, 9, false, 160, true), 0);
    feed(ev(2, 1000, 9, false, 400), 50);
    decoder.poll(349);
    expect(ups).toEqual([]);
    decoder.poll(350);
    expect(ups).toEqual([{ key: '9', ms: 50, how: 'timeout' }]);
    decoder.poll(1000);
    // The end packets show up late: the event was already reported.
    feed(ev(3, 1000, 9, true, 800), 1100);
    feed(ev(4, 1000, 9, true, 800), 1120);
    expect(log).toEqual(['9']);
    expect(ups.length).toBe(1);
  });

  it('reports an event seen only by its end packets (its start was lost)', () => {
    const { log, ups, feed } = harness();
    for (const seq of [7, 8, 9]) feed(ev(seq, 2000, 11, true, 960));
    expect(log).toEqual(['#']);
    expect(ups).toEqual([{ key: '#', ms: 120, how: 'end-packet' }]);
  });

  it('reports the same key twice when it is pressed twice (two timestamps)', () => {
    const { log, feed } = harness();
    for (const ts of [1000, 3000]) {
      feed(ev(ts, ts, 0, false, 160, true));
      for (let i = 1; i <= 3; i++) feed(ev(ts + i, ts, 0, true, 640));
    }
    expect(log).toEqual(['0', '0']);
  });

  it('drops a late packet of an older event that arrives after a newer one began', () => {
    const { log, feed } = harness();
    feed(ev(1, 1000, 1, false, 160, true));
    feed(ev(5, 3000, 2, false, 160, true));
    feed(ev(2, 1000, 1, false, 320)); // reordered update of key 1
    feed(ev(0, 500, 3, true, 320)); // an even older event nobody saw begin
    expect(log).toEqual(['1', '2']);
  });

  it('maps event codes 0-16 to 0-9, *, #, A-D and flash (RFC 4733 §3.2)', () => {
    const { log, feed } = harness();
    for (let code = 0; code <= 16; code++) feed(ev(code + 1, 1000 + code * 1000, code, true, 800, true));
    expect(log.join(',')).toBe('0,1,2,3,4,5,6,7,8,9,*,#,A,B,C,D,flash');
    expect(eventCodeToKey(11)).toBe('#');
    expect(eventCodeToKey(17)).toBeUndefined();
    expect(keyToEventCode('*')).toBe(10);
    expect(keyToEventCode('d')).toBe(15);
    expect(keyToEventCode('flash')).toBe(16);
    expect(keyToEventCode('x')).toBe(-1);
    expect(EVENT_KEYS.length).toBe(17);
  });

  it('ignores events above 16 (tones, line events) without ending the current key', () => {
    const { log, ups, feed } = harness();
    feed(ev(1, 1000, 4, false, 160, true));
    expect(feed(ev(2, 2000, 70, false, 160, true))).toBe(true);
    feed(ev(3, 1000, 4, true, 480));
    expect(log).toEqual(['4']);
    expect(ups).toEqual([{ key: '4', ms: 60, how: 'end-packet' }]);
  });

  it('rejects a payload shorter than one event block', () => {
    const { decoder, log, feed } = harness();
    expect(feed(hex('80e1 0001 00000640 deadbeef 05 0a 01'))).toBe(false);
    expect(decoder.malformed).toBe(1);
    expect(log).toEqual([]);
  });

  it('ends the active key as "reset" and starts afresh when the SSRC changes', () => {
    const { log, ups, feed } = harness();
    feed(ev(1, 1000, 6, false, 160, true, 1));
    feed(ev(1, 1000, 6, false, 160, true, 2)); // same timestamp, new source: a new event
    expect(log).toEqual(['6', '6']);
    expect(ups).toEqual([{ key: '6', ms: 20, how: 'reset' }]);
  });

  it('joins the segments of an event longer than the 16-bit duration (RFC 4733 §2.5.1.3)', () => {
    const { log, ups, feed } = harness();
    feed(ev(1, 10_000, 8, false, 160, true));
    feed(ev(2, 10_000, 8, false, 0xffff)); // first segment full
    feed(ev(3, 10_000 + 0xffff, 8, false, 800)); // next segment: new timestamp, no marker
    feed(ev(4, 10_000 + 0xffff, 8, true, 1600));
    expect(log).toEqual(['8']);
    expect(ups).toEqual([{ key: '8', ms: (0xffff + 1600) / 8, how: 'end-packet' }]);
  });

  it('tells events apart across the 32-bit timestamp wrap', () => {
    const { log, feed } = harness();
    feed(ev(1, 0xfffffe00, 1, true, 320, true));
    feed(ev(2, 0x00000100, 2, true, 320, true));
    expect(log).toEqual(['1', '2']);
  });
});

describe('planTelephoneEvent / writeTelephoneEvent', () => {
  it('plans updates every interval with a growing duration, then three end packets (§2.5.1.2, §2.5.1.4)', () => {
    const plan = planTelephoneEvent({ durationMs: 100, intervalMs: 20 });
    expect(plan.map((p) => [p.offsetMs, p.marker, p.end, p.durationSamples])).toEqual([
      [0, true, false, 160], [20, false, false, 320], [40, false, false, 480], [60, false, false, 640],
      [80, false, true, 800], [100, false, true, 800], [120, false, true, 800],
    ]);
  });

  it('writes event | E R volume | duration', () => {
    const buf = Buffer.alloc(6);
    expect(writeTelephoneEvent(buf, 2, 11, true, 0x0320, 10)).toBe(4);
    expect(buf.toString('hex')).toBe('00000b8a0320');
  });

  it('produces packets the decoder reads as exactly one key of the planned length', () => {
    const { log, ups, feed } = harness();
    planTelephoneEvent({ durationMs: 160 }).forEach((p, i) => {
      const pkt = Buffer.alloc(16);
      writeRtpHeader(pkt, 101, p.marker, 100 + i, 48_000, 0xdeadbeef);
      writeTelephoneEvent(pkt, 12, keyToEventCode('*'), p.end, p.durationSamples);
      feed(pkt, p.offsetMs);
    });
    expect(log).toEqual(['*']);
    expect(ups).toEqual([{ key: '*', ms: 160, how: 'end-packet' }]);
  });
});
