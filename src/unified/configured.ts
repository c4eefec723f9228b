/**
 * The unified messaging a config asks for: none without `unifiedMessaging.imap`, else
 *  - every process that takes deposits queues their appends, in the store (onDeposit);
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
  /** Queues a deposit's append in the store (and has the sync look at once when it runs here). */
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
    onDeposit(message) {
      store.enqueueImapAppend(message.id, message.mailbox).then(
        () => job?.running?.appendSoon(),
        (err: unknown) => logger.error({ err, messageId: message.id, mailbox: message.mailbox }, 'IMAP append not queued (store error)'),
      );
    },
    get sync() {
      return job?.running;
    },
    stop: async () => {
      await job?.stop();
    },
  };
}
