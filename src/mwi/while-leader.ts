/**
 * The MWI service of a host that shares its store with other hosts: it runs only while this host leads
 * (cluster/leadership.ts), so that exactly one host sends unsolicited NOTIFYs and owns SUBSCRIBE dialogs.
 *
 *  - Becoming the leader starts the service, with a refresh where other hosts may have led before: each mailbox
 *    whose state a PBX has not acknowledged is queued for it (paced by the notifier's rate gate, mwi/rate-gate.ts;
 *    what was acknowledged is in the store, mwi/ack-ledger.ts), because changes made while no host led, or sent
 *    by a leader that died before the PBX answered, would otherwise never reach the lamps; lamps the PBX
 *    acknowledged and that did not change since are not sent again (mwi.resendOnStart: all sends them too). Subscriptions
 *    kept in the store are resumed (each gets a NOTIFY with the current state, mwi/subscriptions.ts).
 *  - Losing leadership stops the service at once: undelivered states are dropped (the next leader's refresh
 *    sends them), and new SUBSCRIBEs get 503 with Retry-After, which sends a phone behind DNS SRV or a
 *    dispatcher to the leading host (RFC 3263 §4.3).
 *  - While following, SUBSCRIBE gets that same 503.
 *
 * Resolves once a leadership that leads at once (SoleLeadership) has started the service. Starts and stops are
 * serialised: a quick lose-then-win waits for the stop before starting again.
 */
import type { Leadership, LeadershipOptions } from '../cluster/leadership.js';
import { startMwiService, type MwiService, type MwiServiceOptions } from './service.js';

/** Retry-After (s) on a SUBSCRIBE at a host that does not lead: about one follower retry of the leadership. */
const FOLLOWER_RETRY_AFTER_S = 5;

export interface LeaderMwiOptions extends MwiServiceOptions {
  /** Makes this host's leadership, given the function to tell changes to. */
  leadership(opts: LeadershipOptions): Leadership;
  /**
   * Refresh the lamps each time this host becomes the leader: true where other hosts may have led before
   * (PgLeadership); false for the only candidate (SoleLeadership), which keeps mwi.resendOnStart's say.
   */
  refreshOnLead: boolean;
}

export interface LeaderMwi extends MwiService {
  /** Whether this host leads (and its MWI service runs or is starting). */
  readonly leader: boolean;
}

export async function startMwiWhileLeader(opts: LeaderMwiOptions): Promise<LeaderMwi> {
  const { core, logger } = opts;
  const follow = (): void => {
    core.onSubscribe = (inc) => inc.respond(503, { headers: { 'retry-after': String(FOLLOWER_RETRY_AFTER_S) } });
  };
  let service: MwiService | undefined;
  // Every start and stop runs after the previous one ended.
  let chain: Promise<void> = Promise.resolve();
  let stopped = false;
  /** Why the last start failed (a leader from the start fails the host's start with it, as before). */
  let startError: unknown;
  const onChange = (leader: boolean): void => {
    if (!leader) {
      // Stop sending now: MwiService.stop() stops the notifier before its first await. A start still in
      // progress sees the lost leadership when it ends (below).
      const running = service;
      service = undefined;
      follow();
      const stopping = running?.stop();
      chain = chain.then(() => stopping);
      return;
    }
    chain = chain.then(async () => {
      if (stopped || !leadership.leader) return;
      try {
        service = await startMwiService({ ...opts, resendNow: opts.refreshOnLead || opts.resendNow });
        startError = undefined;
      } catch (err) {
        startError = err;
        logger.error({ err }, 'MWI service failed to start on taking leadership');
      }
      // Leadership lost while starting: the change handler above ran before `service` was set.
      if (!leadership.leader || stopped) {
        await service?.stop();
        service = undefined;
        follow();
      }
    });
  };
  follow();
  const leadership = opts.leadership({ onChange });
  leadership.start();
  // A leader from the start (SoleLeadership) has its service running before the host takes calls, as before,
  // and a service that cannot start (its store unreadable) fails the host's start.
  await chain;
  if (startError !== undefined) {
    await leadership.stop();
    throw startError;
  }
  return {
    get leader() {
      return leadership.leader;
    },
    async resendAll() {
      await chain;
      return service ? service.resendAll() : undefined;
    },
    async resend(mailbox) {
      await chain;
      return service ? service.resend(mailbox) : false;
    },
    async stop() {
      stopped = true;
      await leadership.stop();
      await chain;
      await service?.stop();
    },
  };
}
