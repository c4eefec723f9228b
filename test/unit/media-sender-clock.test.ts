/**
 * SenderClock: where the caller's RTP clock stands at a moment of ours, from packet arrival times.
 *
 * Covers: nothing known before a packet (NaN); the least-delayed packet sets the estimate, later (delayed) ones
 * never pull it back or push it ahead; an anchor without packets; an old reading forgotten after two windows, so
 * a sender whose clock runs slow is followed; reset().
 * Does not cover: how the ReceiveBuffer uses it (media-receive-buffer.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { SenderClock } from '../../src/media/sender-clock.js';

describe('SenderClock', () => {
  it('knows nothing before the first packet', () => {
    expect(new SenderClock().at(1000)).toBeNaN();
  });

  it('MUST take the least-delayed packet: delay never moves the estimate ahead of the sender', () => {
    const clock = new SenderClock();
    // The sender's clock shows 8 * t samples at t ms; packets end at 20 ms steps, read 0-300 ms late.
    const delays = [120, 0, 300, 45, 7, 250];
    delays.forEach((delay, i) => clock.observe((i + 1) * 160, (i + 1) * 20 + delay));
    expect(clock.at(1000)).toBe(8000);
  });

  it('an anchor says where the clock stands when no packet has come', () => {
    const clock = new SenderClock();
    clock.anchor(5000, 2000);
    expect(clock.at(2500)).toBe(9000);
  });

  it('MUST forget a reading after two windows, following a sender whose clock runs slow', () => {
    const clock = new SenderClock();
    clock.observe(160, 20); // on time
    // 25 s later the sender's clock is 5 ms behind ours (200 ppm slow); every packet since arrived 5 ms "late".
    for (let t = 1000; t <= 25_000; t += 20) clock.observe((t - 5) * 8, t);
    expect(clock.at(25_000)).toBe((25_000 - 5) * 8);
  });

  it('reset() forgets everything', () => {
    const clock = new SenderClock();
    clock.observe(160, 20);
    clock.reset();
    expect(clock.at(20)).toBeNaN();
  });
});
