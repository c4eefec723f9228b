/**
 * Runs one menu, the small state machine of issue 5:
 *
 *   say the greeting (a key stops it; keys typed ahead skip it) ─► wait timeoutMs for a key
 *     key bound in `keys`  ─► that action ('repeat': say the menu again, not counted as a failure)
 *     a digit, dialExtensions ─► collect the rest (interDigitMs, '#' ends) ─► an extension? ─► dial it
 *                                                                       └─ no: "not a valid extension" ─┐
 *     another key ─► "that entry is not valid" ──────────────────────────────────────────────────────────┤
 *     no key ────────────────────────────────────────────────────────────────────────────────────────────┤
 *   a failure: again, up to `retries` more times; then the menu's default action  ◄───────────────────────┘
 *
 * The runner only chooses; index.ts carries the choice out (transfers, sub-menus, messages).
 */
import type { Logger } from 'pino';
import type { MenuAction, MenuConfig, MenuKey } from '../../config/attendant-schema.js';
import type { AttendantCall } from './context.js';
import type { Extension } from './dial-by-extension.js';
import { greetingItems } from './greeting-slots.js';
import { said } from './prompts.js';
import type { Voice } from './voice.js';

export type MenuChoice =
  /** A key's action, or the default after the retries (byDefault). */
  | { kind: 'action'; action: MenuAction; key?: string; byDefault: boolean }
  /** Digits dialled from the menu that name an extension. */
  | { kind: 'extension'; extension: Extension };

export interface MenuIo {
  call: AttendantCall;
  voice: Voice;
  greetingsDir: string;
  log: Logger;
  interDigitMs: number;
  /** Most digits an extension can have. */
  maxDigits: number;
  findExtension(digits: string): Promise<Extension | undefined>;
}

export async function runMenu(io: MenuIo, menu: MenuConfig): Promise<MenuChoice> {
  const { call, voice, log } = io;
  let failures = 0;
  const fail = async (role: 'invalidKey' | 'invalidExtension' | undefined): Promise<void> => {
    failures++;
    if (role && failures <= menu.retries) await call.play(said(voice, role), { bargeIn: true });
  };
  while (failures <= menu.retries) {
    await call.play(await greetingItems(menu, voice, io.greetingsDir), { bargeIn: true });
    const got = await call.collectDigits({ max: 1, timeoutMs: menu.timeoutMs, terminators: '' });
    const key = got.digits;
    if (key === '') {
      log.info({ failures: failures + 1 }, 'no key');
      await fail(undefined);
      continue;
    }
    const action = menu.keys[key as MenuKey];
    if (action?.kind === 'repeat') continue;
    if (action) return { kind: 'action', action, key, byDefault: false };
    if (menu.dialExtensions && /^[0-9]$/.test(key)) {
      const rest = io.maxDigits > 1 ? await call.collectDigits({ max: io.maxDigits - 1, timeoutMs: io.interDigitMs, interDigitMs: io.interDigitMs, terminators: '#' }) : { digits: '' };
      const digits = key + rest.digits;
      const extension = await io.findExtension(digits);
      if (extension) return { kind: 'extension', extension };
      log.info({ digits, failures: failures + 1 }, 'not a valid extension');
      await fail('invalidExtension');
      continue;
    }
    log.info({ key, failures: failures + 1 }, 'invalid key');
    await fail('invalidKey');
  }
  log.info({ action: menu.default }, 'retries used up; default action');
  return { kind: 'action', action: menu.default, byDefault: true };
}
