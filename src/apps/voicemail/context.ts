/**
 * What every part of the voicemail app is given: the store, the site policy, the say-engine, and how to
 * reach the rest of the system. Built once by the server, shared by every call.
 */
import type { Logger } from 'pino';
import type { MessageStore } from '../../store/types.js';
import type { VoicemailConfig } from '../../config/schema.js';
import type { Say } from '../../prompts/say.js';
import type { KeyMap } from './keymap.js';

export interface VoicemailContext {
  store: MessageStore;
  config: VoicemailConfig;
  /** The owner's keys (config voicemail.keys, resolved by keymap.ts resolveKeyMap); default issue 4's keys. */
  keys?: KeyMap;
  say: Say;
  logger: Logger;
  /** The attendant pilot numbers (for '0' during a greeting when voicemail.operator is not set). */
  attendantPilots: readonly string[];
  /** Voicemail pilot numbers (a call to one of these with no diversion is a login call). */
  voicemailPilots: readonly string[];
  /** Called after a message is stored (email notification; MWI follows the store's events on its own). */
  onDeposit?: (message: import('../../store/types.js').MessageRecord) => void;
  /** Clock for tests (ms since epoch). Default Date.now. */
  now?: () => number;
}
