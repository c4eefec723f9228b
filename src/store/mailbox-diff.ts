/**
 * Which fields of a mailbox a provisioning input would change, value by value: what provision() reports and
 * logs, what `vmpilot mailbox import --dry-run` lists, and what `vmpilot check` calls drift. Pure functions.
 */
import type { FieldChange, Mailbox, MailboxSpec } from './types.js';

/** The administrator-set fields compared, in the order they are reported. */
export const PROVISIONED_FIELDS = ['name', 'email', 'aliases', 'emailAttachAudio', 'hiddenFromDirectory', 'maxMessages', 'maxMinutes'] as const;
export type ProvisionedField = (typeof PROVISIONED_FIELDS)[number];

export type ProvisionedValues = Partial<Pick<Mailbox, ProvisionedField>>;

/**
 * The fields a spec sets. name, email and aliases always (absent email and aliases mean none: the config file
 * owns them whole); the others only when the spec gives them.
 */
export function specValues(spec: MailboxSpec): ProvisionedValues {
  const values: ProvisionedValues = { name: spec.name, email: spec.email, aliases: spec.aliases ?? [] };
  if (spec.emailAttachAudio !== undefined) values.emailAttachAudio = spec.emailAttachAudio;
  if (spec.hiddenFromDirectory !== undefined) values.hiddenFromDirectory = spec.hiddenFromDirectory;
  if (spec.maxMessages !== undefined) values.maxMessages = spec.maxMessages;
  if (spec.maxMinutes !== undefined) values.maxMinutes = spec.maxMinutes;
  return values;
}

/** Aliases compare as sets (the store keeps them sorted, a file may list them in any order). */
function normalized(field: ProvisionedField, value: unknown): unknown {
  if (field === 'aliases') return [...new Set(value as string[])].sort();
  if (field === 'email') return value === '' || value === null ? undefined : value;
  return value;
}

/** The fields of `wanted` (those present) whose value differs from `current`'s. */
export function changedFields(current: Mailbox, wanted: ProvisionedValues): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const field of PROVISIONED_FIELDS) {
    if (!Object.hasOwn(wanted, field)) continue;
    const from = normalized(field, current[field]);
    const to = normalized(field, wanted[field]);
    if (JSON.stringify(from) !== JSON.stringify(to)) changes.push({ field, from, to });
  }
  return changes;
}

/** "name: "A" → "B", aliases: [] → ["+4687"]": a report line's tail. */
export function describeChanges(changes: readonly FieldChange[]): string {
  const text = (v: unknown): string => (v === undefined ? '(none)' : JSON.stringify(v));
  return changes.map((c) => `${c.field}: ${text(c.from)} → ${text(c.to)}`).join(', ');
}
