/**
 * Bulk provisioning on the command line (mailbox-csv.ts says the file's columns):
 *   vmpilot mailbox import FILE.csv [--dry-run]   create and update mailboxes, all in one transaction
 *   vmpilot mailbox export [--csv | --json]       every mailbox (no PINs); an export imported changes nothing
 * import prints every bad row as FILE:LINE: reason and exits 1 with nothing applied; --dry-run prints what
 * would change and writes nothing. Progress (hashing the new mailboxes' PINs) goes to stderr, a bar on a
 * terminal; results go to stdout.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import type { MessageStore } from '../store/types.js';
import { describeChanges } from '../store/mailbox-diff.js';
import { mailboxesCsv } from './mailbox-csv.js';
import { importMailboxCsv, type ImportPlan } from './mailbox-import.js';
import { progress } from './progress.js';
import { out, UserError, withStore, type ConfigLoader } from './with-store.js';

function dryRunReport(plan: ImportPlan): string[] {
  return [
    ...plan.create.map((r) => `create ${r.number} (${r.fields.name})`),
    ...plan.update.map((r) => `update ${r.number}: ${describeChanges(r.changes)}`),
    `dry run: would create ${plan.create.length}, update ${plan.update.length}; ${plan.unchanged} unchanged; nothing written`,
  ];
}

async function importCommand(store: MessageStore, config: Config, file: string, opts: { dryRun?: boolean }): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const started = performance.now();
  const bar = progress('hashing PINs');
  const { plan, applied } = await importMailboxCsv(store, config, text, { dryRun: opts.dryRun, onHashProgress: (done, total) => bar.update(done, total) });
  bar.end();
  if (plan.problems.length > 0) {
    const rows = new Set(plan.problems.map((p) => p.line)).size;
    const lines = plan.problems.map((p) => `${file}:${p.line}: ${p.message}`);
    throw new UserError(`${lines.join('\nvmpilot: ')}\nvmpilot: ${plan.problems.length} problem(s) on ${rows} line(s); nothing imported`);
  }
  if (plan.pinsIgnored > 0) {
    process.stderr.write(`vmpilot: ${plan.pinsIgnored} PIN(s) ignored: those mailboxes exist (an import sets initial PINs only; vmpilot mailbox set N --pin resets one)\n`);
  }
  if (!applied) return out(dryRunReport(plan).join('\n'));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  out(
    [
      ...plan.update.map((r) => `updated ${r.number}: ${describeChanges(r.changes)}`),
      `imported ${file}: created ${applied.created}, updated ${applied.updated}, ${plan.unchanged} unchanged (${seconds} s)`,
    ].join('\n'),
  );
}

async function exportCommand(store: MessageStore, _config: Config, opts: { json?: boolean }): Promise<void> {
  const mailboxes = await store.listMailboxes();
  if (!opts.json) return void process.stdout.write(mailboxesCsv(mailboxes));
  const json = mailboxes.map((m) => ({
    number: m.number,
    name: m.name,
    email: m.email ?? null,
    aliases: m.aliases,
    attachAudio: m.emailAttachAudio,
    maxMessages: m.maxMessages,
    maxMinutes: m.maxMinutes,
    hidden: m.hiddenFromDirectory,
  }));
  out(JSON.stringify(json, null, 2));
}

/** Adds `mailbox import` and `mailbox export` to the `mailbox` command. */
export function registerMailboxImportCommands(mailbox: Command, load: ConfigLoader, configOption: readonly [string, string]): void {
  mailbox
    .command('import')
    .description('create and update mailboxes from a CSV file (number,name,pin,email,aliases,attachAudio,maxMessages,maxMinutes,hidden), in one transaction')
    .argument('<file>', 'the CSV file, with a header row')
    .option('--dry-run', 'print what would change; write nothing')
    .option(...configOption)
    .action(withStore(load, importCommand));
  mailbox
    .command('export')
    .description('print every mailbox as CSV (the import format, without PINs) or JSON')
    .option('--csv', 'CSV (the default)')
    .option('--json', 'a JSON array')
    .option(...configOption)
    .action(withStore(load, exportCommand));
}
