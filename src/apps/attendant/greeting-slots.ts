/**
 * Greetings recorded by phone (greeting-admin.ts), kept as numbered slots under storage.dir:
 * <storage.dir>/attendant/greetings/slot-<n>.wav. A menu greeting item { slot: n } plays the slot's file
 * when there is one, else its `otherwise` items; the file is looked up each time a menu is said, so a new
 * recording takes effect at once, for calls already in progress too.
 *
 * A new recording replaces the old one by rename (atomic on one file system: store.tmpDir is on the same one),
 * so a caller never hears half a file.
 */
import { access, mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { CallPlayItem } from '../../call/call.js';
import type { AttendantConfig, GreetingItem, MenuConfig } from '../../config/attendant-schema.js';
import { MENU_PROMPT, menuPromptItems } from './menu-prompt.js';
import type { Voice } from './voice.js';

export function greetingsDir(storageDir: string): string {
  return join(storageDir, 'attendant', 'greetings');
}

export function slotPath(dir: string, slot: number): string {
  return join(dir, `slot-${slot}.wav`);
}

/** The slot's file, when one has been recorded. */
export async function recordedSlot(dir: string, slot: number): Promise<string | undefined> {
  const path = slotPath(dir, slot);
  return access(path).then(
    () => path,
    () => undefined,
  );
}

/** Moves a recording (a WAV in store.tmpDir) into the slot. */
export async function saveSlot(dir: string, slot: number, recording: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await rename(recording, slotPath(dir, slot));
}

/** The slots an attendant's menus play (the ones an administrator may record). */
export function slotsOf(a: Pick<AttendantConfig, 'menus'>): Set<number> {
  const slots = new Set<number>();
  for (const menu of Object.values(a.menus)) for (const g of menu.greeting) if ('slot' in g) slots.add(g.slot);
  return slots;
}

/**
 * A menu's greeting as play items, recorded slots looked up now; the stock menu prompt said as what `menu`
 * allows (menu-prompt.ts).
 */
export async function greetingItems(menu: Pick<MenuConfig, 'greeting' | 'keys' | 'dialExtensions'>, voice: Voice, dir: string): Promise<CallPlayItem[]> {
  const out: CallPlayItem[] = [];
  const add = async (items: readonly GreetingItem[]): Promise<void> => {
    for (const g of items) {
      if ('slot' in g) {
        const file = await recordedSlot(dir, g.slot);
        if (file !== undefined) out.push({ file });
        else await add(g.otherwise);
      } else if ('file' in g) {
        out.push({ file: g.file });
      } else {
        out.push(...(g.prompt === MENU_PROMPT ? menuPromptItems(menu, voice) : [voice.item(g.prompt)]));
      }
    }
  };
  await add(menu.greeting);
  return out;
}
