/**
 * Changing and removing mailboxes from the command line:
 *   vmpilot mailbox delete NUMBER [--yes]     the mailbox, its messages (audio too), greetings, subscriptions
 *   vmpilot mailbox set NUMBER --FIELD VALUE  every field an administrator sets (mailbox-set.ts)
 * A mailbox of the config file is the config's to remove, and its config-owned fields the config's to change
 * (config-mailboxes.ts): both are refused here with the config key to edit instead.
 */
import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import type { SqliteStore } from '../store/sqlite.js';
import { NoSuchMailboxError } from '../store/types.js';
import { configEntry } from './config-mailboxes.js';
import { confirmed } from './confirm.js';
import { registerMailboxSet } from './mailbox-set.js';
import { out, UserError, withStore, type ConfigLoader } from './with-store.js';

async function deleteMailbox(store: SqliteStore, config: Config, number: string, opts: { yes?: boolean }): Promise<void> {
  const mailbox = await store.findMailbox(number);
  if (!mailbox) throw new NoSuchMailboxError(number);
  const inConfig = configEntry(config, mailbox.number);
  if (inConfig) {
    throw new UserError(`mailbox ${mailbox.number} is in the config file (mailboxes[${inConfig.index}]): remove it there, or it comes back at the next start`);
  }
  const messages = (await store.listMessages(mailbox.number, 'new')).length + (await store.listMessages(mailbox.number, 'saved')).length;
  const go = await confirmed(`delete mailbox ${mailbox.number} (${mailbox.name}) with its ${messages} message(s) and greetings, for good?`, opts.yes);
  if (go === undefined) throw new UserError(`not deleting mailbox ${mailbox.number}: no terminal to ask for confirmation (add --yes)`);
  if (!go) throw new UserError(`mailbox ${mailbox.number} not deleted`);
  const deleted = await store.deleteMailbox(mailbox.number);
  out(`mailbox ${deleted.number} deleted (${deleted.messages} message(s), ${deleted.greetings} greeting(s))`);
}

/** Adds `mailbox delete` and `mailbox set` to the `mailbox` command. */
export function registerMailboxEditCommands(mailbox: Command, load: ConfigLoader, configOption: readonly [string, string]): void {
  mailbox
    .command('delete')
    .description('delete a mailbox for good: its messages (audio too), greetings, aliases and subscriptions; the lamp goes off')
    .argument('<number>', 'mailbox number or alias')
    .option('-y, --yes', 'do not ask (needed when not on a terminal)')
    .option(...configOption)
    .action(withStore(load, deleteMailbox));
  registerMailboxSet(mailbox, load, configOption);
}
