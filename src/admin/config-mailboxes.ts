/**
 * The config file's mailboxes as the store sees them, and which of a mailbox's fields the config owns.
 *
 * How YAML and the store coexist (README, "Mailboxes: config file and store"): the config's mailboxes are
 * created when missing and their config-owned fields are applied again at every start (and before every
 * store command of the CLI); everything else (PIN, greetings, messages, fields the entry does not write,
 * mailboxes that only the CLI, the API or an import created) is the store's. A field the config owns is
 * changed in the config, not with `mailbox set` (which would be undone at the next start): the CLI refuses it.
 */
import type { Logger } from 'pino';
import type { Config, MailboxConfig } from '../config/schema.js';
import { describeChanges } from '../store/mailbox-diff.js';
import type { Mailbox, MailboxSpec, MessageStore, ProvisionReport } from '../store/types.js';

/** The config's mailboxes as provisioning specs (store.provision). */
export function specsFromConfig(config: Pick<Config, 'mailboxes'>): MailboxSpec[] {
  return config.mailboxes.map(specFromConfig);
}

function specFromConfig(m: MailboxConfig): MailboxSpec {
  return {
    number: m.number,
    name: m.name,
    pin: m.pin,
    email: m.email,
    aliases: m.aliases,
    hiddenFromDirectory: m.hideFromDirectory,
    ...(m.attachAudio !== undefined ? { emailAttachAudio: m.attachAudio } : {}),
    ...(m.maxMessages !== undefined ? { maxMessages: m.maxMessages } : {}),
    ...(m.maxMinutes !== undefined ? { maxMinutes: m.maxMinutes } : {}),
  };
}

/** The mailbox fields a config entry owns, with the key that sets each (for messages: mailboxes[i].KEY). */
export function ownedFields(m: MailboxConfig): Map<keyof Mailbox, string> {
  const owned = new Map<keyof Mailbox, string>([
    // Always: absent from the entry means "none" (no email, no aliases, listed in the directory).
    ['name', 'name'],
    ['email', 'email'],
    ['aliases', 'aliases'],
    ['hiddenFromDirectory', 'hideFromDirectory'],
  ]);
  // Only when written: otherwise the store's value stands.
  if (m.attachAudio !== undefined) owned.set('emailAttachAudio', 'attachAudio');
  if (m.maxMessages !== undefined) owned.set('maxMessages', 'maxMessages');
  if (m.maxMinutes !== undefined) owned.set('maxMinutes', 'maxMinutes');
  return owned;
}

/** The config's entry for this mailbox number, with its index (for messages), if the config has one. */
export function configEntry(config: Pick<Config, 'mailboxes'>, number: string): { index: number; entry: MailboxConfig } | undefined {
  const index = config.mailboxes.findIndex((m) => m.number === number);
  return index < 0 ? undefined : { index, entry: config.mailboxes[index]! };
}

/**
 * Provisions the config's mailboxes into the store and logs what that changed (one line per mailbox), and how
 * many mailboxes only the store has (kept; `vmpilot check` lists them, `mailbox prune` may delete them).
 */
export async function provisionFromConfig(
  store: Pick<MessageStore, 'provision' | 'listMailboxes'>,
  config: Pick<Config, 'mailboxes' | 'mailboxesFromConfig'>,
  logger: Logger,
): Promise<ProvisionReport> {
  const report = await store.provision(specsFromConfig(config));
  const configured = new Set(config.mailboxes.map((m) => m.number));
  const onlyInStore = (await store.listMailboxes()).filter((m) => !configured.has(m.number)).map((m) => m.number);
  if (onlyInStore.length > 0) {
    const authoritative = config.mailboxesFromConfig === 'authoritative';
    logger[authoritative ? 'warn' : 'info'](
      { count: onlyInStore.length, mailboxes: onlyInStore.slice(0, 20) },
      authoritative
        ? `${onlyInStore.length} mailbox(es) in the store are not in the config file: vmpilot mailbox prune --yes deletes them`
        : `${onlyInStore.length} mailbox(es) in the store are not in the config file (kept: mailboxesFromConfig is seed)`,
    );
  }
  if (report.created.length > 0) logger.info({ mailboxes: report.created }, `config: ${report.created.length} mailbox(es) created`);
  for (const { number, changes } of report.updated) {
    logger.info({ mailbox: number, changes }, `config: mailbox ${number} updated from the config file: ${describeChanges(changes)}`);
  }
  return report;
}
