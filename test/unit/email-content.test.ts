/**
 * What a new-voicemail email says (src/notify/email-content.ts).
 *
 * Covers: the subject naming the caller by name and number, by either, or as unknown; urgent messages; the
 * body's mailbox, caller, time in the configured time zone, and length; whether the audio is attached.
 * Does not cover: sending (email-notifier.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { callerText, emailContent, lengthText, receivedText } from '../../src/notify/email-content.js';
import type { Mailbox, MessageRecord } from '../../src/store/types.js';
import { mailboxFixture } from '../helpers/mailbox-fixture.js';

const MAILBOX: Mailbox = mailboxFixture({ email: 'alice@example.com' });

// Tuesday 21 November 2023, 13:05:00 UTC = 14:05 in Stockholm.
const AT = Date.UTC(2023, 10, 21, 13, 5, 0);

const MESSAGE: MessageRecord = {
  id: 'm1',
  mailbox: '27000',
  folder: 'new',
  from: '27001',
  fromName: 'Bob Smith',
  receivedAt: AT,
  durationMs: 42_400,
  urgent: false,
  heard: false,
  reason: 'busy',
  audioPath: '/data/messages/27000/m1.wav',
};

describe('the caller as the mail names it', () => {
  it('name and number', () => expect(callerText(MESSAGE)).toBe('Bob Smith (27001)'));
  it('number only', () => expect(callerText({ from: '27001', fromName: '' })).toBe('27001'));
  it('name only', () => expect(callerText({ from: '', fromName: 'Bob Smith' })).toBe('Bob Smith'));
  it('an anonymous caller', () => expect(callerText({ from: '', fromName: '' })).toBe('an unknown caller'));
  it('a name that is the number is said once', () => expect(callerText({ from: '27001', fromName: '27001' })).toBe('27001'));
});

describe('the mail', () => {
  it('subject: "New voicemail from <name> (<number>)"', () => {
    expect(emailContent(MAILBOX, MESSAGE, 'UTC').subject).toBe('New voicemail from Bob Smith (27001)');
  });

  it('an urgent message says so in the subject and the body', () => {
    const c = emailContent(MAILBOX, { ...MESSAGE, urgent: true }, 'UTC');
    expect(c.subject).toBe('Urgent: new voicemail from Bob Smith (27001)');
    expect(c.text).toContain('Priority:  urgent');
    expect(c.urgent).toBe(true);
  });

  it('body: mailbox, caller, time in the configured zone, length', () => {
    const { text } = emailContent(MAILBOX, MESSAGE, 'Europe/Stockholm');
    expect(text).toContain('mailbox 27000 (Alice Example)');
    expect(text).toContain('From:      Bob Smith (27001)');
    expect(text).toMatch(/Received: +Tuesday, November 21, 2023 at 2:05\sPM \(Europe\/Stockholm\)/);
    expect(text).toContain('Length:    0:42');
    expect(text).toContain('Call your voicemail to listen to it.');
  });

  it('the time follows the zone, not the machine', () => {
    expect(receivedText(AT, 'America/New_York')).toMatch(/8:05\sAM \(America\/New_York\)/);
  });

  it('lengths: m:ss, and h:mm:ss from an hour', () => {
    expect(lengthText(0)).toBe('0:00');
    expect(lengthText(59_600)).toBe('1:00');
    expect(lengthText(3_725_000)).toBe('1:02:05');
  });

  it('attaches the audio only when the mailbox asks for it, under a file name with mailbox and time', () => {
    expect(emailContent(MAILBOX, MESSAGE, 'UTC').attachAudio).toBe(false);
    const c = emailContent({ ...MAILBOX, emailAttachAudio: true }, MESSAGE, 'UTC');
    expect(c.attachAudio).toBe(true);
    expect(c.attachmentName).toBe('voicemail-27000-2023-11-21T13-05-00Z.wav');
    expect(c.text).toContain('attached');
  });
});
