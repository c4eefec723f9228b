/**
 * `vmpilot mailbox set NUMBER --FIELD VALUE...`: every mailbox field an administrator changes, in one command.
 * Each value is checked with the config's schemas (mailbox-values.ts); every problem is reported (exit 1) and
 * then nothing is changed. A field the config file owns for this mailbox (config-mailboxes.ts) is refused
 * with the key to edit instead: a change here would be undone at the next start.
 *
 * Order of the changes: the fields (one transaction), then the PIN, then the number, which is checked free
 * beforehand so that it normally cannot fail after the rest was applied.
 */
import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import type { MessageStore } from '../store/types.js';
import { changedFields, describeChanges, PROVISIONED_FIELDS, type ProvisionedValues } from '../store/mailbox-diff.js';
import { weakInitialPinWarning } from '../store/pin.js';
import { NoSuchMailboxError, type Mailbox } from '../store/types.js';
import { configEntry, ownedFields } from './config-mailboxes.js';
import { checkAliases, checkEmail, checkName, checkNumberText, checkOnOff, checkPin, checkQuota, type Checked } from './mailbox-values.js';
import { out, pilotOwning, UserError, withStore, type ConfigLoader } from './with-store.js';

export interface SetOptions {
  name?: string;
  /** false: --no-email. */
  email?: string | false;
  aliases?: string;
  addAlias: string[];
  removeAlias: string[];
  attachAudio?: string;
  maxMessages?: string;
  maxMinutes?: string;
  hidden?: string;
  number?: string;
  pin?: string;
}

type Patch = Partial<Pick<Mailbox, 'name' | 'email' | 'aliases' | 'emailAttachAudio' | 'hiddenFromDirectory' | 'maxMessages' | 'maxMinutes'>>;

/** What the options ask for, with every problem found (none applied yet). */
interface Plan {
  patch: Patch;
  /** The option that set each field (for messages). */
  optionOf: Map<keyof Patch, string>;
  pin?: string;
  number?: string;
  problems: string[];
}

function plan(before: Mailbox, opts: SetOptions): Plan {
  const p: Plan = { patch: {}, optionOf: new Map(), problems: [] };
  const take = <K extends keyof Patch>(option: string, field: K, r: Checked<NonNullable<Patch[K]>>): void => {
    if (!r.ok) {
      p.problems.push(`${option}: ${r.message}`);
      return;
    }
    p.patch[field] = r.value;
    p.optionOf.set(field, option);
  };
  if (opts.name !== undefined) take('--name', 'name', checkName(opts.name));
  if (opts.email === false) {
    p.patch.email = undefined;
    p.optionOf.set('email', '--no-email');
  } else if (opts.email !== undefined) take('--email', 'email', checkEmail(opts.email));
  if (opts.attachAudio !== undefined) take('--attach-audio', 'emailAttachAudio', checkOnOff(opts.attachAudio));
  if (opts.hidden !== undefined) take('--hidden', 'hiddenFromDirectory', checkOnOff(opts.hidden));
  if (opts.maxMessages !== undefined) take('--max-messages', 'maxMessages', checkQuota(opts.maxMessages, 'maxMessages'));
  if (opts.maxMinutes !== undefined) take('--max-minutes', 'maxMinutes', checkQuota(opts.maxMinutes, 'maxMinutes'));
  planAliases(p, before, opts);
  if (opts.pin !== undefined) {
    const pin = checkPin(opts.pin);
    if (pin.ok) p.pin = pin.value;
    else p.problems.push(`--pin: ${pin.message}`);
  }
  if (opts.number !== undefined) {
    const number = checkNumberText(opts.number);
    if (number.ok) p.number = number.value;
    else p.problems.push(`--number: ${number.message}`);
  }
  return p;
}

/** --aliases replaces the list; --add-alias and --remove-alias then change it. */
function planAliases(p: Plan, before: Mailbox, opts: SetOptions): void {
  if (opts.aliases === undefined && opts.addAlias.length === 0 && opts.removeAlias.length === 0) return;
  let aliases = before.aliases;
  const options: string[] = [];
  if (opts.aliases !== undefined) {
    options.push('--aliases');
    const list = checkAliases(opts.aliases, ',');
    if (!list.ok) p.problems.push(`--aliases: ${list.message}`);
    else aliases = list.value;
  }
  for (const text of opts.addAlias) {
    options.push('--add-alias');
    const alias = checkNumberText(text);
    if (!alias.ok) p.problems.push(`--add-alias: ${alias.message}`);
    else if (!aliases.includes(alias.value)) aliases = [...aliases, alias.value];
  }
  for (const text of opts.removeAlias) {
    options.push('--remove-alias');
    if (!aliases.includes(text.trim())) p.problems.push(`--remove-alias: ${text} is not an alias of mailbox ${before.number}`);
    aliases = aliases.filter((a) => a !== text.trim());
  }
  p.patch.aliases = aliases;
  p.optionOf.set('aliases', [...new Set(options)].join('/'));
}

/** Problems only the store and the config can tell: numbers taken, pilots, fields the config owns. */
async function checkAgainst(p: Plan, before: Mailbox, store: MessageStore, config: Config): Promise<void> {
  const newNumbers = [...(p.number !== undefined && p.number !== before.number ? [['--number', p.number]] : []), ...(p.patch.aliases ?? []).map((a) => ['alias', a])];
  for (const [what, number] of newNumbers as [string, string][]) {
    const pilot = pilotOwning(config, number);
    if (pilot !== undefined) p.problems.push(`${what}: ${number} is the ${pilot} pilot number`);
    const owner = await store.findMailbox(number);
    if (owner && owner.number !== before.number) {
      p.problems.push(`${what}: ${number} is already ${owner.number === number ? 'a mailbox' : `an alias of mailbox ${owner.number}`}`);
    }
  }
  if (p.number !== undefined && p.patch.aliases?.includes(p.number)) p.problems.push(`--number: ${p.number} would also stay an alias`);
  const inConfig = configEntry(config, before.number);
  if (!inConfig) return;
  const owned = ownedFields(inConfig.entry);
  const at = `mailboxes[${inConfig.index}]`;
  for (const [field, option] of p.optionOf) {
    const key = owned.get(field);
    if (key !== undefined) p.problems.push(`${option}: mailbox ${before.number}'s ${key} is set by the config file (${at}.${key}): change it there`);
  }
  if (p.number !== undefined && p.number !== before.number) p.problems.push(`--number: mailbox ${before.number} is in the config file (${at}.number): renumber it there`);
}

const valuesOf = (m: Mailbox): ProvisionedValues => Object.fromEntries(PROVISIONED_FIELDS.map((f) => [f, m[f]]));

async function setMailbox(store: MessageStore, config: Config, number: string, opts: SetOptions): Promise<void> {
  const before = await store.findMailbox(number);
  if (!before) throw new NoSuchMailboxError(number);
  const p = plan(before, opts);
  if (Object.keys(p.patch).length === 0 && p.pin === undefined && p.number === undefined && p.problems.length === 0) {
    throw new UserError('nothing to change: give at least one option (vmpilot mailbox set --help)');
  }
  await checkAgainst(p, before, store, config);
  if (p.problems.length > 0) throw new UserError(`mailbox ${before.number} not changed:\n${p.problems.map((l) => `  ${l}`).join('\n')}`);

  const lines: string[] = [];
  let after = Object.keys(p.patch).length > 0 ? await store.updateMailbox(before.number, p.patch) : before;
  const changes = changedFields(before, valuesOf(after));
  if (changes.length > 0) lines.push(`mailbox ${before.number} changed: ${describeChanges(changes)}`);
  if (p.pin !== undefined) {
    const weak = weakInitialPinWarning(p.pin, p.number ?? before.number);
    if (weak !== undefined) process.stderr.write(`vmpilot: warning: ${weak}\n`);
    await store.setPin(before.number, p.pin);
    // An administrator knows this PIN: the owner replaces it at the next login (as `mailbox set-pin`).
    after = await store.updateMailbox(before.number, { mustChangePin: true, locked: false, failedLogins: 0 });
    lines.push(`mailbox ${before.number}: PIN set; the owner sets a new one at the next login`);
  }
  if (p.number !== undefined && p.number !== before.number) {
    after = await store.renumberMailbox(before.number, p.number);
    lines.push(`mailbox ${before.number} is now ${after.number} (its messages and greetings moved with it)`);
  }
  out(lines.length > 0 ? lines.join('\n') : `mailbox ${before.number} unchanged (it already had these values)`);
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Adds `mailbox set` to the `mailbox` command. */
export function registerMailboxSet(mailbox: Command, load: ConfigLoader, configOption: readonly [string, string]): void {
  mailbox
    .command('set')
    .description("change a mailbox's fields (those the config file sets for it are changed there)")
    .argument('<number>', 'mailbox number or alias')
    .option('--name <name>', "owner's name")
    .option('--email <addr>', 'where new-message notifications go')
    .option('--no-email', 'no notification emails')
    .option('--aliases <list>', 'the aliases, comma-separated (replaces them; "" for none)')
    .option('--add-alias <number>', 'add an alias (repeatable)', collect, [])
    .option('--remove-alias <number>', 'remove an alias (repeatable)', collect, [])
    .option('--attach-audio <on|off>', "attach the message's WAV to notification emails")
    .option('--max-messages <n>', 'most messages kept (0: the site default, voicemail.maxMessages)')
    .option('--max-minutes <n>', 'most minutes of messages kept (0: the site default, voicemail.maxMinutes)')
    .option('--hidden <on|off>', "leave out of the attendant's dial-by-name directory")
    .option('--number <new>', 'give the mailbox a new number; its messages and greetings follow')
    .option('--pin <pin>', 'reset the PIN (4 to 16 digits); the owner sets a new one at the next login; also unlocks')
    .option(...configOption)
    .action(withStore(load, setMailbox));
}
