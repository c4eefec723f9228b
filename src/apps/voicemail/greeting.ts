/**
 * Which greeting a caller hears before leaving a message (issue 4):
 *
 *   temporary greeting (not expired)  >  the busy or unavailable personal greeting  >  the system greeting
 *
 * The reason picks the personal greeting: a busy diversion plays the busy greeting, every other reason the
 * unavailable one. A busy call to a mailbox with no busy greeting gets the system's "is on the phone" rather
 * than the unavailable greeting (the caller learns the person is there, as Asterisk does). The system
 * greeting says the recorded name when there is one ("<name> is not available"), else "the person at
 * extension 2 7 0 0 0 is not available", followed by the recording instructions.
 *
 * Pure: the store's paths in, a list of play items out. Not here: playing them, and what happens when a
 * recorded file turns out to be unreadable (deposit.ts falls back to the system greeting).
 */
import type { CallPlayItem } from '../../call/call.js';
import type { Say } from '../../prompts/say.js';
import type { DepositReason, Mailbox } from '../../store/types.js';

/** The greeting chosen, by name (logged, and asserted by tests). */
export type GreetingChoice = 'temporary' | 'busy' | 'unavailable' | 'system-busy' | 'system-unavailable';

export interface Greeting {
  kind: GreetingChoice;
  items: CallPlayItem[];
}

/** The temporary greeting plays while it exists and has not expired (an absent expiry never expires). */
export function temporaryGreetingActive(mailbox: Mailbox, nowMs: number): boolean {
  const until = mailbox.temporaryGreetingUntil;
  return mailbox.greetings.temporary !== undefined && (until === undefined || nowMs < until);
}

export function chooseGreeting(mailbox: Mailbox, reason: DepositReason, nowMs: number, say: Say): Greeting {
  const g = mailbox.greetings;
  if (temporaryGreetingActive(mailbox, nowMs)) return { kind: 'temporary', items: [{ file: g.temporary! }] };
  const busy = reason === 'busy';
  if (busy && g.busy !== undefined) return { kind: 'busy', items: [{ file: g.busy }] };
  if (!busy && g.unavailable !== undefined) return { kind: 'unavailable', items: [{ file: g.unavailable }] };
  return systemGreeting(mailbox, busy, say);
}

/** "The person at extension 27000 is on the phone / is not available", or the recorded name instead. */
export function systemGreeting(mailbox: Mailbox, busy: boolean, say: Say, useName = true): Greeting {
  const who: CallPlayItem[] =
    useName && mailbox.greetings.name !== undefined
      ? [{ file: mailbox.greetings.name }]
      : ['the_person_at_extension', ...say.digits(mailbox.number.replace(/[^0-9*#]/g, ''))];
  return {
    kind: busy ? 'system-busy' : 'system-unavailable',
    items: [...who, busy ? 'is_on_the_phone' : 'is_not_available', 'record_after_tone'],
  };
}
