/**
 * The mailbox owner's key map: which key does what in each menu of the listening session. It is DATA, so a
 * site can match the system it replaces (issue 4: "the key map is data"): resolveKeyMap() lays a site's
 * overrides over issue 4's defaults and refuses a map a caller could not use (two actions on one key of a
 * menu, a key that is not on a keypad).
 *
 * The menus speak themselves from this map (menu-prompts.ts): "to save it, press" + the key, so a remapped
 * key is announced as it is. The order of the actions below is the order a menu says them.
 *
 * Not here: what the keys lead to (session-menu.ts, message-player.ts, mailbox-options.ts), the deposit
 * review menu (deposit.ts), the words said (prompts.yaml).
 */

/** A key on a telephone keypad (RFC 4733 events 0-11). */
export type Key = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#';

const KEYPAD = '0123456789*#';

/** Issue 4's default keys, menu by menu, in the order each menu says its choices. */
export const DEFAULT_KEYMAP = {
  /** After log-in and the message summary. */
  main: { listen: '1', changeFolder: '2', mailboxOptions: '0', help: '*', exit: '#' },
  /** "Change folder": which messages to hear. */
  folder: { new: '1', saved: '2' },
  /** Before, during or after a message plays. `delete` on a deleted message restores it (undo). */
  message: {
    save: '9',
    delete: '7',
    repeat: '5',
    next: '6',
    previous: '4',
    forward: '8',
    advanced: '3',
    rewind: '*',
    fastForward: '#',
    mailboxOptions: '0',
  },
  /** Message key 3, "advanced". */
  advanced: { reply: '1', callBack: '2', envelope: '3', back: '*' },
  /** Main menu (or message) key 0. */
  mailboxOptions: { unavailableGreeting: '1', busyGreeting: '2', name: '3', temporaryGreeting: '4', changePin: '5', back: '*' },
  /** After recording a greeting, a name, a reply or an introduction (the deposit review menu's keys). */
  review: { accept: '1', listen: '2', rerecord: '3', cancel: '*' },
  /** Mailbox options key 4: the temporary (extended absence) greeting. */
  temporaryGreeting: { record: '1', setExpiry: '2', delete: '3', back: '*' },
  /** Forwarding a message, once the mailbox to send it to is chosen. */
  forward: { recordIntro: '1', send: '2', cancel: '*' },
} as const satisfies Record<string, Record<string, Key>>;

type Defaults = typeof DEFAULT_KEYMAP;

export type MenuName = keyof Defaults;

/** The actions of one menu. */
export type ActionOf<M extends MenuName> = keyof Defaults[M] & string;

/** A complete key map: every action of every menu has a key. */
export type KeyMap = { readonly [M in MenuName]: Readonly<Record<ActionOf<M>, Key>> };

/** A site's changes to the defaults (config): any menu, any action, by key. */
export type KeyMapOverrides = { readonly [M in MenuName]?: Readonly<Partial<Record<ActionOf<M>, string>>> };

/** The menus, in DEFAULT_KEYMAP order. */
export const MENU_NAMES = Object.keys(DEFAULT_KEYMAP) as MenuName[];

/** The actions of `menu` in the order the menu says them. */
export function actionsOf<M extends MenuName>(menu: M): ActionOf<M>[] {
  return Object.keys(DEFAULT_KEYMAP[menu]) as ActionOf<M>[];
}

/**
 * The defaults with `overrides` laid over them. Throws TypeError, naming the menu and action, for an unknown
 * menu or action, a key that is not one keypad key, or two actions of one menu on the same key.
 */
export function resolveKeyMap(overrides: KeyMapOverrides = {}): KeyMap {
  const out: Record<string, Record<string, Key>> = {};
  for (const menu of Object.keys(overrides)) {
    if (!(menu in DEFAULT_KEYMAP)) throw new TypeError(`key map: unknown menu "${menu}" (menus: ${MENU_NAMES.join(', ')})`);
  }
  for (const menu of MENU_NAMES) {
    const given = (overrides[menu] ?? {}) as Record<string, string | undefined>;
    const actions = actionsOf(menu) as string[];
    for (const action of Object.keys(given)) {
      if (!actions.includes(action)) throw new TypeError(`key map: menu ${menu} has no action "${action}" (actions: ${actions.join(', ')})`);
    }
    const keys: Record<string, Key> = {};
    const byKey = new Map<string, string>();
    for (const action of actions) {
      const key = given[action] ?? (DEFAULT_KEYMAP[menu] as Record<string, Key>)[action]!;
      if (key.length !== 1 || !KEYPAD.includes(key)) {
        throw new TypeError(`key map: ${menu}.${action} is "${key}"; a key is one of 0-9, * and #`);
      }
      const other = byKey.get(key);
      if (other !== undefined) throw new TypeError(`key map: ${menu}.${other} and ${menu}.${action} are both on key ${key}`);
      byKey.set(key, action);
      keys[action] = key as Key;
    }
    out[menu] = keys;
  }
  return out as unknown as KeyMap;
}

/** The action `key` stands for in `menu`, or undefined when the key does nothing there. */
export function actionFor<M extends MenuName>(map: KeyMap, menu: M, key: string): ActionOf<M> | undefined {
  const keys = map[menu] as Readonly<Record<string, Key>>;
  for (const action of Object.keys(keys)) if (keys[action] === key) return action as ActionOf<M>;
  return undefined;
}

/** The key of `action` in `menu`. */
export function keyFor<M extends MenuName>(map: KeyMap, menu: M, action: ActionOf<M>): Key {
  return (map[menu] as Readonly<Record<string, Key>>)[action]!;
}
