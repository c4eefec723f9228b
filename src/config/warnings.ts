/**
 * Config warnings: what works but is probably not what was meant. `vmpilot check` prints them and exits 0;
 * `serve` logs them at start. Paths from the top of the file, as for errors.
 *
 * - an initial PIN that is easy to guess (store/pin.ts: accepted, since the owner must replace it at first
 *   login, but anyone who knows it can log in first);
 * - a menu greeting with a stock prompt that promises what the menu cannot do ("please enter the extension"
 *   in a menu that takes no extensions). The stock menu prompt, attendant_menu, is said as what its menu
 *   allows (apps/attendant/menu-prompt.ts), so it never does; recorded files cannot be read for promises.
 */
import { weakInitialPinWarning } from '../store/pin.js';
import type { AttendantConfig, MenuConfig } from './attendant-schema.js';
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

/** Stock prompts that promise the caller something, and whether a menu can keep the promise. */
const DIALS: Promised = { says: 'asks the caller to dial an extension', kept: (m) => m.dialExtensions, fix: 'set dialExtensions: true' };
const PROMISES = new Map<string, Promised>([
  ['attendant_dial_extension', DIALS],
  ['enter_extension', DIALS],
  ['opt_operator', { says: 'offers the operator', kept: (m) => Object.values(m.keys).some((a) => a?.kind === 'operator'), fix: 'bind a key to operator' }],
]);

interface Promised {
  says: string;
  kept(menu: MenuConfig): boolean;
  fix: string;
}

export function configWarnings(view: WarningView): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  view.mailboxes.forEach((m, i) => {
    const weak = m && weakInitialPinWarning(m.pin, m.number);
    if (weak !== undefined) warnings.push({ path: ['mailboxes', i, 'pin'], message: weak });
  });
  view.attendants.forEach((a, i) => {
    for (const [name, menu] of Object.entries(a?.menus ?? {})) {
      menu.greeting.forEach((g, j) => {
        for (const item of 'slot' in g ? g.otherwise : [g]) {
          const promise = 'prompt' in item ? PROMISES.get(item.prompt) : undefined;
          if (!promise || !('prompt' in item) || promise.kept(menu)) continue;
          const message = `"${item.prompt}" ${promise.says}, which menu "${name}" does not allow (${promise.fix}, or say something else)`;
          warnings.push({ path: ['attendants', i, 'menus', name, 'greeting', j], message });
        }
      });
    }
  });
  return warnings;
}
