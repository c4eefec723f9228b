/**
 * `vmpilot calls [--since 1h] [--until T] [--from N] [--to N] [--limit N] [--json|--csv] [--config FILE]`
 * (DESIGN.md, "the operator's contract"): the call records, newest first, as a table, JSON or CSV. --since
 * defaults to 24h. Exit codes as in cli.ts: 2 for a bad option (a --since that is not a time), said in one
 * line before the store is opened.
 */
import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import type { MessageStore } from '../store/types.js';
import { callRecordJson, callRecordsCsv, parseCallQuery, type CallQueryText } from '../call-records/query.js';
import { table } from './mailbox-commands.js';
import { withStore, type ConfigLoader } from './with-store.js';

const EXIT_USAGE = 2;

interface CallsOptions extends CallQueryText {
  json?: boolean;
  csv?: boolean;
  config?: string;
}

async function calls(store: MessageStore, _config: Config, opts: CallsOptions): Promise<void> {
  const parsed = parseCallQuery({ since: '24h', ...opts });
  if ('error' in parsed) throw new Error(parsed.error); // checked before the store was opened
  const records = await store.listCallRecords(parsed.query);
  if (opts.csv) return void process.stdout.write(callRecordsCsv(records));
  if (opts.json) return void process.stdout.write(`${JSON.stringify(records.map(callRecordJson), null, 2)}\n`);
  if (records.length === 0) return void process.stdout.write('no calls\n');
  const rows = records.map((r) => {
    const j = callRecordJson(r);
    const seconds = ((r.endedAt - (r.answeredAt ?? r.endedAt)) / 1000).toFixed(0);
    return [j.offeredAt!, r.from || 'anonymous', r.to, r.app || '-', r.outcome, r.detail || '-', seconds, r.callId];
  });
  process.stdout.write(`${table(['OFFERED', 'FROM', 'TO', 'APP', 'OUTCOME', 'DETAIL', 'SECONDS', 'CALL-ID'], rows)}\n`);
}

export function registerCallsCommand(program: Command, load: ConfigLoader): void {
  program
    .command('calls')
    .description('list call records, newest first (default: the last 24 hours)')
    .option('--since <when>', 'offered since: a time ago (90s, 30m, 1h, 2d, 1w) or an ISO date (2026-12-06T09:14:00Z)')
    .option('--until <when>', 'offered before: the same forms as --since')
    .option('--from <number>', "the caller's number")
    .option('--to <number>', 'the number called (the redirecting number or the pilot)')
    .option('--limit <n>', 'at most this many (the newest); default 1000')
    .option('--json', 'print a JSON array of { callId, offeredAt, answeredAt, endedAt, from, to, pilot, app, outcome, detail, messageId, worker }')
    .option('--csv', 'print CSV with the JSON fields as columns')
    .option('-c, --config <file>', 'config file (YAML); storage.dir comes from it')
    // A bad option is a usage error (exit 2 through commander's error, cli.ts), said before the store opens.
    .hook('preAction', (cmd) => {
      const opts = cmd.opts<CallsOptions>();
      const parsed = parseCallQuery(opts);
      if ('error' in parsed) cmd.error(`vmpilot: calls: --${parsed.error}`, { exitCode: EXIT_USAGE });
      if (opts.json && opts.csv) cmd.error('vmpilot: calls: --json and --csv exclude each other', { exitCode: EXIT_USAGE });
    })
    .action(withStore(load, calls));
}
