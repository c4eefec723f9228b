/**
 * A Mailbox record for tests that need one without a store: an owner who finished set-up, no greetings, no
 * quotas, nothing locked. Override what the test is about.
 */
import type { Mailbox } from '../../src/store/types.js';

export function mailboxFixture(over: Partial<Mailbox> = {}): Mailbox {
  return {
    number: '27000',
    name: 'Alice Example',
    emailAttachAudio: false,
    aliases: [],
    pinHash: 'x',
    mustChangePin: false,
    setupDone: true,
    failedLogins: 0,
    locked: false,
    greetings: {},
    maxMessages: 0,
    maxMinutes: 0,
    hiddenFromDirectory: false,
    ...over,
  };
}
