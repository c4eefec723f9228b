/**
 * The new-message email as the voicemail app's onDeposit: the stored message names its mailbox by number, the
 * email needs the mailbox's address, so the mailbox is looked up first. It returns at once (the caller is
 * still on the line); a failed look-up (the store thread restarting, the database locked beyond its retries)
 * costs this one email, logged, and never the process: an unhandled rejection would exit Node.
 */
import type { Logger } from 'pino';
import type { MessageRecord, MessageStore } from '../store/types.js';
import type { EmailNotifier } from './email.js';

export function emailOnDeposit(
  store: Pick<MessageStore, 'findMailbox'>,
  email: Pick<EmailNotifier, 'notify'>,
  logger: Logger,
): (message: MessageRecord) => void {
  return (message) => {
    store.findMailbox(message.mailbox).then(
      (mailbox) => {
        if (mailbox?.email) email.notify(mailbox, message);
      },
      (err: unknown) => logger.error({ err, mailbox: message.mailbox, id: message.id }, 'new-message email skipped: mailbox look-up failed'),
    );
  };
}
