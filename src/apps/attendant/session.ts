/**
 * One caller's visit to an attendant: the call, which attendant serves its pilot, the language chosen, and
 * the logger that tags every line with the call. Built by index.ts, passed to every flow.
 */
import type { Logger } from 'pino';
import type { Call } from '../../call/call.js';
import type { AttendantConfig } from '../../config/attendant-schema.js';
import type { AttendantContext } from './context.js';
import type { Voice } from './voice.js';

export interface AttendantSession {
  readonly call: Call;
  readonly ctx: AttendantContext;
  readonly attendant: AttendantConfig;
  /** The caller's language (language-choice.ts may change it once). */
  voice: Voice;
  readonly log: Logger;
}
