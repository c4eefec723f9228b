/**
 * One process's Prometheus metrics (issue 11; DESIGN.md's admin/metrics): a prom-client Registry whose values
 * are mostly READ at scrape from plain numbers the counting code keeps (SIP traffic, RTP packets, the media
 * clock's tick intervals, MWI and mail counters), so the hot paths never call prom-client. What happens a few
 * times per call or less (a deposit, a store call, a finished call) is counted here directly.
 *
 * Names (the Grafana dashboard examples/grafana/vmpilot.json uses them; extend, don't rename):
 *   vmpilot_calls_active{app}                         calls in progress
 *   vmpilot_calls_total{app,outcome}                  finished calls by outcome (call records' outcome)
 *   vmpilot_sip_requests_total{direction,method}      SIP requests in/out
 *   vmpilot_sip_responses_total{direction,method,code}
 *   vmpilot_sip_retransmissions_total{direction}
 *   vmpilot_rtp_packets_total{direction}              RTP packets in (taken as media) / out
 *   vmpilot_rtp_packets_lost_total, vmpilot_rtp_packets_discarded_total
 *   vmpilot_rtp_pacing_interval_seconds               histogram: time between media clock ticks
 *   vmpilot_media_clock_resyncs_total                 the clock fell more than 200 ms behind
 *   vmpilot_event_loop_delay_seconds{quantile}        over the last 10 s window (perf_hooks)
 *   vmpilot_deposits_total, vmpilot_deposit_duration_seconds, vmpilot_deposit_size_bytes
 *   vmpilot_store_operation_seconds{operation,result} histogram, main thread to store thread and back
 *   vmpilot_mwi_notifies_total{kind,result}           kind unsolicited|subscription; delivered|refused|failed
 *   vmpilot_emails_total{result}                      sent|retried|dropped
 *   vmpilot_pin_failures_total, vmpilot_pin_backoff_alerts_total   site-wide (the store's counters)
 *   vmpilot_imap_appends_pending, _failing, vmpilot_imap_append_oldest_age_seconds, vmpilot_imap_appends_total{result}
 *                                                     the IMAP append queue (imap-queue-metrics.ts)
 * plus prom-client's default process metrics (process_cpu_seconds_total, nodejs_heap_size_used_bytes, ...).
 * A cluster's front door adds a `worker` label to every series (cluster-metrics.ts).
 */
import { stat } from 'node:fs/promises';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SipTraffic } from '../sip/traffic.js';
import type { RtpPacketTotals } from '../media/session.js';
import type { MediaClockGroup } from '../media/clock-group.js';
import type { CallRecord, MessageRecord, MessageStore } from '../store/types.js';
import { FixedHistogram } from './fixed-histogram.js';
import { histogramSamples, registerPull, type MetricJson, type Sample } from './pull-metric.js';
import { opsCounters } from './ops-counters.js';
import { registerImapQueueMetrics } from './imap-queue-metrics.js';

/** What a call in progress tells the metrics (call/call.ts Call has these). */
export interface MeteredCall {
  readonly service: { service: string };
  countPackets(into: RtpPacketTotals): void;
}

const DURATION_BOUNDS_S = [5, 10, 20, 30, 60, 120, 180, 300];
const SIZE_BOUNDS_BYTES = [16_000, 80_000, 160_000, 480_000, 960_000, 1_920_000, 2_880_000, 4_800_000];
const STORE_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];

/** The event loop delay is reported per window of this length (the latest complete one). */
const LOOP_WINDOW_MS = 10_000;

const zeroPackets = (): RtpPacketTotals => ({ sent: 0, received: 0, lost: 0, discarded: 0 });

export class ServerMetrics {
  readonly registry = new Registry();
  private traffic: SipTraffic | undefined;
  private calls: Iterable<MeteredCall> = [];
  private clock: MediaClockGroup | undefined;
  private siteCounters: Pick<MessageStore, 'counters' | 'imapAppendQueueStats'> | undefined;
  /** Packets of calls that have ended (live calls are added at scrape). */
  private readonly endedPackets = zeroPackets();
  /** Finished calls by app, then outcome. */
  private readonly outcomes = new Map<string, Map<string, number>>();
  private readonly depositDurations = new FixedHistogram(DURATION_BOUNDS_S);
  private readonly depositSizes = new FixedHistogram(SIZE_BOUNDS_BYTES);
  private readonly loopDelay: IntervalHistogram;
  /** The latest complete window's delay quantiles, seconds; undefined during the first window. */
  private loopWindow: Sample[] | undefined;
  private readonly loopTimer: NodeJS.Timeout;
  private readonly storeLatency: Histogram<'operation' | 'result'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.loopDelay = monitorEventLoopDelay({ resolution: 10 });
    this.loopDelay.enable();
    // Windows, not "since the last scrape": two scrapers (Prometheus and an operator's curl) see the same.
    this.loopTimer = setInterval(() => {
      this.loopWindow = this.loopQuantiles();
      this.loopDelay.reset();
    }, LOOP_WINDOW_MS);
    this.loopTimer.unref();
    this.storeLatency = new Histogram({
      name: 'vmpilot_store_operation_seconds',
      help: 'Message store calls, from the main thread to the store thread and back',
      labelNames: ['operation', 'result'],
      buckets: STORE_BUCKETS_S,
      registers: [this.registry],
    });
    this.registerCalls();
    this.registerSip();
    this.registerMedia();
    this.registerOperations();
    registerImapQueueMetrics(this.registry, () => this.siteCounters);
  }

  /** The SIP stack whose traffic is counted (one per process). */
  watchSip(traffic: SipTraffic): void {
    this.traffic = traffic;
  }

  /** The calls in progress and the clock that paces them. */
  watchCalls(calls: Iterable<MeteredCall>, clock: MediaClockGroup): void {
    this.calls = calls;
    this.clock = clock;
  }

  /**
   * The store whose site-wide counters (PIN failures, back-off alerts, the IMAP append queue) are published: only in the one
   * process that maintains the store (a single server, a cluster's front door), so they are not counted
   * once per worker.
   */
  watchSiteCounters(store: Pick<MessageStore, 'counters' | 'imapAppendQueueStats'>): void {
    this.siteCounters = store;
  }

  /** A call ended: its packets move to the totals. */
  callEnded(call: MeteredCall): void {
    call.countPackets(this.endedPackets);
  }

  /** A call's record was finished (call-records/writer.ts). */
  callRecorded(record: CallRecord): void {
    const app = record.app === '' ? 'none' : record.app;
    let byOutcome = this.outcomes.get(app);
    if (!byOutcome) {
      byOutcome = new Map();
      this.outcomes.set(app, byOutcome);
    }
    byOutcome.set(record.outcome, (byOutcome.get(record.outcome) ?? 0) + 1);
  }

  /** A message was stored (voicemail's onDeposit). Its size is read from the file, off the call's path. */
  deposited(message: MessageRecord): void {
    this.depositDurations.observe(message.durationMs / 1000);
    stat(message.audioPath).then(
      (s) => this.depositSizes.observe(s.size),
      () => undefined, // moved or purged already: only its size goes uncounted
    );
  }

  /** A store call finished (store/thread/threaded-store.ts onCall). */
  readonly storeCall = (operation: string, seconds: number, ok: boolean): void => {
    this.storeLatency.observe({ operation, result: ok ? 'ok' : 'error' }, seconds);
  };

  contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** prom-client's JSON form (what a worker sends its front door). */
  async json(): Promise<MetricJson[]> {
    return (await this.registry.getMetricsAsJSON()) as unknown as MetricJson[];
  }

  close(): void {
    clearInterval(this.loopTimer);
    this.loopDelay.disable();
  }

  // ---- registration ----------------------------------------------------------------------------------------

  private registerCalls(): void {
    registerPull(this.registry, {
      name: 'vmpilot_calls_active',
      help: 'Calls in progress, by app',
      type: 'gauge',
      read: () => {
        const byApp = new Map<string, number>();
        for (const call of this.calls) byApp.set(call.service.service, (byApp.get(call.service.service) ?? 0) + 1);
        return [...byApp].map(([app, value]) => ({ labels: { app }, value }));
      },
    });
    registerPull(this.registry, {
      name: 'vmpilot_calls_total',
      help: 'Finished calls by app and outcome (message, login, transfer, abandoned, rejected)',
      type: 'counter',
      read: () => [...this.outcomes].flatMap(([app, m]) => [...m].map(([outcome, value]) => ({ labels: { app, outcome }, value }))),
    });
  }

  private registerSip(): void {
    const directions = ['in', 'out'] as const;
    registerPull(this.registry, {
      name: 'vmpilot_sip_requests_total',
      help: 'SIP requests received (trusted, well-formed) and sent, by method; retransmissions not included for sent',
      type: 'counter',
      read: () => directions.flatMap((direction) => [...(this.traffic?.requests[direction] ?? [])].map(([method, value]) => ({ labels: { direction, method }, value }))),
    });
    registerPull(this.registry, {
      name: 'vmpilot_sip_responses_total',
      help: 'SIP responses received and sent, by CSeq method and status code',
      type: 'counter',
      read: () =>
        directions.flatMap((direction) =>
          [...(this.traffic?.responses[direction] ?? [])].flatMap(([method, byCode]) => [...byCode].map(([code, value]) => ({ labels: { direction, method, code }, value }))),
        ),
    });
    registerPull(this.registry, {
      name: 'vmpilot_sip_retransmissions_total',
      help: 'SIP retransmissions: out, ours (Timers A/E/G, 2xx until ACK); in, a request matching a live transaction',
      type: 'counter',
      read: () => (this.traffic ? directions.map((direction) => ({ labels: { direction }, value: this.traffic!.retransmissions[direction] })) : []),
    });
  }

  private registerMedia(): void {
    const packets = (): RtpPacketTotals => {
      const t = { ...this.endedPackets };
      for (const call of this.calls) call.countPackets(t);
      return t;
    };
    registerPull(this.registry, {
      name: 'vmpilot_rtp_packets_total',
      help: 'RTP packets: in, taken as a call\'s media; out, sent',
      type: 'counter',
      read: () => {
        const t = packets();
        return [
          { labels: { direction: 'in' }, value: t.received },
          { labels: { direction: 'out' }, value: t.sent },
        ];
      },
    });
    registerPull(this.registry, {
      name: 'vmpilot_rtp_packets_lost_total',
      help: 'RTP sequence numbers given up as lost',
      type: 'counter',
      read: () => [{ labels: {}, value: packets().lost }],
    });
    registerPull(this.registry, {
      name: 'vmpilot_rtp_packets_discarded_total',
      help: 'Datagrams on RTP ports not taken as media (strangers, malformed, SRTP failures, other sources)',
      type: 'counter',
      read: () => [{ labels: {}, value: packets().discarded }],
    });
    registerPull(this.registry, {
      name: 'vmpilot_rtp_pacing_interval_seconds',
      help: 'Time between media clock ticks: the interval between a call\'s outbound packets (20 ms when healthy)',
      type: 'histogram',
      read: () => (this.clock ? histogramSamples('vmpilot_rtp_pacing_interval_seconds', this.clock.intervals(), {}, 0.001) : []),
    });
    registerPull(this.registry, {
      name: 'vmpilot_media_clock_resyncs_total',
      help: 'Times the media clock fell more than its catch-up limit behind and restarted its schedule',
      type: 'counter',
      read: () => (this.clock ? [{ labels: {}, value: this.clock.stats.late }] : []),
    });
    registerPull(this.registry, {
      name: 'vmpilot_event_loop_delay_seconds',
      help: 'Event loop delay over the latest 10 s window (perf_hooks monitorEventLoopDelay, 10 ms resolution)',
      type: 'gauge',
      read: () => this.loopWindow ?? this.loopQuantiles(),
    });
  }

  private loopQuantiles(): Sample[] {
    const h = this.loopDelay;
    // No samples yet: nothing rather than NaN.
    if (h.count === 0) return [];
    return [
      { labels: { quantile: '0.5' }, value: h.percentile(50) / 1e9 },
      { labels: { quantile: '0.99' }, value: h.percentile(99) / 1e9 },
      { labels: { quantile: '1' }, value: h.max / 1e9 },
    ];
  }

  private registerOperations(): void {
    registerPull(this.registry, {
      name: 'vmpilot_deposits_total',
      help: 'Messages left',
      type: 'counter',
      read: () => [{ labels: {}, value: this.depositDurations.count }],
    });
    registerPull(this.registry, {
      name: 'vmpilot_deposit_duration_seconds',
      help: 'Length of the messages left',
      type: 'histogram',
      read: () => histogramSamples('vmpilot_deposit_duration_seconds', this.depositDurations),
    });
    registerPull(this.registry, {
      name: 'vmpilot_deposit_size_bytes',
      help: 'Size of the messages left (WAV files)',
      type: 'histogram',
      read: () => histogramSamples('vmpilot_deposit_size_bytes', this.depositSizes),
    });
    registerPull(this.registry, {
      name: 'vmpilot_mwi_notifies_total',
      help: 'MWI NOTIFYs by kind (unsolicited to PBX targets, subscription) and result (delivered, refused, failed)',
      type: 'counter',
      read: () =>
        (['unsolicited', 'subscription'] as const).flatMap((kind) =>
          Object.entries(opsCounters.mwiNotifies[kind]).map(([result, value]) => ({ labels: { kind, result }, value })),
        ),
    });
    registerPull(this.registry, {
      name: 'vmpilot_emails_total',
      help: 'Notification mails: sent, retried (a failure that will be tried again), dropped',
      type: 'counter',
      read: () => Object.entries(opsCounters.emails).map(([result, value]) => ({ labels: { result }, value })),
    });
    const siteCounter = (name: string, key: string, help: string): void =>
      registerPull(this.registry, {
        name,
        help,
        type: 'counter',
        read: async () => {
          if (!this.siteCounters) return [];
          const counters = await this.siteCounters.counters().catch(() => undefined);
          return counters ? [{ labels: {}, value: counters[key] ?? 0 }] : [];
        },
      });
    siteCounter('vmpilot_pin_failures_total', 'pinFailures', 'Wrong PINs entered, site-wide');
    siteCounter('vmpilot_pin_backoff_alerts_total', 'pinBackoffAlerts', 'Mailboxes or callers that reached the PIN back-off threshold, site-wide');
  }
}
