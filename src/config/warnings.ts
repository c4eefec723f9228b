/**
 * Config warnings: what works but is probably not what was meant. `vmpilot check` prints them and exits 0;
 * `serve` logs them at start. Paths from the top of the file, as for errors.
 *
 * - an initial PIN that is easy to guess (store/pin.ts: accepted, since the owner must replace it at first
 *   login, but anyone who knows it can log in first).
 */
import { weakInitialPinWarning } from '../store/pin.js';
import type { AttendantConfig } from './attendant-schema.js';
import type { MailboxConfig } from './schema.js';

export interface ConfigWarning {
  path: (string | number)[];
  message: string;
}

/** What the warnings look at: the entries that parsed, by their index in the file (undefined: did not parse). */
export interface WarningView {
  mailboxes: readonly (Pick<MailboxConfig, 'number' | 'pin'> | undefined)[];
  attendants: readonly (AttendantConfig | undefined)[];
}

export function configWarnings(view: WarningView): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  view.mailboxes.forEach((m, i) => {
    const weak = m && weakInitialPinWarning(m.pin, m.number);
    if (weak !== undefined) warnings.push({ path: ['mailboxes', i, 'pin'], message: weak });
  });
  return warnings;
}
