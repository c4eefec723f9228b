/**
 * What every store command of `vmpilot` shares (mailbox-commands.ts, mailbox-edit-commands.ts,
 * mailbox-import-command.ts): the config loaded, the store opened with the config's mailboxes provisioned,
 * requests that cannot be done reported in one line with exit code 1 (2 for a bad command line), and the checks of numbers and initial
 * PINs that every command applies the same way.
 */
import type { Command } from 'commander';
import { DIAL_STRING } from '../config/fields.js';
import type { Config } from '../config/schema.js';
import type { MessageStore } from '../store/types.js';
import { specsFromConfig } from './config-mailboxes.js';
import { NumberInUseError } from '../store/errors.js';
import { describeChanges } from '../store/mailbox-diff.js';
import { pinFormatProblem, weakInitialPinWarning } from '../store/pin.js';
import { openConfiguredStore } from '../store/open.js';
import { NoSuchMailboxError } from '../store/types.js';

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

/** Loads the config (undefined: the issues were printed and the exit code set), as cli.ts does for serve/check. */
export type ConfigLoader = (file: string | undefined) => Promise<Config | undefined>;

/** A request that cannot be done, said in one line (exit 1). */
export class UserError extends Error {}

/** A command line naming something the command cannot take (a device as the file to import), said in one line (exit 2). */
export class UsageError extends UserError {}

export interface ConfigOption {
  config?: string;
}

export const out = (text: string): void => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);

/** Opens the store the config names, with the config's mailboxes provisioned. */
async function openStore(config: Config): Promise<MessageStore> {
  let store: MessageStore;
  try {
    // SQLite or PostgreSQL (storage.url); loaded on demand, so `check` and `--help` need neither.
    store = await openConfiguredStore(config);
  } catch (err) {
    const where = config.storage.url !== undefined ? '' : ` in ${config.storage.dir}`;
    throw new UserError(`cannot open the store${where}: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    // As `serve` does at start; a change to an existing mailbox is said (creations show in `mailbox list`).
    const report = await store.provision(specsFromConfig(config));
    for (const { number, changes } of report.updated) {
      process.stderr.write(`vmpilot: config: mailbox ${number} updated from the config file: ${describeChanges(changes)}\n`);
    }
  } catch (err) {
    await store.close();
    throw new UserError(`cannot provision the config's mailboxes: ${err instanceof Error ? err.message : String(err)}`);
  }
  return store;
}

/** Runs a command against the store: loads the config, opens the store, reports user errors as exit 1. */
export function withStore<A extends unknown[]>(load: ConfigLoader, run: (store: MessageStore, config: Config, ...args: A) => Promise<void>) {
  return async (...args: [...A, ConfigOption, Command]): Promise<void> => {
    const opts = args[args.length - 2] as ConfigOption;
    const config = await load(opts.config);
    if (!config) return;
    let store: MessageStore | undefined;
    try {
      store = await openStore(config);
      await run(store, config, ...(args.slice(0, -1) as A));
    } catch (err) {
      if (!(err instanceof UserError || err instanceof NoSuchMailboxError || err instanceof NumberInUseError)) throw err;
      process.stderr.write(`vmpilot: ${err.message}\n`);
      process.exitCode = err instanceof UsageError ? EXIT_USAGE : EXIT_FAILED;
    } finally {
      await store?.close();
    }
  };
}

export function checkNumber(number: string): void {
  if (!DIAL_STRING.test(number)) throw new UserError(`"${number}" is not a mailbox number (digits, * and #, optionally after +)`);
}

/**
 * An initial PIN (add, set-pin: the owner must replace it at the next login), by the policy the config's
 * mailboxes[].pin follows too (store/pin.ts): refused unless it is a PIN; accepted with a warning when easy to
 * guess.
 */
export function checkInitialPin(pin: string, number: string): void {
  const problem = pinFormatProblem(pin);
  if (problem !== undefined) throw new UserError(`PIN refused: ${problem}`);
  const weak = weakInitialPinWarning(pin, number);
  if (weak !== undefined) process.stderr.write(`vmpilot: warning: ${weak}\n`);
}

/** The service whose pilot number this is, if any (a mailbox may not take a pilot's number). */
export function pilotOwning(config: Config, number: string): string | undefined {
  const services = config.services;
  for (const name of ['voicemail', 'attendant', 'echo'] as const) if (services[name].includes(number)) return name;
  return undefined;
}

