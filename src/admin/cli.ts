#!/usr/bin/env node
/**
 * The `vmpilot` command (DESIGN.md, "the operator's contract"):
 *   vmpilot serve [--config FILE]   run the server (no file: the embedded defaults)
 *   vmpilot check --config FILE     validate a config, print every issue with its path
 *   vmpilot ping [--config FILE]    is the server on this host taking calls? (ping.ts; for health checks)
 *   vmpilot mailbox …, messages …   mailbox and message commands (mailbox-commands.ts)
 *   vmpilot store copy, mirror …    moving and mirroring whole stores (store-commands.ts)
 *   vmpilot store migrate           schema versions (store-migrate-command.ts)
 *   vmpilot http token NAME         a new admin API token and its config line (http-commands.ts)
 *   vmpilot calls [--since 1h] …    call records (calls-command.ts)
 *   vmpilot caller show|erase N     one caller's messages and calls (caller-commands.ts)
 *   vmpilot directory sync          mailboxes from an LDAP directory (directory-command.ts)
 *
 * Exit codes: 0 success (and a clean shutdown after SIGTERM/SIGINT); 1 the server could not start or failed;
 * 2 bad config or bad command line. A config error is reported before anything is bound or logged. `check`
 * prints every error (and every warning, "warning: path: message") of the file in one run.
 */
import { constants as osConstants } from 'node:os';
import { Command, CommanderError, Option } from 'commander';
import type { Logger } from 'pino';
import { VERSION } from '../config/defaults.js';
import { examineConfigFile, formatIssue, type ConfigReport } from '../config/load.js';
import type { Config, ListenSpec } from '../config/schema.js';
import { createLogger } from './log.js';
import { parsePingTarget, ping, pingTarget, pingVerdict, type PingTarget } from './ping.js';
import { registerMailboxCommands } from './mailbox-commands.js';
import { driftWarnings, mailboxDrift, readStoreMailboxes } from './mailbox-drift.js';
import { registerStoreCommands } from './store-commands.js';
import { registerStoreMigrateCommand } from './store-migrate-command.js';
import { registerHttpCommands } from './http-commands.js';
import { registerCallsCommand } from './calls-command.js';
import { registerCallerCommands } from './caller-commands.js';
import { registerDirectoryCommands } from './directory-command.js';
// serve-role.ts loads the SIP stack only when `serve` runs: `check` and `--help` need none of it.
import { checkWorkersOption, startServeRole, withWorkersOption, type ServeOptions, type Served } from './serve-role.js';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

function printErr(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The config, or undefined after printing every error and setting exit code 2. Warnings are the caller's. */
async function loadOrReport(file: string | undefined): Promise<Config | undefined> {
  return (await examineOrReport(file)).config;
}

/** examineConfigFile, with every error printed (and exit code 2) when there is no config. */
async function examineOrReport(file: string | undefined): Promise<ConfigReport> {
  const report = await examineConfigFile(file);
  if (!report.config) {
    for (const issue of report.errors) printErr(formatIssue(issue));
    process.exitCode = EXIT_USAGE;
  }
  return report;
}

const listenText = (l: ListenSpec): string => `${l.transport}:${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`;

function summary(config: Config): string {
  const s = config.services;
  const pilots = (name: string, numbers: string[]): string => `${name} ${numbers.length > 0 ? numbers.join(',') : 'off'}`;
  return [
    `sip ${config.sip.listen.map(listenText).join(' ')}`,
    `rtp ${config.rtp.address}:${config.rtp.portMin}-${config.rtp.portMax}`,
    `storage ${config.storage.dir}`,
    [pilots('voicemail', s.voicemail), pilots('attendant', s.attendant), pilots('echo', s.echo)].join(', '),
    config.pbx.length > 0 ? `pbx ${config.pbx.map((p) => p.name).join(',')}` : 'pbx none (calls from loopback only)',
    `${config.mailboxes.length} mailbox${config.mailboxes.length === 1 ? '' : 'es'}`,
  ].join('; ');
}

async function check(opts: { config: string }): Promise<void> {
  const { config, warnings } = await examineOrReport(opts.config);
  for (const warning of warnings) printErr(`warning: ${formatIssue(warning)}`);
  if (!config) return;
  process.stdout.write(`config OK: ${summary(config)}\n`);
  // With the store reachable: where the config's mailboxes and the store's differ (mailbox-drift.ts).
  const stored = await readStoreMailboxes(config);
  if (typeof stored === 'string') process.stdout.write(`mailboxes not compared with the store: ${stored}\n`);
  else for (const line of driftWarnings(mailboxDrift(config, stored), config.mailboxesFromConfig)) printErr(`warning: ${line}`);
}

async function pingCommand(opts: { config?: string; target?: string; timeoutMs: string }): Promise<void> {
  const timeoutMs = Number(opts.timeoutMs);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 60_000) {
    printErr(`vmpilot: ping: --timeout-ms must be a whole number of ms from 100 to 60000, got "${opts.timeoutMs}"`);
    process.exitCode = EXIT_USAGE;
    return;
  }
  let target: PingTarget | string;
  if (opts.target !== undefined) {
    target = parsePingTarget(opts.target);
  } else {
    const config = await loadOrReport(opts.config);
    if (!config) return;
    target = pingTarget(config.sip.listen);
  }
  if (typeof target === 'string') {
    printErr(`vmpilot: ping: ${target}`);
    process.exitCode = EXIT_USAGE;
    return;
  }
  const verdict = pingVerdict(await ping(target, timeoutMs), target);
  if (verdict.ok) process.stdout.write(`${verdict.line}\n`);
  else printErr(`vmpilot: ping: ${verdict.line}`);
  process.exitCode = verdict.ok ? EXIT_OK : EXIT_FAILED;
}

/** One line saying why the server could not start, without a stack trace. */
function startFailure(err: unknown): string {
  const e = err as (NodeJS.ErrnoException & { address?: string; port?: number }) | undefined;
  const where = e?.address !== undefined ? `${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port ?? ''}` : undefined;
  if (where !== undefined && e?.code === 'EADDRINUSE') return `${where} is already in use by another program`;
  if (where !== undefined && e?.code === 'EADDRNOTAVAIL') return `${where}: no such address on this machine`;
  if (where !== undefined && e?.code === 'EACCES') return `${where}: permission denied (ports below 1024 need privileges)`;
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}

function exitOnCrash(logger: Logger): void {
  // A bug that escapes every handler: record it as one JSON line, then exit so a supervisor restarts us.
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception; exiting');
    process.exit(EXIT_FAILED);
  });
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason }, 'unhandled promise rejection; exiting');
    process.exit(EXIT_FAILED);
  });
}

async function serve(opts: ServeOptions): Promise<void> {
  const workersIssue = checkWorkersOption(opts.workers);
  if (workersIssue !== undefined) {
    printErr(`vmpilot: ${workersIssue}`);
    process.exitCode = EXIT_USAGE;
    return;
  }
  const { config: loaded, warnings } = await examineOrReport(opts.config);
  if (!loaded) return;
  const config = withWorkersOption(loaded, opts.workers);

  // A worker's lines say which worker wrote them (they share the front door's stdout).
  const logger = opts.workerIndex === undefined ? createLogger(config.log.level) : createLogger(config.log.level).child({ worker: Number(opts.workerIndex) });
  exitOnCrash(logger);
  // Signals are caught before starting: the SIP port accepts connections before the rest of the server
  // (store thread, MWI, HTTP) is up, and a SIGTERM in that window (systemd stopping a unit that is still
  // starting) must still drain and exit 0, not kill the process mid-start.
  let server: Served | undefined;
  let stopRequested: NodeJS.Signals | undefined;
  let stopping = false;
  const drainAndExit = (signal: NodeJS.Signals, running: Served): void => {
    stopping = true;
    const deadlineMs = config.shutdown.drainSeconds * 1000;
    logger.info({ signal, deadlineMs }, 'shutting down: draining calls');
    running.drain(deadlineMs).then(
      () => process.exit(EXIT_OK),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(EXIT_FAILED);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping || stopRequested !== undefined) {
      // A second signal: the operator does not want to wait for calls to finish.
      logger.warn({ signal }, 'second signal; exiting now');
      process.exit(128 + osConstants.signals[signal]);
    }
    if (server === undefined) {
      logger.info({ signal }, 'signal while starting: shutting down once started');
      stopRequested = signal;
      return;
    }
    drainAndExit(signal, server);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // After the handlers: whoever sees this line may signal at once (the test does), and until process.on()
  // the default action of SIGTERM kills the process. A cluster's workers say where they listen in their own
  // "vmpilot listening" line; the summary and the config's warnings are the front door's to log, once.
  if (opts.workerIndex === undefined) {
    logger.info({ version: VERSION, config: opts.config ?? '(embedded defaults)', summary: summary(config) }, 'vmpilot starting');
    for (const w of warnings) logger.warn({ path: w.path, line: w.line }, `config: ${w.message}`);
  }
  try {
    server = await startServeRole(config, logger, opts);
  } catch (err) {
    logger.fatal({ err }, 'could not start');
    printErr(`vmpilot: cannot start: ${startFailure(err)}`);
    process.exit(EXIT_FAILED);
  }
  if (stopRequested !== undefined) drainAndExit(stopRequested, server);
}

function program(): Command {
  const cmd = new Command()
    .name('vmpilot')
    .description('Voicemail and auto-attendant server for SIP PBXs')
    .version(VERSION)
    // Throw instead of exiting, so that usage errors exit with 2 (commander's own default is 1).
    .exitOverride()
    .showHelpAfterError('(run "vmpilot --help" for usage)');
  cmd
    .command('serve')
    .description('run the server; with no --config, the embedded defaults (SIP udp+tcp 5060, RTP 20000-29999, ./data)')
    .option('-c, --config <file>', 'config file (YAML)')
    .option('-w, --workers <n>', 'run the 302 front door on sip.listen with N worker processes ("auto": one per core; cluster.workers)')
    // Internal: the front door starts each worker as `serve --workers N --worker-index I` (cluster/).
    .addOption(new Option('--worker-index <i>').hideHelp())
    .action(serve);
  cmd
    .command('check')
    .description('validate a config file and print every issue with its path')
    .requiredOption('-c, --config <file>', 'config file (YAML)')
    .action(check);
  cmd
    .command('ping')
    .description('ask the server on this host whether it takes calls (SIP OPTIONS): exit 0 on 200, 1 otherwise (503 while draining, no answer)')
    .option('-c, --config <file>', 'config file (YAML): ask its first listener (udp, else tcp, else tls)')
    .option('--target <uri>', 'ask this listener instead, e.g. sip:127.0.0.1:5060;transport=tcp')
    .option('--timeout-ms <ms>', 'how long to wait for the answer', '2000')
    .action(pingCommand);
  registerMailboxCommands(cmd, loadOrReport);
  registerStoreCommands(cmd, loadOrReport);
  registerStoreMigrateCommand(cmd, loadOrReport);
  registerHttpCommands(cmd);
  registerCallsCommand(cmd, loadOrReport);
  registerCallerCommands(cmd, loadOrReport);
  registerDirectoryCommands(cmd, loadOrReport);
  return cmd;
}

async function main(): Promise<void> {
  try {
    await program().parseAsync(process.argv);
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    // --help and --version "fail" with exit code 0; anything else is a usage error (commander printed it).
    process.exitCode = err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
}

main().catch((err: unknown) => {
  printErr(`vmpilot: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(EXIT_FAILED);
});
