/**
 * The store's commands of `vmpilot` (DESIGN.md, "the operator's contract"):
 *   vmpilot mailbox add NUMBER --pin PIN --name "NAME" [--email ADDR]   provision a mailbox
 *   vmpilot mailbox list [--json]                                       list mailboxes with their counts
 *   vmpilot mailbox unlock NUMBER                                       clear a lock after failed PINs
 *   vmpilot mailbox set-pin NUMBER --pin PIN                            reset a forgotten PIN
 *   vmpilot mailbox delete | set ...                                    mailbox-edit-commands.ts
 *   vmpilot mailbox import | export ...                                 mailbox-import-command.ts
 *   vmpilot messages NUMBER [--json]                                    list a mailbox's messages
 * Each takes --config FILE (storage.dir and the site's quotas come from it; its mailboxes are provisioned into
 * the store first, as `serve` does). They open the store beside a running server: SQLite in WAL mode lets both
 * read and write.
 *
 * Exit codes as in cli.ts: 0 done; 1 the request cannot be done (a PIN the policy refuses, a number already
 * taken, no such mailbox, the store cannot be opened), with one line on stderr saying why; 2 bad config or bad
 * command line.
 *
 * Not here: the server, `check` (cli.ts); the store itself (store/).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import type { Config } from '../config/schema.js';
import type { MessageStore } from '../store/types.js';
import { NoSuchMailboxError, type Folder, type MessageRecord } from '../store/types.js';
import { registerMailboxEditCommands } from './mailbox-edit-commands.js';
import { registerMailboxImportCommands } from './mailbox-import-command.js';
import { checkInitialPin, checkNumber, out, pilotOwning, UserError, withStore, type ConfigLoader } from './with-store.js';

export type { ConfigLoader } from './with-store.js';

async function add(store: MessageStore, config: Config, number: string, opts: { pin: string; name: string; email?: string }): Promise<void> {
  checkNumber(number);
  const pilot = pilotOwning(config, number);
  if (pilot !== undefined) throw new UserError(`${number} is the ${pilot} pilot number`);
  checkInitialPin(opts.pin, number);
  if (opts.name.trim() === '') throw new UserError('the name must not be empty');
  if (opts.email !== undefined && !z.email().safeParse(opts.email).success) throw new UserError(`"${opts.email}" is not an email address`);
  const mailbox = await store.createMailbox({ number, name: opts.name.trim(), pin: opts.pin, email: opts.email });
  out(`mailbox ${mailbox.number} added (${mailbox.name}); the owner sets a new PIN at first login`);
}

/** Plain-text columns, left-aligned, two spaces apart. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

async function list(store: MessageStore, _config: Config, opts: { json?: boolean }): Promise<void> {
  const mailboxes = await store.listMailboxes();
  const rows = await Promise.all(mailboxes.map(async (m) => ({ mailbox: m, counts: await store.counts(m.number) })));
  if (opts.json) {
    const json = rows.map(({ mailbox: m, counts: c }) => ({
      number: m.number,
      name: m.name,
      email: m.email ?? null,
      aliases: m.aliases,
      new: c.new,
      saved: c.saved,
      locked: m.locked,
      failedLogins: m.failedLogins,
      mustChangePin: m.mustChangePin,
      setupDone: m.setupDone,
    }));
    out(JSON.stringify(json, null, 2));
    return;
  }
  if (rows.length === 0) return out('no mailboxes');
  const status = (m: (typeof mailboxes)[number]): string => (m.locked ? 'locked' : m.mustChangePin ? 'new PIN due' : 'ok');
  out(
    table(
      ['NUMBER', 'NAME', 'NEW', 'SAVED', 'STATUS', 'EMAIL', 'ALIASES'],
      rows.map(({ mailbox: m, counts: c }) => [m.number, m.name, String(c.new), String(c.saved), status(m), m.email ?? '-', m.aliases.join(',') || '-']),
    ),
  );
}

async function unlock(store: MessageStore, _config: Config, number: string): Promise<void> {
  const before = await store.findMailbox(number);
  if (!before) throw new NoSuchMailboxError(number);
  await store.updateMailbox(number, { locked: false, failedLogins: 0 });
  const cleared = before.failedLogins > 0 ? ` (${before.failedLogins} failed PIN entries cleared)` : '';
  // Failures (the PIN back-off) are what a lock is now; `locked` is an administrator's (types.ts).
  out(`mailbox ${before.number} ${before.locked || before.failedLogins > 0 ? 'unlocked' : 'was not locked'}${cleared}`);
}

async function setPin(store: MessageStore, _config: Config, number: string, opts: { pin: string }): Promise<void> {
  const mailbox = await store.findMailbox(number);
  if (!mailbox) throw new NoSuchMailboxError(number);
  checkInitialPin(opts.pin, mailbox.number);
  await store.setPin(mailbox.number, opts.pin);
  // An administrator knows this PIN: the owner replaces it at the next login. A reset is also the way out of a lock.
  await store.updateMailbox(mailbox.number, { mustChangePin: true, locked: false, failedLogins: 0 });
  out(`PIN of mailbox ${mailbox.number} set; the mailbox is unlocked and the owner sets a new PIN at the next login`);
}

/** One message as `vmpilot messages --json` prints it (DESIGN.md: the operator's contract). */
function messageJson(m: MessageRecord) {
  return {
    id: m.id,
    folder: m.folder,
    from: m.from,
    fromName: m.fromName,
    receivedAt: new Date(m.receivedAt).toISOString(),
    durationMs: m.durationMs,
    urgent: m.urgent,
    heard: m.heard,
    audioPath: m.audioPath,
  };
}

async function messages(store: MessageStore, _config: Config, number: string, opts: { json?: boolean }): Promise<void> {
  const folders: Folder[] = ['new', 'saved', 'deleted'];
  const all = (await Promise.all(folders.map((f) => store.listMessages(number, f)))).flat();
  if (opts.json) return out(JSON.stringify(all.map(messageJson), null, 2));
  if (all.length === 0) return out(`no messages in mailbox ${number}`);
  const from = (m: MessageRecord): string => (m.fromName ? `${m.fromName} <${m.from || 'anonymous'}>` : m.from || 'anonymous');
  const flags = (m: MessageRecord): string => [m.urgent ? 'urgent' : '', m.heard ? 'heard' : ''].filter(Boolean).join(',') || '-';
  out(
    table(
      ['ID', 'FOLDER', 'RECEIVED', 'SECONDS', 'FLAGS', 'FROM'],
      all.map((m) => [m.id, m.folder, new Date(m.receivedAt).toISOString(), (m.durationMs / 1000).toFixed(1), flags(m), from(m)]),
    ),
  );
}

/** Adds `mailbox …` and `messages` to the program; `load` reads --config the way serve and check do. */
export function registerMailboxCommands(program: Command, load: ConfigLoader): void {
  const configOption = ['-c, --config <file>', 'config file (YAML); storage.dir and mailboxes come from it'] as const;
  const mailbox = program.command('mailbox').description('provision and look after mailboxes');
  mailbox
    .command('add')
    .description('provision a mailbox (the owner replaces the initial PIN at first login)')
    .argument('<number>', 'mailbox number')
    .requiredOption('--pin <pin>', 'initial PIN: 4 to 16 digits (one easy to guess, such as 1234, is accepted with a warning)')
    .requiredOption('--name <name>', "owner's name, as said by the attendant's directory")
    .option('--email <addr>', 'where new-message notifications go')
    .option(...configOption)
    .action(withStore(load, add));
  mailbox
    .command('list')
    .description('list mailboxes with their new and saved message counts')
    .option('--json', 'print a JSON array')
    .option(...configOption)
    .action(withStore(load, list));
  mailbox
    .command('unlock')
    .description('unlock a mailbox locked after too many wrong PINs')
    .argument('<number>', 'mailbox number or alias')
    .option(...configOption)
    .action(withStore(load, unlock));
  mailbox
    .command('set-pin')
    .description('set a new PIN (for an owner who forgot it); also unlocks the mailbox')
    .argument('<number>', 'mailbox number or alias')
    .requiredOption('--pin <pin>', 'new initial PIN: 4 to 16 digits (one easy to guess is accepted with a warning)')
    .option(...configOption)
    .action(withStore(load, setPin));
  registerMailboxEditCommands(mailbox, load, configOption);
  registerMailboxImportCommands(mailbox, load, configOption);
  program
    .command('messages')
    .description("list a mailbox's messages (new, saved, then deleted; urgent first, then oldest first)")
    .argument('<number>', 'mailbox number or alias')
    .option('--json', 'print a JSON array of { id, folder, from, fromName, receivedAt, durationMs, urgent, heard, audioPath }')
    .option(...configOption)
    .action(withStore(load, messages));
}
