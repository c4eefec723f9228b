/**
 * The MWI service of one process: phones and PBXs that SUBSCRIBE (RFC 6665, subscriptions.ts) and unsolicited
 * NOTIFYs to each PBX's mwi.targets (notifier.ts), both fed by the store's count changes.
 *
 * Exactly one process of a site runs it (issue 13, "one store, one lamp"): a single server runs it itself; in a
 * cluster the front door runs it and the workers are started with `mwi: false`, so that no NOTIFY is sent twice
 * and every SUBSCRIBE dialog has one owner. Changes made by other processes reach it through the store's
 * cross-process change feed (store/change-feed.ts), as 'counts' events like local ones.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { pbxLookup } from '../config/pbx-lookup.js';
import type { IncomingRequest } from '../sip/incoming-request.js';
import type { SipStack } from '../sip/stack.js';
import type { UserAgentCore } from '../sip/user-agent-core.js';
import type { MwiStore } from './store-view.js';
import { MwiNotifier, type ResendScope } from './notifier.js';
import { MwiSubscriptions } from './subscriptions.js';

export interface MwiServiceOptions {
  stack: SipStack;
  /** SUBSCRIBE requests are taken from its onSubscribe (after stop() they get 503 with Retry-After). */
  core: Pick<UserAgentCore, 'onSubscribe'>;
  store: MwiStore;
  /** Uses pbx (targets, credentials), mwi (subscribeAuth, resendOnStart, limits) and storage.dir (an old subscriptions file). */
  config: Pick<Config, 'pbx' | 'mwi' | 'storage'> & { sip: Pick<Config['sip'], 'limits'> };
  logger: Logger;
  /** Our Contact for a dialog a SUBSCRIBE creates (the UA core's own function). */
  contactFor(inc: IncomingRequest): string;
  /**
   * Send the states the PBX has not acknowledged once at start even without mwi.resendOnStart (start-up repair
   * recovered messages, whose count changes happened before anyone listened; another host may have led before).
   * Default false.
   */
  resendNow?: boolean;
}

export interface MwiService {
  /** Stops NOTIFYs and saves the subscriptions (they resume at the next start). Idempotent. */
  stop(): Promise<void>;
  /**
   * Queues every mailbox's current state for every PBX target, acknowledged or not (a PBX that lost its lamps);
   * resolves with how many mailboxes, or undefined when there is no target (or MWI runs elsewhere).
   */
  resendAll(): Promise<number | undefined>;
  /** Queues one mailbox's current state for every PBX target; false when there is none (or MWI runs elsewhere). */
  resend(mailbox: string): Promise<boolean>;
}

export async function startMwiService(opts: MwiServiceOptions): Promise<MwiService> {
  const { stack, core, store, config, logger } = opts;
  const pbxFor = pbxLookup(config.pbx);
  const subscriptions = new MwiSubscriptions({
    stack,
    store,
    logger,
    contactFor: opts.contactFor,
    importFile: join(config.storage.dir, 'subscriptions.json'),
    limits: { maxTotal: config.mwi.maxSubscriptions, maxPerSource: config.mwi.maxSubscriptionsPerSource, maxPerMailbox: config.mwi.maxSubscriptionsPerMailbox, ipv6PrefixLength: config.sip.limits.ipv6PrefixLength },
    auth: config.mwi.subscribeAuth,
    credentialsFor: (address) => pbxFor(address)?.auth,
  });
  await subscriptions.start();
  core.onSubscribe = (inc) => subscriptions.handle(inc);
  const notifier = new MwiNotifier({ stack, store, logger, pbx: config.pbx, resendOnStart: startResend(config.mwi.resendOnStart, opts.resendNow), ratePerSecond: config.mwi.notifyRatePerSecond });
  notifier.start();
  let stopped: Promise<void> | undefined;
  return {
    resendAll: async () => (notifier.enabled ? notifier.resendAll('all') : undefined),
    resend: (mailbox) => notifier.resend(mailbox),
    stop: () => {
      stopped ??= (async () => {
        notifier.stop();
        await subscriptions.stop();
      })();
      return stopped;
    },
  };
}

/**
 * What a start sends: `resendOnStart: all` every lamp; otherwise, when asked (mwi.resendOnStart, or resendNow),
 * the lamps a PBX has not acknowledged. That is safe after a crash too: a NOTIFY the dead process had out is
 * marked unacknowledged before it left (ack-ledger.ts), and a change nobody sent differs from what was acknowledged.
 */
function startResend(resendOnStart: boolean | 'all', resendNow: boolean | undefined): ResendScope | undefined {
  if (resendOnStart === 'all') return 'all';
  return resendOnStart || resendNow ? 'unacknowledged' : undefined;
}
