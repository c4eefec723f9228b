/**
 * One caller's data, for a data-subject request (seed 002: GDPR notices and erase-by-caller-number):
 *   vmpilot caller show NUMBER [--json]      the messages they left (every mailbox and folder) and their calls
 *   vmpilot caller erase NUMBER [--yes]      erases those messages (audio too; lamps follow), their queued
 *                                           emails and the call records, for good
 * NUMBER matches the caller's number exactly as the PBX sent it (what `vmpilot calls` shows in FROM): a caller
 * seen as both 0301234567 and +49301234567 needs both. Copies outside the store (emails already sent, IMAP
 * copies with unified messaging, a mirror's standby until its next sweep, log files) are the operator's to
 * handle; `erase` says so.
 */
import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import type { CallerData, MessageStore } from '../store/types.js';
import { callRecordJson } from '../call-records/query.js';
import { confirmed } from './confirm.js';
import { table } from './mailbox-commands.js';
import { out, UserError, withStore, type ConfigLoader } from './with-store.js';

/** The same fields the HTTP API gives (routes/callers.ts). */
export function callerDataJson(caller: string, data: CallerData): object {
  return {
    caller,
    messages: data.messages.map((m) => ({
      id: m.id,
      mailbox: m.mailbox,
      folder: m.folder,
      receivedAt: new Date(m.receivedAt).toISOString(),
      durationMs: m.durationMs,
      callerName: m.fromName,
    })),
    callRecords: data.callRecords.map(callRecordJson),
  };
}

/** Refuses an empty caller: '' is how anonymous calls are kept, and "erase every anonymous call" is not a request about a person. */
function checkCaller(caller: string): string {
  const trimmed = caller.trim();
  if (trimmed === '') throw new UserError('caller: give the number to look for (anonymous callers have none)');
  return trimmed;
}

async function show(store: MessageStore, _config: Config, caller: string, opts: { json?: boolean }): Promise<void> {
  const number = checkCaller(caller);
  const data = await store.callerData(number);
  if (opts.json) return out(JSON.stringify(callerDataJson(number, data), null, 2));
  out(`caller ${number}: ${data.messages.length} message(s), ${data.callRecords.length} call record(s)`);
  if (data.messages.length > 0) {
    const rows = data.messages.map((m) => [new Date(m.receivedAt).toISOString(), m.mailbox, m.folder, (m.durationMs / 1000).toFixed(0), m.id]);
    out(table(['RECEIVED', 'MAILBOX', 'FOLDER', 'SECONDS', 'ID'], rows));
  }
}

async function erase(store: MessageStore, _config: Config, caller: string, opts: { yes?: boolean }): Promise<void> {
  const number = checkCaller(caller);
  const data = await store.callerData(number);
  if (data.messages.length === 0 && data.callRecords.length === 0) return out(`caller ${number}: nothing stored`);
  const what = `${data.messages.length} message(s) and ${data.callRecords.length} call record(s) of caller ${number}`;
  const go = await confirmed(`erase ${what}, for good?`, opts.yes);
  if (go === undefined) throw new UserError(`not erasing ${what}: no terminal to ask for confirmation (add --yes)`);
  if (!go) throw new UserError('nothing erased');
  const erased = await store.eraseCaller(number);
  out(`caller ${number}: erased ${erased.messages} message(s), ${erased.queuedEmails} queued email(s), ${erased.callRecords} call record(s)`);
  out('not erased here: emails already sent, IMAP copies (unified messaging), log files; a mirror standby follows at its next sweep');
}

export function registerCallerCommands(program: Command, load: ConfigLoader): void {
  const caller = program.command('caller').description("one caller's messages and call records: show them, or erase them (data-subject requests)");
  caller
    .command('show')
    .description('list the messages a caller left (every mailbox and folder) and their call records')
    .argument('<number>', "the caller's number, exactly as in `vmpilot calls`")
    .option('--json', 'print { caller, messages, callRecords } as JSON')
    .option('-c, --config <file>', 'config file (YAML); storage comes from it')
    .action(withStore(load, show));
  caller
    .command('erase')
    .description("erase for good a caller's messages (audio too; lamps follow), their queued emails and call records")
    .argument('<number>', "the caller's number, exactly as in `vmpilot calls`")
    .option('-y, --yes', 'do not ask (needed when not on a terminal)')
    .option('-c, --config <file>', 'config file (YAML); storage comes from it')
    .action(withStore(load, erase));
}
