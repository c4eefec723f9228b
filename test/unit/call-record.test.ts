/**
 * A call's record (call/call-record.ts) and the query and output forms of call records (call-records/query.ts).
 * Covers: the outcome is the last one noted; with none, abandoned where the caller last was ('ringing'
 * before an answer, the app after it); a record is made once; times back from now and ISO dates for
 * --since, and what a bad one says; CSV quoting (RFC 4180).
 */
import { describe, expect, it } from 'vitest';
import { CallRecordDraft } from '../../src/call/call-record.js';
import { callRecordsCsv, parseCallQuery, parseTimeAgo } from '../../src/call-records/query.js';

const draft = (): CallRecordDraft => new CallRecordDraft({ callId: 'c1', offeredAt: 1000, from: '27001', to: '27000', pilot: '8000', app: 'voicemail' });

describe('CallRecordDraft', () => {
  it('is abandoned while ringing when it ends unanswered with nothing noted', () => {
    expect(draft().finish(2000)).toEqual({ callId: 'c1', offeredAt: 1000, endedAt: 2000, from: '27001', to: '27000', pilot: '8000', app: 'voicemail', outcome: 'abandoned', detail: 'ringing' });
  });

  it('is abandoned in the last place reached, else in the app', () => {
    const d = draft();
    d.answered(1500);
    expect(draft().finish()).toMatchObject({ detail: 'ringing' });
    const answered = draft();
    answered.answered(1500);
    expect(answered.finish(3000)).toMatchObject({ outcome: 'abandoned', detail: 'voicemail', answeredAt: 1500 });
    d.reached('greeting');
    d.reached('recording');
    expect(d.finish(3000)).toMatchObject({ outcome: 'abandoned', detail: 'recording' });
  });

  it('takes the last outcome noted: a failed transfer that ends in a message is a message', () => {
    const d = draft();
    d.answered(1500);
    d.transferredTo('27002');
    d.messageLeft('27002', 'm-1');
    expect(d.finish(4000)).toMatchObject({ outcome: 'message', detail: '27002', messageId: 'm-1' });
  });

  it('is made once: a later finish returns the same record', () => {
    const d = draft();
    d.rejected(404);
    const first = d.finish(2000);
    d.loggedIn('27000');
    expect(d.finish(9000)).toBe(first);
    expect(first).toMatchObject({ outcome: 'rejected', detail: '404', endedAt: 2000 });
  });
});

describe('call record queries', () => {
  const now = Date.parse('2026-12-06T12:00:00Z');

  it('reads durations back from now and ISO dates', () => {
    expect(parseTimeAgo('90s', now)).toBe(now - 90_000);
    expect(parseTimeAgo('1h', now)).toBe(now - 3_600_000);
    expect(parseTimeAgo('2d', now)).toBe(now - 2 * 86_400_000);
    expect(parseTimeAgo('2026-12-06T09:14:00Z', now)).toBe(Date.parse('2026-12-06T09:14:00Z'));
    expect(parseTimeAgo('2026-12-06', now)).toBe(Date.parse('2026-12-06'));
    for (const bad of ['yesterday', '1x', '-1h', '', '2026-13-45', '1e3s']) expect(parseTimeAgo(bad, now), bad).toBeUndefined();
  });

  it('says which option is wrong and what it accepts', () => {
    expect(parseCallQuery({ since: '1h', from: '27001', limit: '10' }, now)).toEqual({ query: { since: now - 3_600_000, from: '27001', limit: 10 } });
    expect(parseCallQuery({ since: 'soon' }, now)).toEqual({ error: expect.stringMatching(/^since "soon" is not a time: say how long ago \(90s, 30m, 1h/) });
    expect(parseCallQuery({ to: 'alice' }, now)).toEqual({ error: expect.stringMatching(/^to "alice" is not a number/) });
    expect(parseCallQuery({ limit: '0' }, now)).toEqual({ error: expect.stringMatching(/^limit "0" must be a whole number from 1/) });
  });

  it('writes CSV with a header and quotes fields holding commas or quotes (RFC 4180)', () => {
    const csv = callRecordsCsv([{ callId: 'a,"b"', offeredAt: 0, endedAt: 1000, from: '', to: '1', pilot: '1', app: '', outcome: 'rejected', detail: '404' }]);
    expect(csv).toBe(
      'callId,offeredAt,answeredAt,endedAt,from,to,pilot,app,outcome,detail,messageId,worker\r\n' +
        '"a,""b""",1970-01-01T00:00:00.000Z,,1970-01-01T00:00:01.000Z,,1,1,,rejected,404,,\r\n',
    );
  });
});
