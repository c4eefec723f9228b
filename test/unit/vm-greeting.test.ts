/**
 * Which greeting a caller hears (src/apps/voicemail/greeting.ts).
 *
 * Covers: temporary (with and without expiry) > busy/unavailable personal > system greeting; the system
 * greeting's recorded name vs extension digits, busy vs not available wording.
 * Does not cover: playing it, and the fallback when a recorded file is unreadable (vm-deposit.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { chooseGreeting, temporaryGreetingActive } from '../../src/apps/voicemail/greeting.js';
import { createSay } from '../../src/prompts/say.js';
import type { Mailbox } from '../../src/store/types.js';
import { mailboxFixture } from '../helpers/mailbox-fixture.js';

const say = createSay('en-US');
const NOW = 1_700_000_000_000;

function mailbox(greetings: Mailbox['greetings'], until?: number): Mailbox {
  return mailboxFixture({ greetings, ...(until !== undefined ? { temporaryGreetingUntil: until } : {}) });
}

const ALL = { temporary: '/g/temporary.wav', busy: '/g/busy.wav', unavailable: '/g/unavailable.wav', name: '/g/name.wav' };

describe('greeting choice', () => {
  it('a temporary greeting without expiry wins over every other, busy or not', () => {
    expect(chooseGreeting(mailbox(ALL), 'busy', NOW, say)).toEqual({ kind: 'temporary', items: [{ file: '/g/temporary.wav' }] });
    expect(chooseGreeting(mailbox(ALL), 'no-answer', NOW, say).kind).toBe('temporary');
  });

  it('a temporary greeting plays until its expiry, and not from then on', () => {
    expect(temporaryGreetingActive(mailbox(ALL, NOW + 1), NOW)).toBe(true);
    expect(temporaryGreetingActive(mailbox(ALL, NOW), NOW)).toBe(false);
    expect(chooseGreeting(mailbox(ALL, NOW - 1), 'busy', NOW, say).kind).toBe('busy');
  });

  it('busy plays the busy greeting; no-answer, unconditional and the rest the unavailable one', () => {
    const m = mailbox({ busy: ALL.busy, unavailable: ALL.unavailable });
    expect(chooseGreeting(m, 'busy', NOW, say)).toEqual({ kind: 'busy', items: [{ file: '/g/busy.wav' }] });
    for (const reason of ['no-answer', 'unconditional', 'unavailable', 'other', 'direct'] as const) {
      expect(chooseGreeting(m, reason, NOW, say).kind).toBe('unavailable');
    }
  });

  it('busy with only an unavailable greeting: the system "is on the phone"', () => {
    expect(chooseGreeting(mailbox({ unavailable: ALL.unavailable }), 'busy', NOW, say).kind).toBe('system-busy');
  });

  it('system greeting without a name: "the person at extension 2 7 0 0 0 is not available", then the instructions', () => {
    expect(chooseGreeting(mailbox({}), 'no-answer', NOW, say)).toEqual({
      kind: 'system-unavailable',
      items: ['the_person_at_extension', 'num_2', 'num_7', 'num_0', 'num_0', 'num_0', 'is_not_available', 'record_after_tone'],
    });
  });

  it('system greeting with a recorded name says the name instead of the digits', () => {
    expect(chooseGreeting(mailbox({ name: ALL.name }), 'busy', NOW, say)).toEqual({
      kind: 'system-busy',
      items: [{ file: '/g/name.wav' }, 'is_on_the_phone', 'record_after_tone'],
    });
  });
});
