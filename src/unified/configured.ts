/**
 * The unified messaging service a config asks for: none without `unifiedMessaging.imap`, else the IMAP sync
 * with the per-mailbox logins of `mailboxes[].imap`.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { ImapLogin } from '../config/unified-schema.js';
import type { MessageStore } from '../store/types.js';
import { startUnifiedImap, type UnifiedImap } from './imap-sync.js';

export function startConfiguredImap(config: Config, store: MessageStore, logger: Logger): UnifiedImap | undefined {
  const imap = config.unifiedMessaging?.imap;
  if (!imap) return undefined;
  const logins = new Map<string, ImapLogin>();
  for (const m of config.mailboxes) if (m.imap) logins.set(m.number, m.imap);
  return startUnifiedImap({ config: imap, store, logger, logins, timeZone: config.voicemail.timeZone });
}
