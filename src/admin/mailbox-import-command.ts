/**
 * Bulk provisioning on the command line (mailbox-csv.ts says the file's columns):
 *   vmpilot mailbox import FILE.csv [--dry-run]   create and update mailboxes, all in one transaction
 *   vmpilot mailbox export [--csv | --json]       every mailbox (no PINs); an export imported changes nothing
 * import prints every bad row as FILE:LINE: reason and exits 1 with nothing applied; a FILE that is not a regular
 * file, or larger than MAILBOX_CSV_MAX_BYTES, is refused unread with exit 2; --dry-run prints what
 * would change and writes nothing. Progress (hashing the new mailboxes' PINs) goes to stderr, a bar on a
 * terminal; results go to stdout.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import type { MessageStore } from '../store/types.js';
import { describeChanges } from '../store/mailbox-diff.js';
import { mailboxesCsv } from './mailbox-csv.js';
import { importMailboxCsv, MAILBOX_CSV_MAX_BYTES, type ImportPlan } from './mailbox-import.js';
import { progress } from './progress.js';
import { out, UsageError, UserError, withStore, type ConfigLoader } from './with-store.js';

function dryRunReport(plan: ImportPlan): string[] {
  return [
    ...plan.create.map((r) => `create ${r.number} (${r.fields.name})`),
    ...plan.update.map((r) => `update ${r.number}: ${describeChanges(r.changes)}`),
    `dry run: would create ${plan.create.length}, update ${plan.update.length}; ${plan.unchanged} unchanged; nothing written`,
  ];
}

/**
 * The file's text: a regular file of at most MAILBOX_CSV_MAX_BYTES, else a UsageError. Opened without blocking
 * (a FIFO with no writer would hold the open forever) and read no further than the limit, so that a device
 * (/dev/zero) or a file growing meanwhile cannot take the memory.
 */
async function readImportFile(file: string): Promise<string> {
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new UserError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new UsageError(`${file} is not a regular file; import reads a CSV file`);
    if (stat.size > MAILBOX_CSV_MAX_BYTES) throw new UsageError(`${file} is larger than ${MAILBOX_CSV_MAX_BYTES / 1024 / 1024} MiB, the most an import reads; split it`);
    // One byte more than its size: a file that grew since the stat is seen, and not read further.
    const buffer = Buffer.alloc(stat.size + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > stat.size) throw new UserError(`${file} changed while it was read; nothing imported`);
    return buffer.toString('utf8', 0, length);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`cannot read ${file}: ${(err as Error).message}`);
  } finally {
    await handle.close();
  }
}

async function importCommand(store: MessageStore, config: Config, file: string, opts: { dryRun?: boolean }): Promise<void> {
  const text = await readImportFile(file);
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
