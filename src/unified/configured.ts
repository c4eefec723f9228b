/**
 * The unified messaging a config asks for: none without `unifiedMessaging.imap`, else
 *  - every deposit's append is queued in the store by the deposit's own commit (store/open.ts opens the store
 *    so when the config has unifiedMessaging.imap), on every host and cluster worker, whichever path commits it;
 *  - the IMAP sync (imap-sync.ts, with the per-mailbox logins of `mailboxes[].imap`) runs only where a
 *    leadership is given, and only while this host leads its site (cluster/leader-job.ts): on several hosts
 *    sharing one PostgreSQL store, exactly one holds IMAP connections, sweeps and drains the append queue. A new
 *    leader's sync starts with a full compare of every mailbox, which catches up what a mail client changed
 *    while no host ran it. A cluster worker (no leadership) only queues: its front door runs the sync.
 */
import type { Logger } from 'pino';
import type { Leadership, LeadershipOptions } from '../cluster/leadership.js';
import { runWhileLeader, type LeaderJob } from '../cluster/leader-job.js';
import type { Config } from '../config/schema.js';
import type { ImapLogin } from '../config/unified-schema.js';
import type { MessageRecord, MessageStore } from '../store/types.js';
import { startUnifiedImap, type UnifiedImap } from './imap-sync.js';

export interface ConfiguredImap {
  /** A deposit was made here: the sync, if it runs here, looks at the queue at once rather than at its next poll. */
  onDeposit(message: MessageRecord): void;
  /** The IMAP sync, while this host leads and runs it. */
  readonly sync: UnifiedImap | undefined;
  stop(): Promise<void>;
}

export function startConfiguredImap(
  config: Config,
  store: MessageStore,
  logger: Logger,
  leadership?: (opts: LeadershipOptions) => Leadership,
): ConfiguredImap | undefined {
  const imap = config.unifiedMessaging?.imap;
  if (!imap) return undefined;
  const logins = new Map<string, ImapLogin>();
  for (const m of config.mailboxes) if (m.imap) logins.set(m.number, m.imap);
  const job: LeaderJob<UnifiedImap> | undefined =
    leadership &&
    runWhileLeader({
      leadership,
      start: () => startUnifiedImap({ config: imap, store, logger, logins, timeZone: config.voicemail.timeZone }),
      stop: (sync) => sync.close(),
      name: 'IMAP sync',
      logger,
    });
  return {
    onDeposit() {
      // The deposit's commit queued the append (store/open.ts opens the store so with unified messaging on).
      job?.running?.appendSoon();
    },
    get sync() {
      return job?.running;
    },
    stop: async () => {
      await job?.stop();
    },
  };
}
