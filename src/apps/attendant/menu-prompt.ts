/**
 * The stock menu prompt, `attendant_menu`, said as what the menu it is in allows. Its en-US recording says
 * "If you know the extension of the person you wish to reach, please enter it now. For the operator, press
 * zero.", which is true of one menu only; in a menu's greeting it becomes:
 *   - "If you know the extension ..., please enter it now." (attendant_dial_extension) when dialExtensions;
 *   - "For the operator, press <key>" (opt_operator, press, the key) for the first key bound to the operator;
 *   - nothing for what the menu does not allow.
 * A voice without those parts (a language recorded before they existed) says its whole recording when the
 * menu allows all of it (extensions, and the operator on 0), else nothing: a shorter menu beats a false one.
 *
 * Other stock prompts that promise something (enter_extension...) are said as written; `vmpilot check` warns
 * when a greeting uses one in a menu that cannot keep the promise (config/warnings.ts).
 */
import type { CallPlayItem } from '../../call/call.js';
import { MENU_KEYS, type MenuConfig } from '../../config/attendant-schema.js';
import { pressKey, said } from './prompts.js';
import type { Voice } from './voice.js';

export const MENU_PROMPT = 'attendant_menu';

/** The key that reaches the operator in this menu, if any (in keypad order). */
export function operatorKey(menu: Pick<MenuConfig, 'keys'>): string | undefined {
  return MENU_KEYS.find((k) => menu.keys[k]?.kind === 'operator');
}

/** `attendant_menu` as play items for this menu (see the module comment). */
export function menuPromptItems(menu: Pick<MenuConfig, 'keys' | 'dialExtensions'>, voice: Voice): CallPlayItem[] {
  const operator = operatorKey(menu);
  if (!voice.has('attendant_dial_extension') || !voice.has('opt_operator')) {
    return menu.dialExtensions && operator === '0' && voice.has(MENU_PROMPT) ? [voice.item(MENU_PROMPT)] : [];
  }
  return [...(menu.dialExtensions ? said(voice, 'dialExtension') : []), ...(operator !== undefined ? [...said(voice, 'optOperator'), ...pressKey(voice, operator)] : [])];
}
