/**
 * How a menu says itself from the key map: each action has a phrase ("To save it,") that is followed by
 * "press" and the action's key, so the caller hears the keys the site actually mapped. Phrases are prompt
 * ids (prompts/<lang>/prompts.yaml); this table is the same for every language.
 *
 * An action without a phrase is not announced (it still works): the message menu does not list the keys
 * that only make sense while audio plays, which the help (main menu '*') explains instead.
 */
import type { CallPlayItem } from '../../call/call.js';
import type { Say } from '../../prompts/say.js';
import { actionsOf, keyFor, type ActionOf, type KeyMap, type MenuName } from './keymap.js';

/** The phrase said before "press <key>", per menu and action. */
export const MENU_PHRASES: { readonly [M in MenuName]: Readonly<Partial<Record<ActionOf<M>, string>>> } = {
  main: {
    listen: 'opt_listen',
    changeFolder: 'opt_change_folder',
    mailboxOptions: 'opt_mailbox_options',
    help: 'opt_help',
    exit: 'opt_exit',
  },
  folder: { new: 'opt_new_messages', saved: 'opt_saved_messages' },
  message: {
    save: 'opt_save',
    delete: 'opt_delete',
    repeat: 'opt_repeat',
    next: 'opt_next',
    previous: 'opt_previous',
    forward: 'opt_forward',
    advanced: 'opt_advanced',
    mailboxOptions: 'opt_mailbox_options',
  },
  advanced: { reply: 'opt_reply', callBack: 'opt_call_back', envelope: 'opt_envelope', back: 'opt_back' },
  mailboxOptions: {
    unavailableGreeting: 'opt_unavailable_greeting',
    busyGreeting: 'opt_busy_greeting',
    name: 'opt_name',
    temporaryGreeting: 'opt_temporary_greeting',
    changePin: 'opt_change_pin',
    back: 'opt_back',
  },
  review: { accept: 'opt_accept', listen: 'opt_listen_recording', rerecord: 'opt_rerecord', cancel: 'opt_cancel' },
  temporaryGreeting: { record: 'opt_record', setExpiry: 'opt_set_expiry', delete: 'opt_delete', back: 'opt_back' },
  forward: { recordIntro: 'opt_record_intro', send: 'opt_send', cancel: 'opt_cancel' },
};

/** Every prompt id a menu can say (the catalog test and prompts.yaml must have each). */
export const MENU_PROMPT_IDS: readonly string[] = [
  ...new Set(['press', 'opt_restore', 'opt_rewind', 'opt_fast_forward', 'help_during_message', ...Object.values(MENU_PHRASES).flatMap((m) => Object.values(m) as string[])]),
];

/** Pause after a phrase, before "press" (the phrases are trimmed of their own silence). */
const PHRASE_GAP_MS = 80;
/** Pause between two choices. */
const CHOICE_GAP_MS = 350;

export interface MenuSpeech<M extends MenuName> {
  /** Actions left out (not offered here: "delete" of a temporary greeting that does not exist). */
  hide?: readonly ActionOf<M>[];
  /** Other phrases for some actions ("to restore it" for delete on a deleted message). */
  phrases?: Partial<Record<ActionOf<M>, string>>;
}

/** "To save it, press nine. To delete it, press seven. ..." for `menu` under `keys`. */
export function menuItems<M extends MenuName>(keys: KeyMap, say: Say, menu: M, speech: MenuSpeech<M> = {}): CallPlayItem[] {
  const items: CallPlayItem[] = [];
  const phrases = MENU_PHRASES[menu] as Partial<Record<ActionOf<M>, string>>;
  for (const action of actionsOf(menu)) {
    if (speech.hide?.includes(action)) continue;
    const phrase = speech.phrases?.[action] ?? phrases[action];
    if (phrase === undefined) continue;
    if (items.length > 0) items.push({ silenceMs: CHOICE_GAP_MS });
    items.push(phrase, { silenceMs: PHRASE_GAP_MS }, 'press', ...say.digits(keyFor(keys, menu, action)));
  }
  return items;
}

/**
 * The help (main menu '*'; the main menu follows it): what the keys do at a message, including the ones the
 * message menu does not list (back and ahead three seconds while it plays).
 */
export function helpItems(keys: KeyMap, say: Say): CallPlayItem[] {
  const choice = (id: string, key: string): CallPlayItem[] => [{ silenceMs: CHOICE_GAP_MS }, id, { silenceMs: PHRASE_GAP_MS }, 'press', ...say.digits(key)];
  return [
    'help_during_message',
    { silenceMs: CHOICE_GAP_MS },
    ...menuItems(keys, say, 'message'),
    ...choice('opt_rewind', keyFor(keys, 'message', 'rewind')),
    ...choice('opt_fast_forward', keyFor(keys, 'message', 'fastForward')),
    { silenceMs: 600 },
  ];
}
