/**
 * The RFC 3842 message-summary body: building it from a mailbox's counts and reading one back.
 *
 * Covers: Messages-Waiting yes/no from the new count, Message-Account, Voice-Message new/old with the urgent
 * figures in parentheses, CRLF line ends, counts that are not non-negative integers, parsing (case of
 * header names, optional urgent part, unknown lines, a body without Messages-Waiting).
 * Does not cover: the SIP headers around the body (mwi-unsolicited-notify.test.ts, integration/mwi.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { buildMessageSummary, parseMessageSummary, MESSAGE_SUMMARY_TYPE } from '../../src/mwi/message-summary.js';

const ACCOUNT = 'sip:27000@vm.example.com';

describe('buildMessageSummary', () => {
  it('MUST say Messages-Waiting: yes when there are new messages, with new/old (urgent-new/urgent-old)', () => {
    const text = buildMessageSummary({ new: 2, saved: 8, urgentNew: 1, urgentSaved: 0 }, ACCOUNT).toString();
    expect(text).toBe('Messages-Waiting: yes\r\nMessage-Account: sip:27000@vm.example.com\r\nVoice-Message: 2/8 (1/0)\r\n');
  });

  it('MUST say Messages-Waiting: no when only saved messages are left', () => {
    const text = buildMessageSummary({ new: 0, saved: 3, urgentNew: 0, urgentSaved: 1 }, ACCOUNT).toString();
    expect(text.split('\r\n')[0]).toBe('Messages-Waiting: no');
    expect(text).toContain('Voice-Message: 0/3 (0/1)\r\n');
  });

  it('writes counts that are negative, fractional or not numbers as whole non-negative numbers', () => {
    const text = buildMessageSummary({ new: Number.NaN, saved: -1, urgentNew: 1.7, urgentSaved: Infinity }, ACCOUNT).toString();
    expect(text).toContain('Messages-Waiting: no\r\n');
    expect(text).toContain('Voice-Message: 0/0 (1/0)\r\n');
  });

  it('is read back to the same counts', () => {
    const counts = { new: 5, saved: 12, urgentNew: 2, urgentSaved: 3 };
    expect(parseMessageSummary(buildMessageSummary(counts, ACCOUNT))).toEqual({ waiting: true, account: ACCOUNT, voice: counts });
  });

  it('names the MIME type RFC 3842 registers', () => {
    expect(MESSAGE_SUMMARY_TYPE).toBe('application/simple-message-summary');
  });
});

describe('parseMessageSummary', () => {
  it('reads header names case-insensitively and a Voice-Message line without urgent counts', () => {
    expect(parseMessageSummary('messages-waiting: YES\nvoice-message: 3/4\n')).toEqual({
      waiting: true,
      voice: { new: 3, saved: 4, urgentNew: 0, urgentSaved: 0 },
    });
  });

  it('skips other message classes and optional lines', () => {
    const body = 'Messages-Waiting: no\r\nFax-Message: 1/0\r\nVoice-Message: 0/1 (0/0)\r\n\r\nTo: <sip:a@b>\r\n';
    expect(parseMessageSummary(body)?.voice).toEqual({ new: 0, saved: 1, urgentNew: 0, urgentSaved: 0 });
  });

  it('returns undefined without a Messages-Waiting line, or with a value other than yes/no', () => {
    expect(parseMessageSummary('Voice-Message: 1/0\r\n')).toBeUndefined();
    expect(parseMessageSummary('Messages-Waiting: maybe\r\n')).toBeUndefined();
  });
});
