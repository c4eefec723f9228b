/*
 * The attendant's toll-fraud guard (src/apps/attendant/transfer-guard.ts) and how a transfer's final status
 * is read (src/apps/attendant/connect.ts outcomeOfStatus).
 *
 * Covers: pattern letters X (any digit), N (2-9), Z (1-9), a trailing "." (one or more further characters),
 * literal + * #, ranges of equal-length numbers; the default guard (mailbox numbers, extension ranges and
 * the operator) refusing external, international and premium numbers; configured patterns replacing the
 * default; a status of the NOTIFY sipfrag (or none) as busy / no answer / invalid / failed.
 *
 * Does not cover: the refusal as a caller hears it (test/integration/attendant.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { compilePattern, numberRange, transferGuard } from '../../src/apps/attendant/transfer-guard.js';
import { outcomeOfStatus } from '../../src/apps/attendant/connect.js';

describe('transfer patterns', () => {
  it('X is any digit, N 2-9, Z 1-9', () => {
    expect(compilePattern('27XXX')('27042')).toBe(true);
    expect(compilePattern('27XXX')('2704')).toBe(false);
    expect(compilePattern('27XXX')('270421')).toBe(false);
    expect(compilePattern('NXX')('200')).toBe(true);
    expect(compilePattern('NXX')('100')).toBe(false);
    expect(compilePattern('ZX')('05')).toBe(false);
    expect(compilePattern('zx')('15')).toBe(true);
  });

  it('a trailing "." takes one or more further characters, and + * # are literal', () => {
    expect(compilePattern('+468.')('+46870001')).toBe(true);
    expect(compilePattern('+468.')('+468')).toBe(false);
    expect(compilePattern('+468.')('00468700')).toBe(false);
    expect(compilePattern('*9X')('*91')).toBe(true);
    expect(compilePattern('*9X')('191')).toBe(false);
  });

  it('a range takes numbers of the same length from..to', () => {
    const r = compilePattern('27000-27999');
    expect(['27000', '27500', '27999'].map(r)).toEqual([true, true, true]);
    expect(['26999', '28000', '2700', '270000', '27a00'].map(r)).toEqual([false, false, false, false, false]);
    expect(numberRange('0100', '0199')('0150')).toBe(true);
  });

  it('a malformed pattern matches nothing', () => {
    expect(compilePattern('27[0-9]')('270')).toBe(false);
  });
});

describe('the default guard: internal numbers only', () => {
  const guard = transferGuard({ allowedTransfers: [], extensions: [{ from: '3000', to: '3099' }], operator: '9' }, ['27000', '27001']);

  it('allows the mailboxes, the extension ranges and the operator', () => {
    expect(['27000', '27001', '3000', '3099', '9'].map(guard)).toEqual([true, true, true, true, true]);
  });

  it('refuses external, international and premium-rate numbers, and internal numbers with no mailbox or range', () => {
    expect(['900123', '0046701234567', '+46701234567', '27002', '3100', ''].map(guard)).toEqual([false, false, false, false, false, false]);
  });
});

describe('configured patterns', () => {
  it('replace the default: only what they allow', () => {
    const guard = transferGuard({ allowedTransfers: ['270XX', '+4687.'], extensions: [{ from: '27000', to: '27999' }], operator: '27000' }, ['27500']);
    expect(['27000', '27099', '+46870001'].map(guard)).toEqual([true, true, true]);
    // In an extension range and a mailbox, but not allowed by the patterns.
    expect(['27500', '27100'].map(guard)).toEqual([false, false]);
  });
});

describe("a transfer's final status (NOTIFY sipfrag, RFC 3515 §2.4.5, read as RFC 3261 §21)", () => {
  it.each([
    [486, 'busy'],
    [600, 'busy'],
    [480, 'no-answer'],
    [408, 'no-answer'],
    [487, 'no-answer'],
    [0, 'no-answer'],
    [404, 'invalid'],
    [484, 'invalid'],
    [604, 'invalid'],
    [503, 'failed'],
    [403, 'failed'],
  ] as const)('%i is %s', (status, outcome) => {
    expect(outcomeOfStatus(status)).toBe(outcome);
  });
});
