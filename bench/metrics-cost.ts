/**
 * What the metrics cost a vmpilot process (issue 11): the per-event work in the counting code, and one
 * /metrics scrape with N calls in progress. Prints figures; not a test.
 *   - the media clock's histogram step (once per tick per phase: 4 phases x 50 ticks/s, whatever the calls);
 *   - SIP counting per message (a Map step) and the resend check per send (a Buffer compare);
 *   - a scrape: ServerMetrics.text() with CALLS live calls (each adds its packet counts; no per-packet work).
 * From these: CPU per second at N calls = ticks x histogram step + SIP messages/s x counting + scrapes/s x
 * scrape time.
 *
 * Run: npx tsx bench/metrics-cost.ts     CALLS=1000 by default
 */
import { performance } from 'node:perf_hooks';
import { FixedHistogram } from '../src/metrics/fixed-histogram.js';
import { ServerMetrics, type MeteredCall } from '../src/metrics/server-metrics.js';
import { SipTraffic } from '../src/sip/traffic.js';
import { TICK_INTERVAL_BOUNDS_MS } from '../src/media/pacer.js';
import { MediaClockGroup } from '../src/media/clock-group.js';
import type { RtpPacketTotals } from '../src/media/session.js';

const CALLS = Number(process.env.CALLS ?? 1000);

function nsPerOp(n: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(n, 100_000); i++) fn(i); // warm up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return ((performance.now() - t0) * 1e6) / n;
}

async function main(): Promise<void> {
  const h = new FixedHistogram(TICK_INTERVAL_BOUNDS_MS);
  const observe = nsPerOp(10_000_000, (i) => h.observe(19.5 + (i & 3) * 0.25));

  const traffic = new SipTraffic();
  const methods = ['INVITE', 'ACK', 'BYE', 'NOTIFY'];
  const count = nsPerOp(2_000_000, (i) => {
    traffic.request('in', methods[i & 3]!);
    traffic.response('out', methods[i & 3]!, 200);
  }) / 2;
  const a = Buffer.from(`SIP/2.0 200 OK\r\n${'x'.repeat(600)}\r\n\r\n`);
  const b = Buffer.from(a);
  const send = traffic.countingResends(() => undefined);
  const resend = nsPerOp(2_000_000, (i) => send(i & 1 ? a : b));

  const metrics = new ServerMetrics();
  const calls: MeteredCall[] = Array.from({ length: CALLS }, (_, i) => ({
    service: { service: i % 3 === 0 ? 'attendant' : 'voicemail' },
    countPackets: (into: RtpPacketTotals) => {
      into.sent += 500;
      into.received += 500;
      into.lost += 1;
    },
  }));
  const clock = new MediaClockGroup(4);
  metrics.watchSip(traffic);
  metrics.watchCalls(calls, clock);
  for (let i = 0; i < 20; i++) await metrics.text();
  const scrapes = 200;
  const t0 = performance.now();
  let bytes = 0;
  for (let i = 0; i < scrapes; i++) bytes = (await metrics.text()).length;
  const scrapeMs = (performance.now() - t0) / scrapes;
  metrics.close();
  clock.close();

  const ticksPerS = 4 * 50;
  const sipPerCallS = 12 / 60; // ~12 SIP messages in a 1-minute call
  const perSecondUs = (ticksPerS * observe + CALLS * sipPerCallS * (count * 2 + resend)) / 1000 + (scrapeMs * 1000) / 15;
  process.stdout.write(
    [
      `histogram step per tick:        ${observe.toFixed(1)} ns`,
      `SIP count per message:          ${count.toFixed(1)} ns`,
      `resend check per send (600 B):  ${resend.toFixed(1)} ns`,
      `scrape with ${CALLS} calls:        ${scrapeMs.toFixed(2)} ms (${bytes} bytes)`,
      `at ${CALLS} calls of 1 min, a scrape every 15 s: ~${perSecondUs.toFixed(0)} us of CPU per second (${(perSecondUs / 1e4).toFixed(3)} % of a core)`,
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
