/**
 * Builds the attendant's context from the config, once at start-up (the server's wiring): the voices of
 * every language an attendant offers, the recorded-greetings folder, each PBX's transfer method.
 */
import type { Logger } from 'pino';
import type { Call } from '../../call/call.js';
import type { Config, PbxConfig } from '../../config/schema.js';
import type { PromptCatalog } from '../../prompts/catalog.js';
import { pinBackoffPolicy } from '../../store/pin-backoff.js';
import type { MessageStore } from '../../store/types.js';
import type { AttendantContext, LeaveMessage, SupervisedTransfer } from './context.js';
import { greetingsDir } from './greeting-slots.js';
import { loadVoices } from './voice.js';
import { MailboxDirectory } from './directory.js';

export interface AttendantSetup {
  config: Pick<Config, 'attendants' | 'prompts' | 'storage' | 'voicemail'>;
  store: MessageStore;
  catalog: Pick<PromptCatalog, 'lang' | 'has'>;
  logger: Logger;
  /** The PBX a call came from (server.ts pbxFor), for its transfer method; undefined: REFER. */
  pbxFor: (sourceAddress: string) => Pick<PbxConfig, 'transfer'> | undefined;
  supervisedTransfer?: SupervisedTransfer;
  leaveMessage?: LeaveMessage;
  now?: () => number;
}

export async function createAttendantContext(setup: AttendantSetup): Promise<AttendantContext> {
  const { config } = setup;
  return {
    attendants: config.attendants,
    store: setup.store,
    directory: new MailboxDirectory(setup.store),
    logger: setup.logger,
    voices: await loadVoices(setup.catalog, config.prompts.dir, config.attendants.flatMap((a) => a.languages)),
    greetingsDir: greetingsDir(config.storage.dir),
    pinBackoff: pinBackoffPolicy(config.voicemail),
    transferMethod: (call: Call) => setup.pbxFor(call.sourceAddress)?.transfer ?? 'refer',
    ...(setup.supervisedTransfer && { supervisedTransfer: setup.supervisedTransfer }),
    ...(setup.leaveMessage && { leaveMessage: setup.leaveMessage }),
    ...(setup.now && { now: setup.now }),
  };
}
