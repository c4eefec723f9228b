/**
 * `vmpilot directory sync [--dry-run] [--json] [--config FILE]`: one sync of the store's mailboxes with the
 * LDAP directory of directory.ldap (src/directory/sync.ts). Prints what changed (or would change), every
 * skipped entry with its DN and reason, and the random PINs that could not be mailed. Exit 1 when the
 * directory cannot be read (connect, bind, search) or the store refused the changes; skipped entries are not
 * a failure.
 */
import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import { DirectoryError } from '../directory/ldap-source.js';
import { reportLines } from '../directory/report-text.js';
import { syncDirectory } from '../directory/sync.js';
import { SyncBusyError } from '../directory/sync-lock.js';
import type { MessageStore } from '../store/types.js';
import { out, UserError, withStore, type ConfigLoader } from './with-store.js';

async function syncCommand(store: MessageStore, config: Config, opts: { dryRun?: boolean; json?: boolean }): Promise<void> {
  if (!config.directory) throw new UserError('the config has no directory.ldap section (README "Directory sync")');
  try {
    const report = await syncDirectory(store, config, { dryRun: opts.dryRun });
    out(opts.json ? JSON.stringify(report, null, 2) : reportLines(report).join('\n'));
  } catch (err) {
    if (err instanceof DirectoryError || err instanceof SyncBusyError) throw new UserError(err.message);
    throw new UserError(`directory sync failed, nothing applied: ${(err as Error).message}`);
  }
}

export function registerDirectoryCommands(program: Command, load: ConfigLoader): void {
  const directory = program.command('directory').description('mailboxes kept in step with an LDAP directory (directory.ldap)');
  directory
    .command('sync')
    .description('create, update, renumber and disable the directory\'s mailboxes now')
    .option('--dry-run', 'print what would change; write nothing')
    .option('--json', 'the report as JSON')
    .option('-c, --config <file>', 'config file (YAML)')
    .action(withStore(load, syncCommand));
}
