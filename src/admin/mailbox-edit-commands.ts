/**
 * Changing and removing mailboxes from the command line:
 *   vmpilot mailbox delete NUMBER [--yes]     the mailbox, its messages (audio too), greetings, subscriptions
 *   vmpilot mailbox prune [--yes] [--dry-run] the store's mailboxes absent from the config (authoritative only)
 *   vmpilot mailbox set NUMBER --FIELD VALUE  every field an administrator sets (mailbox-set.ts)
 * A mailbox of the config file is the config's to remove, and its config-owned fields the config's to change
 * (config-mailboxes.ts): both are refused here with the config key to edit instead.
 */
import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import type { MessageStore } from '../store/types.js';
import { NoSuchMailboxError } from '../store/types.js';
import { configEntry } from './config-mailboxes.js';
import { confirmed } from './confirm.js';
import { mailboxDrift } from './mailbox-drift.js';
import { registerMailboxSet } from './mailbox-set.js';
import { out, UserError, withStore, type ConfigLoader } from './with-store.js';

async function deleteMailbox(store: MessageStore, config: Config, number: string, opts: { yes?: boolean }): Promise<void> {
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

/**
 * Deletes the store's mailboxes that the config file does not list, with mailboxesFromConfig: authoritative
 * only. One mailbox at a time (each deletion is its own transaction): an interrupted prune leaves whole
 * mailboxes, deleted or not, and running it again finishes it.
 */
async function prune(store: MessageStore, config: Config, opts: { yes?: boolean; dryRun?: boolean }): Promise<void> {
  if (config.mailboxesFromConfig !== 'authoritative') {
    throw new UserError('mailboxesFromConfig is seed (the default): mailboxes only in the store are kept; set mailboxesFromConfig: authoritative in the config file to prune them');
  }
  const doomed = mailboxDrift(config, await store.listMailboxes()).onlyInStore;
  if (doomed.length === 0) return out('nothing to prune: every mailbox in the store is in the config file');
  if (opts.dryRun) return out(`would delete ${doomed.length} mailbox(es) not in the config file: ${doomed.join(', ')}`);
  const go = await confirmed(`delete ${doomed.length} mailbox(es) not in the config file, with their messages (${doomed.join(', ')}), for good?`, opts.yes);
  if (go === undefined) throw new UserError(`not pruning ${doomed.length} mailbox(es): no terminal to ask for confirmation (add --yes)`);
  if (!go) throw new UserError('nothing pruned');
  for (const number of doomed) {
    const deleted = await store.deleteMailbox(number);
    out(`mailbox ${deleted.number} deleted (${deleted.messages} message(s), ${deleted.greetings} greeting(s))`);
  }
}

/** Adds `mailbox delete`, `mailbox prune` and `mailbox set` to the `mailbox` command. */
export function registerMailboxEditCommands(mailbox: Command, load: ConfigLoader, configOption: readonly [string, string]): void {
  mailbox
    .command('delete')
    .description('delete a mailbox for good: its messages (audio too), greetings, aliases and subscriptions; the lamp goes off')
    .argument('<number>', 'mailbox number or alias')
    .option('-y, --yes', 'do not ask (needed when not on a terminal)')
    .option(...configOption)
    .action(withStore(load, deleteMailbox));
  mailbox
    .command('prune')
    .description('delete the mailboxes that are in the store but not in the config file (mailboxesFromConfig: authoritative only)')
    .option('-y, --yes', 'do not ask (needed when not on a terminal)')
    .option('--dry-run', 'print which mailboxes would be deleted; delete nothing')
    .option(...configOption)
    .action(withStore(load, prune));
  registerMailboxSet(mailbox, load, configOption);
}
