/**
 * Moving and mirroring whole stores (issue 10; DESIGN.md, "the operator's contract"):
 *   vmpilot store copy --from URL --to URL [--force]     copy everything, then verify counts and audio sha256
 *   vmpilot mirror --to URL [--sweep-s 60]               keep a standby identical to the config's store
 *   vmpilot mirror verify --to URL                       compare the config's store and the standby
 *   vmpilot mirror restore --from URL [--force]          copy a standby back into a rebuilt (empty) store
 * URL: `sqlite:/dir` or a plain directory (a SQLite storage dir), or `postgres://...` (replica/location.ts).
 * Each takes --config FILE: the primary is the config's store (storage.url, else storage.dir).
 *
 * Copy and restore refuse a target that holds mailboxes or messages unless --force (then the target is made
 * identical to the source: its extra content is removed). Progress goes to stderr (a bar on a terminal),
 * results to stdout.
 *
 * Exit codes as in cli.ts: 0 done and identical; 1 a difference after the copy, a store that cannot be opened,
 * a refused target; 2 bad command line or config. The mirror runs until SIGTERM/SIGINT, then exits 0.
 *
 * Not here: what is copied and how (store/replica/).
 */
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import { storeLayout } from '../store/layout.js';
import { compareStores, type Comparison } from '../store/replica/compare.js';
import { describeLocation, openLocation, parseStoreLocation, sameLocation, type OpenedStore, type OpenLocationOptions, type StoreLocation } from '../store/replica/location.js';
import { Mirror } from '../store/replica/mirror.js';
import { reconcile, type ReconcileResult } from '../store/replica/reconcile.js';
import { createLogger } from './log.js';
import type { ConfigLoader } from './mailbox-commands.js';
import { progress } from './progress.js';

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
/** Differences printed one by one; the rest are counted. */
const DIFFERENCES_SHOWN = 50;

/** A request that cannot be done, said in one line (exit 1); `usage`: a bad command line (exit 2). */
class CommandError extends Error {
  constructor(
    message: string,
    readonly usage = false,
  ) {
    super(message);
  }
}

const out = (line: string): void => void process.stdout.write(`${line}\n`);

function location(text: string, option: string): StoreLocation {
  const parsed = parseStoreLocation(text);
  if (typeof parsed === 'string') throw new CommandError(`${option}: ${parsed}`, true);
  return parsed;
}

/** The config's own store (the mirror's primary): storage.url when set, else storage.dir. */
const configLocation = (config: Config): StoreLocation =>
  config.storage.url !== undefined ? { kind: 'postgres', url: config.storage.url } : { kind: 'sqlite', dir: resolve(config.storage.dir) };

/** Opens a store that must already exist (a source): an absent SQLite dir is an error, not a new empty store. */
async function openExisting(where: StoreLocation, opts: OpenLocationOptions = {}): Promise<OpenedStore> {
  if (where.kind === 'sqlite') {
    try {
      await access(storeLayout(where.dir).dbFile);
    } catch {
      throw new CommandError(`no store at ${describeLocation(where)} (no ${storeLayout(where.dir).dbFile})`);
    }
  }
  return open(where, opts);
}

async function open(where: StoreLocation, opts: OpenLocationOptions = {}): Promise<OpenedStore> {
  try {
    return await openLocation(where, opts);
  } catch (err) {
    if (err instanceof CommandError) throw err;
    throw new CommandError(`cannot open ${describeLocation(where)}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Runs a command body; its CommandErrors become one line on stderr and an exit code. */
async function guarded(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (!(err instanceof CommandError)) throw err;
    process.stderr.write(`vmpilot: ${err.message}\n`);
    process.exitCode = err.usage ? EXIT_USAGE : EXIT_FAILED;
  }
}

const megabytes = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

function copiedLine(r: ReconcileResult, ms: number): string {
  return (
    `copied ${r.mailboxesPut} mailboxes, ${r.messagesCopied} messages, ${r.greetingsPut} greetings (${megabytes(r.bytes)} of audio)` +
    (r.messagesUpdated + r.messagesRemoved + r.mailboxesRemoved + r.greetingsRemoved > 0
      ? `; updated ${r.messagesUpdated} messages, removed ${r.messagesRemoved} messages, ${r.mailboxesRemoved} mailboxes, ${r.greetingsRemoved} greetings`
      : '') +
    ` in ${(ms / 1000).toFixed(1)} s`
  );
}

/** Prints a comparison; true when the two stores are identical. */
function printComparison(c: Comparison, names: [string, string]): boolean {
  const { a, b } = c.counts;
  const pair = (what: string, x: number, y: number): string => `${what} ${x}${x === y ? '' : ` / ${y}`}`;
  out(
    `${names[0]} / ${names[1]}: ` +
      [
        pair('mailboxes', a.mailboxes, b.mailboxes),
        pair('messages', a.messages, b.messages),
        pair('greetings', a.greetings, b.greetings),
        pair('subscriptions', a.subscriptions, b.subscriptions),
        pair('audio bytes', a.audioBytes, b.audioBytes),
      ].join(', '),
  );
  for (const d of c.differences.slice(0, DIFFERENCES_SHOWN)) out(`  ${d.what} ${d.key}: ${d.detail}`);
  if (c.differences.length > DIFFERENCES_SHOWN) out(`  ... and ${c.differences.length - DIFFERENCES_SHOWN} more`);
  out(c.differences.length === 0 ? 'verified: identical (rows and audio sha256)' : `${c.differences.length} difference(s)`);
  return c.differences.length === 0;
}

async function verify(source: OpenedStore, target: OpenedStore, names: [string, string]): Promise<boolean> {
  const bar = progress('verifying audio');
  const comparison = await compareStores(source.replica, target.replica, { names, onProgress: (d, t) => bar.update(d, t) });
  bar.end();
  return printComparison(comparison, names);
}

/** copy and restore: source into target (empty unless force), with progress, then verified. */
async function copyInto(from: StoreLocation, to: StoreLocation, force: boolean, names: [string, string]): Promise<void> {
  if (sameLocation(from, to)) throw new CommandError('the source and the target are the same store', true);
  const source = await openExisting(from);
  let target: OpenedStore | undefined;
  try {
    target = await open(to);
    const [boxes, messages] = await Promise.all([target.replica.mailboxes(), target.replica.messages()]);
    if (!force && (boxes.length > 0 || messages.length > 0)) {
      throw new CommandError(
        `${describeLocation(to)} is not empty (${boxes.length} mailboxes, ${messages.length} messages); --force makes it identical to ${describeLocation(from)}`,
      );
    }
    out(`copying ${describeLocation(from)} -> ${describeLocation(to)}`);
    const bar = progress('copying messages');
    const started = Date.now();
    const result = await reconcile(source.replica, target.replica, { subscriptions: true, onProgress: (d, t) => bar.update(d, t) });
    bar.end();
    out(copiedLine(result, Date.now() - started));
    if (!(await verify(source, target, names))) process.exitCode = EXIT_FAILED;
  } finally {
    await target?.close();
    await source.close();
  }
}

async function storeCopy(opts: { from: string; to: string; force?: boolean }): Promise<void> {
  await guarded(() => copyInto(location(opts.from, '--from'), location(opts.to, '--to'), opts.force === true, ['source', 'target']));
}

async function mirrorRestore(load: ConfigLoader, opts: { from: string; config?: string; force?: boolean }): Promise<void> {
  const config = await load(opts.config);
  if (!config) return;
  await guarded(() => copyInto(location(opts.from, '--from'), configLocation(config), opts.force === true, ['standby', 'primary']));
}

async function mirrorVerify(load: ConfigLoader, opts: { to: string; config?: string }): Promise<void> {
  const config = await load(opts.config);
  if (!config) return;
  await guarded(async () => {
    const primary = await openExisting(configLocation(config));
    try {
      const standby = await openExisting(location(opts.to, '--to'));
      try {
        if (!(await verify(primary, standby, ['primary', 'standby']))) process.exitCode = EXIT_FAILED;
      } finally {
        await standby.close();
      }
    } finally {
      await primary.close();
    }
  });
}

async function mirrorRun(load: ConfigLoader, opts: { to: string; config?: string; sweepS: string }): Promise<void> {
  const config = await load(opts.config);
  if (!config) return;
  await guarded(async () => {
    const sweepS = Number(opts.sweepS);
    if (!Number.isFinite(sweepS) || sweepS < 1 || sweepS > 86_400) throw new CommandError(`--sweep-s must be 1 to 86400 seconds, got "${opts.sweepS}"`, true);
    const standbyAt = location(opts.to, '--to');
    const primaryAt = configLocation(config);
    if (sameLocation(primaryAt, standbyAt)) throw new CommandError('the standby is the primary itself', true);
    const logger = createLogger(config.log.level).child({ role: 'mirror' });
    const primary = await openExisting(primaryAt, { logger, watchChanges: true });
    const mirror = new Mirror({
      primary: { events: primary.events, replica: primary.replica },
      openStandby: async () => (await openLocation(standbyAt, { logger })).replica,
      logger,
      sweepMs: sweepS * 1000,
    });
    logger.info({ primary: describeLocation(primaryAt), standby: describeLocation(standbyAt), sweepS }, 'mirror starting');
    mirror.start();
    await new Promise<void>((resolve) => {
      const stop = (signal: NodeJS.Signals): void => {
        logger.info({ signal, ...mirror.status() }, 'mirror stopping');
        resolve();
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    await mirror.stop();
    await primary.close();
  });
}

export function registerStoreCommands(cmd: Command, load: ConfigLoader): void {
  const store = cmd.command('store').description('the message store as a whole');
  store
    .command('copy')
    .description('copy a whole store (mailboxes, messages, greetings, subscriptions) into an empty one, then verify rows and audio sha256')
    .requiredOption('--from <url>', 'the source: sqlite:/dir, a directory, or postgres://...')
    .requiredOption('--to <url>', 'the target: sqlite:/dir, a directory, or postgres://...')
    .option('--force', 'copy into a store that is not empty (it is made identical to the source)')
    .option('-c, --config <file>', 'config file (YAML); not needed: both stores are on the command line')
    .action(storeCopy);
  const mirror = cmd.command('mirror').description("the standby store: keep it identical (mirror --to), verify it, restore from it");
  // `vmpilot mirror --to URL` runs the default subcommand: `mirror` itself takes no options, so `verify --to` and
  // `restore --from` are not taken for its own.
  mirror
    .command('run', { isDefault: true })
    .description("keep a standby store identical to the config's store (events, a periodic sweep, catch-up after outages)")
    .requiredOption('--to <url>', 'the standby: sqlite:/dir, a directory, or postgres://...')
    .option('-c, --config <file>', 'config file (YAML): its store is the primary')
    .option('--sweep-s <s>', 'whole-store sweep period, seconds', '60')
    .action((opts: { to: string; config?: string; sweepS: string }) => mirrorRun(load, opts));
  mirror
    .command('verify')
    .description("compare the config's store and the standby (rows and audio sha256); exit 1 on any difference")
    .requiredOption('--to <url>', 'the standby')
    .option('-c, --config <file>', 'config file (YAML): its store is the primary')
    .action((opts: { to: string; config?: string }) => mirrorVerify(load, opts));
  mirror
    .command('restore')
    .description("copy the standby back into the config's store, rebuilt empty after a disaster, then verify")
    .requiredOption('--from <url>', 'the standby')
    .option('-c, --config <file>', 'config file (YAML): its store is restored')
    .option('--force', 'restore into a store that is not empty (it is made identical to the standby)')
    .action((opts: { from: string; config?: string; force?: boolean }) => mirrorRestore(load, opts));
}
