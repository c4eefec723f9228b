/**
 * Wires one vmpilot process together: transports → SIP stack → UA core → call router → calls.
 * Owns start-up order (nothing half-bound on failure) and shutdown (drain, then close everything once).
 */
import type { Logger } from 'pino';
import type { Config } from './config/schema.js';
import type { TransportStats } from './sip/transport/transport-layer.js';
import type { Flow } from './sip/transport/types.js';
import { UserAgentCore } from './sip/user-agent-core.js';
import { timerSet } from './sip/transaction/timers.js';
import type { IncomingRequest } from './sip/incoming-request.js';
import { AddressMatcher, LOOPBACK } from './sip/trust.js';
import { localContact } from './sip/local-contact.js';
import { RtpPortPool } from './media/ports.js';
import { loadRtpIoBinding } from './media/native-rtp-io.js';
import { hasSingleThreadedGc, setPacingThreadRealtime } from './media/realtime-priority.js';
import { CallRouter } from './call/router.js';
import { MailboxNumbers } from './store/mailbox-numbers.js';
import { Call } from './call/call.js';
import type { InviteSession } from './sip/invite-session.js';
import type { MediaClockStats } from './media/pacer.js';
import { MediaClockGroup } from './media/clock-group.js';
import { DEFAULT_DTMF_POLICY } from './media/digit-router.js';
import { loadCatalog } from './prompts/catalog.js';
import { runApp, type AppRegistry } from './apps/run.js';
import { runEcho } from './apps/echo.js';
import { recordingDisk } from './media/disk-thread.js';
import { openConfiguredStore } from './store/open.js';
import type { MessageStore } from './store/types.js';
import { runVoicemail, type VoicemailContext } from './apps/voicemail/index.js';
import { createSay } from './prompts/say.js';
import { configuredEmail } from './notify/email.js';
import { startConfiguredImap } from './unified/configured.js';
import { runAttendant } from './apps/attendant/index.js';
import { createAttendantContext } from './apps/attendant/setup.js';
import { leaveMessageVia } from './apps/attendant/leave-message.js';
import { supervisedTransfer } from './call/supervised-transfer.js';
import type { MwiService, MwiServiceOptions } from './mwi/service.js';
import { startMwiWhileLeader } from './mwi/while-leader.js';
import { siteLeadership, type SiteLeadership } from './cluster/site-leadership.js';
import { pbxLookup } from './config/pbx-lookup.js';
import { openSipEndpoint } from './sip-endpoint.js';
import { startRetention } from './store/retention.js';
import { DEFAULTS } from './config/defaults.js';
import { provisionFromConfig } from './admin/config-mailboxes.js';
import { startHttpServer, type RunningHttp } from './http/server.js';
import { localLiveCalls } from './http/live-calls.js';
import { ServerMetrics } from './metrics/server-metrics.js';
import { CallRecordWriter } from './call-records/writer.js';
import { draftCallRecord } from './call-records/start.js';
import { startCallRecordRetention } from './call-records/retention.js';
import { startDirectorySchedule } from './directory/schedule.js';
import { adoptOwnershipFile } from './directory/ownership.js';
import type { StoreCallObserver } from './store/thread/threaded-store.js';

export interface RunningServer {
  /** Refuses new calls with 503, lets calls in progress finish until the deadline, then closes. */
  drain(deadlineMs: number): Promise<void>;
  /** Ends every call and closes every socket now. Idempotent. */
  close(): Promise<void>;
  /** What was bound, with ephemeral ports resolved (tests listen on port 0). */
  addresses(): { transport: string; host: string; port: number }[];
  readonly calls: ReadonlySet<Call>;
  /** The admin HTTP server (src/http/), when http.enabled and hooks.http allow it. */
  readonly http?: RunningHttp;
  /** This process's metrics (/metrics). */
  readonly metrics: ServerMetrics;
  /** Where finished calls' records go (flush() writes the pending ones now). */
  readonly callRecords: CallRecordWriter;
  stats(): {
    calls: number;
    serverTransactions: number;
    clientTransactions: number;
    rtpPortsInUse: number;
    clock: MediaClockStats;
    clockSubscribers: number;
    /** Sockets and connections, and the memory held for messages still arriving (TransportLayer.stats). */
    transport: TransportStats;
  };
}

export interface ServerHooks {
  /**
   * Apps to run in place of the built-in ones, by service (apps/run.ts AppRegistry): an embedding's own code
   * over the Call API, as the capacity benchmark and the Call API's tests use it. Default: the built-in apps.
   */
  apps?: AppRegistry;
  /**
   * Run the MWI service here (SUBSCRIBE dialogs and unsolicited NOTIFYs, mwi/service.ts). Default true. A
   * cluster's workers run with false: the front door runs it, so that exactly one process sends NOTIFYs.
   */
  mwi?: boolean;
  /**
   * Provision the config's mailboxes at start and expire old messages hourly. Default true; false for a
   * cluster worker: the front door does it once for all. A worker still recovers at start the recordings of
   * processes that stopped (store.recoverRecordings; running ones' are left alone, store/owner.ts), so a
   * worker restarted after a crash delivers what its predecessor was recording.
   */
  storeMaintenance?: boolean;
  /**
   * Serve the admin HTTP API (http.listen) here. Default true; false for a cluster's workers: the front door
   * serves it, once for the site.
   */
  http?: boolean;
  /** Called with the number of calls in progress each time it changes (a cluster worker's health report). */
  onCallsChanged?(calls: number): void;
  /** The cluster worker index this process is, written in call records; absent in a single server. */
  worker?: number;
}

/**
 * Opens the message store, provisions the config's mailboxes and repairs what a crash left behind; with
 * `provision` false (a cluster worker, whose front door did both) it only recovers stopped workers' recordings.
 */
export async function openStore(
  config: Config,
  logger: Logger,
  provision = true,
  onCall?: StoreCallObserver,
): Promise<{ store: MessageStore; repaired: boolean }> {
  // SQLite in its own thread: its statements, commits and fsyncs never hold the loop that paces RTP (store/open.ts
  // says why PostgreSQL needs none). Watching changes: those made by other workers, hosts and the CLI reach
  // MWI and the attendant's directory.
  const store = await openConfiguredStore(config, { logger, watchChanges: true, thread: true, onCall });
  try {
    if (provision) {
      await provisionFromConfig(store, config, logger);
      // The directory's ownership moved from a file per host into the store (directory/ownership.ts).
      await adoptOwnershipFile(store, config.storage.dir, logger);
    }
    // A cluster worker recovers only the recordings of processes that stopped (its predecessor's, killed). The
    // full repair also reads messages/, where other workers deposit and purge meanwhile (a deposit's audio is
    // placed, with its sidecar, before its row: it would be taken for an orphan), so it runs only where nothing
    // else writes yet: a single server, or the front door before its workers start.
    const report = provision ? await store.repair() : await store.recoverRecordings();
    const repaired = report.reattached.length + report.quarantined.length + report.missingAudio.length + report.tempFilesRemoved > 0;
    if (repaired) logger.warn({ repair: report }, 'message store repaired after an unclean stop');
    return { store, repaired: report.reattached.length + report.missingAudio.length > 0 };
  } catch (err) {
    await store.close();
    throw err;
  }
}

export async function startServer(config: Config, logger: Logger, hooks: ServerHooks = {}): Promise<RunningServer> {
  // Prompts are encoded once, before anything is bound: a missing or broken prompt set fails the start.
  const catalog = await loadCatalog(config.prompts.dir, config.prompts.language);
  // The recordings' disk thread runs before the first call records (media/disk-thread.ts).
  await recordingDisk().ready();
  const maintainStore = hooks.storeMaintenance ?? true;
  const metrics = new ServerMetrics();
  const { store, repaired } = await openStore(config, logger, maintainStore, metrics.storeCall);
  // Every call leaves a record (call-records/), whatever ended it; the metrics count its outcome.
  const records = new CallRecordWriter(store, logger, (record) => metrics.callRecorded(record));
  const worker = hooks.worker;
  // A call to a mailbox number or alias leaves a message there (issue 9 item 14): the router asks a set kept
  // in memory and refreshed on mailbox changes, not the store, on each INVITE.
  // A step of the start that fails stops what already runs before the start fails (nothing left holding the
  // store's thread, sockets, connections or timers in a process that goes on: a test, a restarted worker). Until
  // the SIP endpoint is open that is the store's side, closed here; from there on close() below does it all.
  const closeStoreSide = async (): Promise<void> => {
    await records.close();
    await store.close();
    metrics.close();
  };
  const mailboxNumbers = await MailboxNumbers.open(store, logger).catch(async (err: unknown) => {
    await closeStoreSide();
    throw err;
  });
  const { transport, stack, trusted, sourceKeys } = await openSipEndpoint(config, logger).catch(async (err: unknown) => {
    mailboxNumbers.close();
    await closeStoreSide();
    throw err;
  });

  /** Our address as the peer of this flow reaches it (the route's source address, or sip.advertise). */
  const localFacing = (flow: Flow): { address: string; port: number } =>
    stack.localEndpoint({ transport: flow.transport, address: flow.remoteAddress, port: flow.remotePort });
  const pbxFor = pbxLookup(config.pbx);
  // Who may send a call's RTP besides its SDP address: the PBX it came from and that PBX's media anchors
  // (media/rtp-receiver.ts); with no PBX configured, loopback, as for SIP.
  const mediaSources = new Map(config.pbx.map((p) => [p, new AddressMatcher([...p.addresses, ...p.mediaAddresses])]));
  let draining = false;
  const contactFor = (inc: IncomingRequest): string => localContact(stack, inc);
  /** A call refused before it became a Call (draining, no route, over limits.maxCalls...): its record. */
  const recordRefused = (invite: IncomingRequest, status: number): void => {
    const record = draftCallRecord(invite, { trusted: trusted.matches(invite.flow.remoteAddress), app: '', worker });
    record.rejected(status);
    records.add(record.finish());
  };
  const core = new UserAgentCore(stack, {
    logger,
    timers: (reliable) => timerSet(config.sip.timers, reliable),
    sessionExpiresS: config.sip.sessionExpiresS,
    contactFor,
    credentialsFor: (address) => pbxFor(address)?.auth,
    draining: () => draining,
    drainRetryAfterS: Math.max(1, config.shutdown.drainSeconds),
    onInviteRefused: recordRefused,
  });

  const ports = new RtpPortPool(config.rtp.address, config.rtp.portMin, config.rtp.portMax, undefined, config.rtp.io);
  const router = new CallRouter(config.services, mailboxNumbers);
  // Shared clocks for every call's 20 ms tick (DESIGN.md: no per-call timers on the media path), in four
  // phases 5 ms apart so that no single timer callback carries every call's packets (clock-group.ts).
  const clock = new MediaClockGroup(4, { onError: (err) => logger.error({ err }, 'media tick failed') });
  const calls = new Set<Call>();
  metrics.watchSip(stack.traffic);
  metrics.watchCalls(calls, clock);
  const mediaAddressFor = (session: InviteSession): string => {
    if (config.rtp.advertise !== undefined) return config.rtp.advertise;
    if (config.rtp.address !== '0.0.0.0' && config.rtp.address !== '::') return config.rtp.address;
    const flow = session.invite.flow;
    return localFacing(flow).address;
  };

  // Sockets are bound before the apps are ready (MWI, attendant set-up): a call in that window gets 503.
  let accepting = false;
  core.onInvite = (session) => {
    // The trusted sources are the PBX (loopback until pbx is configured, DESIGN.md).
    const fromTrusted = trusted.matches(session.invite.flow.remoteAddress);
    const reject = (status: number, headers?: Record<string, string>): void => {
      session.reject(status, headers);
      recordRefused(session.invite, status);
    };
    if (!accepting) {
      reject(503, { 'retry-after': '1' });
      return;
    }
    if (calls.size >= config.limits.maxCalls) {
      // limits.maxCalls: one more call would degrade every call's audio; the PBX tries its next server.
      logger.warn({ callId: session.callId, calls: calls.size }, 'at limits.maxCalls; 503');
      reject(503, { 'retry-after': '1' });
      return;
    }
    const route = router.route(session.invite.message);
    if (!route) {
      logger.info({ callId: session.callId, uri: session.invite.message.uri }, 'INVITE for an unknown number');
      reject(404);
      return;
    }
    const pbx = pbxFor(session.invite.flow.remoteAddress);
    const call = new Call({
      session,
      route,
      ports,
      clock,
      catalog,
      mediaAddress: mediaAddressFor(session),
      sourceKey: sourceKeys.keyOf(session.invite.flow.remoteAddress),
      codecs: ['PCMU', 'PCMA'],
      dtmf: pbx?.dtmf ?? DEFAULT_DTMF_POLICY,
      srtp: pbx?.srtp ?? 'offered',
      noRtpTimeoutMs: config.rtp.noRtpTimeoutS * 1000,
      trustedMediaSources: (pbx && mediaSources.get(pbx)) ?? LOOPBACK,
      rtpWhileRecording: pbx?.rtpWhileRecording ?? DEFAULTS.rtpWhileRecording,
      trustAssertedIdentity: fromTrusted,
      callRecord: draftCallRecord(session.invite, { trusted: fromTrusted, app: route.service, worker }),
      logger,
    });
    calls.add(call);
    hooks.onCallsChanged?.(calls.size);
    let appDone: Promise<void> = Promise.resolve();
    call.once('hangup', () => {
      calls.delete(call);
      hooks.onCallsChanged?.(calls.size);
      metrics.callEnded(call);
      // The record is finished once the app is done too: a message stored after the caller hung up, a transfer
      // whose NOTIFY came with the BYE, are noted on it after the hang-up.
      const endedAt = Date.now();
      void appDone.then(() => records.add(call.callRecord.finish(endedAt)));
    });
    call.once('ready', () => {
      call.callRecord.answered();
      appDone = runApp(call, { logger, storageDir: config.storage.dir }, apps);
    });
    // `app`, not `service`: every line already carries service: "vmpilot" (admin/log.ts), and a second
    // "service" key in the same JSON object hides it from jq and log shippers.
    logger.info({ callId: call.callId, app: route.service, number: route.number, from: session.invite.message.headers.get('from') }, 'call received');
    const answer = (): void => {
      call.answer().catch((err: unknown) => {
        logger.error({ err, callId: call.callId }, 'answering failed');
        call.callRecord.rejected(500);
        session.reject(500);
      });
    };
    const delay = config.services.answerDelayMs;
    if (delay > 0) {
      // Ring first: some sites want the caller to hear ringing before voicemail picks up.
      session.progress(180);
      const timer = setTimeout(answer, delay);
      call.once('hangup', () => clearTimeout(timer));
    } else {
      answer();
    }
  };

  // Every process's deposits queue their new-message mail in the store, in the deposit's own commit (the store
  // opened with smtp: store/deposit-mail.ts); the process that maintains the store sends (cluster workers do not:
  // their front door does).
  const email = configuredEmail(config, store, logger, maintainStore);
  // This host's one leadership among the hosts sharing its store, for every leader-only job below (MWI, the IMAP
  // sync, the directory schedule): they move together. A cluster worker takes part in none (its front door does).
  const leadership = siteLeadership(config.storage.url, logger);
  // Voicemail in the owner's IMAP mailbox (issue 12): every process queues its deposits' appends in the store;
  // the sync runs in the process that maintains the store, while its host leads (not in cluster workers).
  const imap = startConfiguredImap(config, store, logger, maintainStore ? leadership.make : undefined);
  // The parts started below, stopped by close() with the rest, whatever has started when it runs.
  let mwi: MwiService | undefined;
  let retention: ReturnType<typeof startRetention> | undefined;
  let recordRetention: ReturnType<typeof startCallRecordRetention> | undefined;
  let directorySync: ReturnType<typeof startDirectorySchedule> | undefined;
  let http: RunningHttp | undefined;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    draining = true;
    await http?.close();
    await mwi?.stop();
    await core.shutdownAll();
    // Let the BYEs leave before the sockets close.
    await new Promise((resolve) => setTimeout(resolve, 50));
    stack.close();
    await transport.close();
    clock.close();
    retention?.stop();
    recordRetention?.stop();
    await directorySync?.stop();
    await email?.close();
    await imap?.stop();
    mailboxNumbers.close();
    await closeStoreSide();
    logger.info('vmpilot stopped');
  };
  /** A step of the start failed: what runs stops (the IMAP sync above, the SIP sockets...), then the start fails. */
  const failStart = async (err: unknown): Promise<never> => {
    await close();
    throw err;
  };
  const voicemail: VoicemailContext = {
    store,
    config: config.voicemail,
    keys: config.voicemail.keys,
    say: createSay(config.prompts.language),
    logger,
    attendantPilots: config.services.attendant,
    voicemailPilots: config.services.voicemail,
    onDeposit: (message) => {
      metrics.deposited(message);
      imap?.onDeposit(message);
    },
  };
  const attendant = await createAttendantContext({
    config,
    store,
    catalog,
    logger,
    pbxFor: (address) => pbxFor(address),
    leaveMessage: leaveMessageVia(voicemail),
    // Supervised transfers go back to the PBX the call came from (its source address and transport: with
    // TCP/TLS the PBX's listening port may differ from the connection's, FIXME: a per-PBX URI setting).
    supervisedTransfer: (call, target, options) =>
      supervisedTransfer(call, target, { ...options, pbxUri: call.sourceUri, credentials: pbxFor(call.sourceAddress)?.auth }),
  }).catch(failStart);
  const apps: AppRegistry = {
    voicemail: (call) => runVoicemail(call, voicemail),
    attendant: (call) => runAttendant(call, attendant),
    echo: (call) => runEcho(call, { tmpDir: store.tmpDir }),
    ...hooks.apps,
  };

  // MWI: phones and PBXs that SUBSCRIBE (RFC 6665), and unsolicited NOTIFY to each PBX's mwi.targets, while
  // this host leads the hosts sharing its store (alone on SQLite: always).
  // Messages recovered by the repair changed counts before the notifier listened: tell the PBX once.
  mwi = hooks.mwi === false ? undefined : await startSiteMwi({ stack, core, store, config, logger, contactFor, resendNow: repaired }, leadership).catch(failStart);
  retention = maintainStore ? startRetention(store, config, logger) : undefined;
  recordRetention = maintainStore ? startCallRecordRetention(store, config, logger) : undefined;
  directorySync = maintainStore ? startDirectorySchedule(store, config, logger, leadership.make) : undefined;
  if (maintainStore) metrics.watchSiteCounters(store);

  const bound = transport.bound();
  if (hooks.http !== false) {
    http = await startHttpServer({ config, store, logger, sipState: () => ({ bound: accepting, draining }), metrics, liveCalls: localLiveCalls(calls), ...(mwi && { mwi }) }).catch(failStart);
  }
  accepting = true;
  logger.info({ listen: bound.map((b) => `${b.transport}:${b.host}:${b.port}`), rtp: `${config.rtp.portMin}-${config.rtp.portMax}`, rtpIo: ports.io }, 'vmpilot listening');
  if (ports.io === 'dgram' && config.rtp.io === 'auto') logger.info({ reason: loadRtpIoBinding().reason }, 'RTP on Node dgram sockets (native RTP I/O not available: more CPU per call)');
  if (config.rtp.realtimePriority > 0) {
    // Last, once every helper thread has started: they stay ordinary threads (media/realtime-priority.ts).
    const realtime = setPacingThreadRealtime(config.rtp.realtimePriority);
    if (!realtime.ok) {
      logger.warn({ reason: realtime.reason }, 'rtp.realtimePriority not applied: the RTP pacing thread stays an ordinary thread');
    } else {
      logger.info({ priority: config.rtp.realtimePriority }, 'the RTP pacing thread runs real-time (SCHED_FIFO)');
      if (!hasSingleThreadedGc()) {
        logger.warn(
          { fix: 'node --single-threaded-gc $(which vmpilot) serve, or cluster.workers (the front door starts its workers so)' },
          "rtp.realtimePriority: V8's collector helper threads stay ordinary and the real-time thread may wait for them on a busy host",
        );
      }
    }
  }

  return {
    calls,
    ...(http && { http }),
    metrics,
    callRecords: records,
    addresses: () => bound,
    stats: () => ({ calls: calls.size, ...stack.stats(), rtpPortsInUse: ports.allocated, clock: clock.stats, clockSubscribers: clock.size, transport: transport.stats() }),
    close,
    async drain(deadlineMs: number): Promise<void> {
      draining = true;
      logger.info({ calls: calls.size, deadlineMs }, 'draining: new calls get 503');
      const deadline = Date.now() + deadlineMs;
      while (calls.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      if (calls.size > 0) logger.warn({ calls: calls.size }, 'drain deadline reached; ending remaining calls');
      await close();
    },
  };
}

/** The MWI service that runs while this host leads its site (mwi/while-leader.ts), with the host's leadership. */
export function startSiteMwi(opts: MwiServiceOptions & { config: Config }, leadership: SiteLeadership): Promise<MwiService> {
  return startMwiWhileLeader({ ...opts, leadership: leadership.make, refreshOnLead: leadership.shared });
}
