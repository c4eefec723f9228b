/**
 * The voicemail retrieval key map (src/apps/voicemail/keymap.ts) and the menus said from it
 * (menu-prompts.ts).
 *
 * Covers: issue 4's default keys for the main menu, the message keys and mailbox options; a site's
 * overrides laid over the defaults (and the defaults left alone); the maps refused (two actions on one key
 * of a menu, a key not on a keypad, an unknown menu or action); key -> action lookup; a menu announcing the
 * key the site mapped, in the map's order; every phrase a menu can say exists in prompts/en-US.
 * Does not cover: what the actions do (test/unit/vm-retrieval-flow.test.ts, test/integration/vm-retrieval.test.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_KEYMAP, MENU_NAMES, actionFor, actionsOf, keyFor, resolveKeyMap, type KeyMapOverrides } from '../../src/apps/voicemail/keymap.js';
import { MENU_PROMPT_IDS, helpItems, menuItems } from '../../src/apps/voicemail/menu-prompts.js';
import { createSay } from '../../src/prompts/say.js';

const say = createSay('en-US');
const EN = join(import.meta.dirname, '..', '..', 'prompts', 'en-US');

describe('the default key map (issue 4)', () => {
  const keys = resolveKeyMap();

  it('main menu: 1 listen, 2 change folder, 0 mailbox options, * help, # exit', () => {
    expect(keys.main).toEqual({ listen: '1', changeFolder: '2', mailboxOptions: '0', help: '*', exit: '#' });
  });

  it('per message: 4 previous, 5 repeat, 6 next, 7 delete, 8 forward, 9 save, 3 advanced, * back, # ahead, 0 options', () => {
    expect(keys.message).toEqual({
      previous: '4', repeat: '5', next: '6', delete: '7', forward: '8', save: '9', advanced: '3', rewind: '*', fastForward: '#', mailboxOptions: '0',
    });
  });

  it('advanced: 1 reply, 2 call back, 3 envelope; mailbox options: 1 unavailable, 2 busy, 3 name, 4 temporary, 5 PIN, * back', () => {
    expect(keys.advanced).toMatchObject({ reply: '1', callBack: '2', envelope: '3' });
    expect(keys.mailboxOptions).toEqual({ unavailableGreeting: '1', busyGreeting: '2', name: '3', temporaryGreeting: '4', changePin: '5', back: '*' });
  });

  it('has no two actions of one menu on the same key', () => {
    for (const menu of MENU_NAMES) {
      const used = Object.values(keys[menu]);
      expect(new Set(used).size, menu).toBe(used.length);
    }
  });

  it('finds the action of a key, and none for a key the menu does not use', () => {
    expect(actionFor(keys, 'message', '9')).toBe('save');
    expect(actionFor(keys, 'message', '#')).toBe('fastForward');
    expect(actionFor(keys, 'main', '#')).toBe('exit');
    expect(actionFor(keys, 'main', '5')).toBeUndefined();
    expect(actionFor(keys, 'folder', '*')).toBeUndefined();
  });
});

describe('a site key map laid over the defaults', () => {
  it('moves the actions it names and keeps every other default', () => {
    const keys = resolveKeyMap({ message: { save: '2', delete: '3', advanced: '1' }, main: { exit: '9' } });
    expect(keys.message.save).toBe('2');
    expect(keys.message.delete).toBe('3');
    expect(keys.message.next).toBe('6');
    expect(keys.main).toEqual({ ...DEFAULT_KEYMAP.main, exit: '9' });
    expect(actionFor(keys, 'message', '2')).toBe('save');
    expect(actionFor(keys, 'message', '9')).toBeUndefined();
  });

  it('does not change the defaults themselves', () => {
    resolveKeyMap({ main: { listen: '5' } });
    expect(resolveKeyMap().main.listen).toBe('1');
    expect(DEFAULT_KEYMAP.main.listen).toBe('1');
  });

  it('MUST refuse two actions of one menu on the same key, naming both', () => {
    expect(() => resolveKeyMap({ message: { save: '7' } })).toThrow(/message\.save and message\.delete|message\.delete and message\.save/);
  });

  it('allows the same key in different menus', () => {
    expect(() => resolveKeyMap({ folder: { new: '9' }, main: { listen: '9', exit: '1' } })).not.toThrow();
  });

  it('MUST refuse a key that is not one keypad key', () => {
    for (const bad of ['A', '10', '', ' ', 'x']) {
      expect(() => resolveKeyMap({ main: { listen: bad } }), bad).toThrow(TypeError);
    }
  });

  it('MUST refuse an unknown menu or action', () => {
    expect(() => resolveKeyMap({ mian: { listen: '1' } } as unknown as KeyMapOverrides)).toThrow(/unknown menu "mian"/);
    expect(() => resolveKeyMap({ main: { lisen: '1' } } as unknown as KeyMapOverrides)).toThrow(/no action "lisen"/);
  });
});

describe('menus said from the key map', () => {
  it('says each choice as "<phrase> press <key>", in the map order', () => {
    const items = menuItems(resolveKeyMap(), say, 'main').filter((i) => typeof i === 'string');
    expect(items).toEqual([
      'opt_listen', 'press', 'num_1',
      'opt_change_folder', 'press', 'num_2',
      'opt_mailbox_options', 'press', 'num_0',
      'opt_help', 'press', 'star',
      'opt_exit', 'press', 'pound',
    ]);
  });

  it('announces the key the site mapped, not the default', () => {
    const keys = resolveKeyMap({ message: { save: '2', delete: '3', advanced: '1' } });
    const items = menuItems(keys, say, 'message').filter((i) => typeof i === 'string');
    expect(items.slice(0, 6)).toEqual(['opt_save', 'press', 'num_2', 'opt_delete', 'press', 'num_3']);
  });

  it('leaves out hidden choices and can say another phrase for one (restore instead of delete)', () => {
    const keys = resolveKeyMap();
    const hidden = menuItems(keys, say, 'temporaryGreeting', { hide: ['setExpiry', 'delete'] }).filter((i) => typeof i === 'string');
    expect(hidden).toEqual(['opt_record', 'press', 'num_1', 'opt_back', 'press', 'star']);
    const restore = menuItems(keys, say, 'message', { phrases: { delete: 'opt_restore' } });
    expect(restore).toContain('opt_restore');
    expect(restore).not.toContain('opt_delete');
  });

  it('the message menu leaves the keys that act only while audio plays to the help', () => {
    const keys = resolveKeyMap();
    expect(menuItems(keys, say, 'message')).not.toContain('opt_rewind');
    const help = helpItems(keys, say).filter((i) => typeof i === 'string');
    expect(help.join(' ')).toContain('opt_rewind press star opt_fast_forward press pound');
  });

  it('lists the actions of a menu in the order DEFAULT_KEYMAP gives them', () => {
    expect(actionsOf('review')).toEqual(['accept', 'listen', 'rerecord', 'cancel']);
    expect(keyFor(resolveKeyMap(), 'review', 'accept')).toBe('1');
  });

  it('has a recorded prompt for every phrase a menu can say', () => {
    const missing = MENU_PROMPT_IDS.filter((id) => !existsSync(join(EN, `${id}.wav`)));
    expect(missing).toEqual([]);
  });
});
