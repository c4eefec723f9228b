/**
 * A cluster's front door process (DESIGN.md, "Scaling: the 302 front door"): on sip.listen, the redirector
 * (redirector.ts) sends each new call to a worker; local workers are child processes it supervises
 * (local-workers.ts), remote ones are health-checked by OPTIONS (remote-workers.ts). It also does what
 * exactly one process of a host must do: provisions and repairs the store before any worker starts, runs the
 * MWI service (unsolicited NOTIFYs, SUBSCRIBE dialogs), the IMAP sync and the directory schedule (these three
 * while this host leads its site) and message expiry.
 */
import type { ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { openStore, startSiteMwi } from '../server.js';
import { openSipEndpoint } from '../sip-endpoint.js';
import { localContact } from '../sip/local-contact.js';
import { startRetention } from '../store/retention.js';
import { configuredEmail } from '../notify/email.js';
import { WorkerTable } from './health.js';
import { LocalWorkers } from './local-workers.js';
import { RemoteWorkers } from './remote-workers.js';
import { Redirector } from './redirector.js';
import { startHttpServer, type RunningHttp } from '../http/server.js';
import { clusterLiveCalls } from '../http/live-calls.js';
import { ServerMetrics } from '../metrics/server-metrics.js';
import { ClusterMetrics, type MetricsEndpoint } from '../metrics/cluster-metrics.js';
import { startCallRecordRetention } from '../call-records/retention.js';
import { startDirectorySchedule } from '../directory/schedule.js';
import { startConfiguredImap } from '../unified/configured.js';
import { siteLeadership } from './site-leadership.js';

export interface FrontDoorOptions {
  /** Local workers to run (cluster.workers resolved). */
  workers: number;
  /** Starts local worker `index` as a child process with an IPC channel (the CLI forks itself). */
  fork(index: number): ChildProcess;
}

export interface RunningFrontDoor {
  /** 503 to new calls and OPTIONS; every local worker drains; resolves when they exited and all is closed. */
  drain(deadlineMs: number): Promise<void>;
  /** Kills the workers and closes everything now. Idempotent. */
  close(): Promise<void>;
  addresses(): { transport: string; host: string; port: number }[];
  readonly workers: WorkerTable;
  /** The admin HTTP server (src/http/), when http.enabled. */
  readonly http?: RunningHttp;
  /** /metrics: the front door's own and its local workers', labelled by worker (metrics/cluster-metrics.ts). */
  readonly metrics: MetricsEndpoint;
}

/** Retry-After (s) when every worker is busy or down: calls end and workers restart within seconds. */
const BUSY_RETRY_AFTER_S = 1;
/** After the drain deadline, workers get this long to exit before they are killed. */
const EXIT_GRACE_MS = 5_000;

export async function startFrontDoor(config: Config, logger: Logger, opts: FrontDoorOptions): Promise<RunningFrontDoor> {
  // Before any worker opens the store: provisioning and crash repair run once, here.
  const own = new ServerMetrics();
  const { store, repaired } = await openStore(config, logger, true, own.storeCall);
  let endpoint: Awaited<ReturnType<typeof openSipEndpoint>>;
  try {
    endpoint = await openSipEndpoint(config, logger);
  } catch (err) {
    await store.close();
    throw err;
  }
  const { transport, stack } = endpoint;
  const workers = new WorkerTable();
  let draining = false;
  const redirector = new Redirector(stack, {
    logger,
    workers,
    draining: () => draining,
    retryAfterS: () => (draining ? Math.max(1, config.shutdown.drainSeconds) : BUSY_RETRY_AFTER_S),
  });
  // The host's leader-only jobs follow one leadership (server.ts says why).
  const leadership = siteLeadership(config.storage.url, logger);
  const mwi = await startSiteMwi({ stack, core: redirector, store, config, logger, contactFor: (inc) => localContact(stack, inc), resendNow: repaired }, leadership);
  const retention = startRetention(store, config, logger);
  const recordRetention = startCallRecordRetention(store, config, logger);
  const directorySync = startDirectorySchedule(store, config, logger, leadership.make);
  // The workers queue their deposits' IMAP appends in the store; the front door's sync works them while it leads.
  const imap = startConfiguredImap(config, store, logger, leadership.make);
  // The workers queue new-message mail in the store; the front door, which maintains the store, sends it.
  const email = configuredEmail(config, store, logger, true);
  const local = new LocalWorkers({ count: opts.workers, table: workers, logger, fork: opts.fork });
  own.watchSip(stack.traffic);
  own.watchSiteCounters(store);
  const metrics = new ClusterMetrics(own, () => local.children());
  const remote = new RemoteWorkers({ uris: config.cluster?.remote ?? [], table: workers, stack, logger });
  const bound = transport.bound();

  let http: RunningHttp | undefined;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      draining = true;
      await http?.close();
      local.kill();
      remote.stop();
      retention.stop();
      recordRetention.stop();
      await directorySync?.stop();
      await imap?.stop();
      await email?.close();
      own.close();
      await mwi.stop();
      stack.close();
      await transport.close();
      await store.close();
      logger.info('vmpilot front door stopped');
    })();
    return closed;
  };
  try {
    http = await startHttpServer({ config, store, logger, sipState: () => ({ bound: true, draining }), metrics, liveCalls: clusterLiveCalls(() => local.children()), mwi });
  } catch (err) {
    await close();
    throw err;
  }
  local.start();
  remote.start();
  logger.info(
    { listen: bound.map((b) => `${b.transport}:${b.host}:${b.port}`), workers: opts.workers, remote: config.cluster?.remote ?? [] },
    'vmpilot front door listening',
  );
  return {
    workers,
    ...(http && { http }),
    metrics,
    addresses: () => bound,
    close,
    async drain(deadlineMs: number): Promise<void> {
      draining = true;
      logger.info({ deadlineMs }, 'draining: every worker finishes its calls; new calls get 503');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs + EXIT_GRACE_MS)));
      await Promise.race([local.drain(), late]);
      clearTimeout(timer);
      await close();
    },
  };
}
