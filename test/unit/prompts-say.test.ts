/**
 * The say-engine with the US English grammar: prompt-id lists for numbers, ordinals, digits, dates, times,
 * durations and counted nouns.
 *
 * Covers: cardinal numbers across every rule (zero, units, teens, tens, tens+unit, hundreds with and without
 * a remainder, thousands, millions, the 999,999,999 limit); ordinals whole and composed; keypad digits one by
 * one including * and #; dates and times of fixed instants in fixed IANA zones (a UTC instant that is the
 * previous day locally, "today"/"yesterday" decided in the zone, across a month end); the 12-hour clock's
 * o'clock, "oh" and noon/midnight cases; durations with zero units left out and rounding to the second;
 * singular, plural and "no" in counted phrases; every out-of-range argument rejected with TypeError; an
 * unknown language rejected; ids returned are all listed in the grammar's promptIds.
 * Does not cover: the audio (prompts-catalog.test.ts), languages other than en-US, the year in dates.
 */
import { describe, expect, it } from 'vitest';
import { createSay } from '../../src/prompts/say.js';

const say = createSay('en-US');
const NY = 'America/New_York';

describe('number(n) says a cardinal number in US English (no "and")', () => {
  const cases: Array<[number, string[]]> = [
    [0, ['num_0']],
    [7, ['num_7']],
    [13, ['num_13']],
    [20, ['num_20']],
    [21, ['num_20', 'num_1']],
    [100, ['num_1', 'hundred']],
    [101, ['num_1', 'hundred', 'num_1']],
    [115, ['num_1', 'hundred', 'num_15']],
    [999, ['num_9', 'hundred', 'num_90', 'num_9']],
    [1000, ['num_1', 'thousand']],
    [1001, ['num_1', 'thousand', 'num_1']],
    [20015, ['num_20', 'thousand', 'num_15']],
    [999999, ['num_9', 'hundred', 'num_90', 'num_9', 'thousand', 'num_9', 'hundred', 'num_90', 'num_9']],
    [1_000_000, ['num_1', 'million']],
    [2_000_305, ['num_2', 'million', 'num_3', 'hundred', 'num_5']],
    [999_999_999, ['num_9', 'hundred', 'num_90', 'num_9', 'million', 'num_9', 'hundred', 'num_90', 'num_9', 'thousand', 'num_9', 'hundred', 'num_90', 'num_9']],
  ];
  for (const [n, ids] of cases) {
    it(`says ${n} as ${ids.join(' ')}`, () => expect(say.number(n)).toEqual(ids));
  }

  it('rejects negatives, fractions, NaN and numbers above 999,999,999 with TypeError', () => {
    for (const n of [-1, 1.5, Number.NaN, 1_000_000_000]) expect(() => say.number(n)).toThrow(TypeError);
  });
});

describe('ordinal(n) says first..ninety-ninth', () => {
  it('says 1, 2, 3, 11, 12, 21, 30 and 31 each as one recorded word', () => {
    expect([1, 2, 3, 11, 12, 21, 30, 31].map((n) => say.ordinal(n))).toEqual(
      ['ord_1', 'ord_2', 'ord_3', 'ord_11', 'ord_12', 'ord_21', 'ord_30', 'ord_31'].map((id) => [id]),
    );
  });

  it('composes 32..99 from the tens and an ordinal unit, and says the round tens whole', () => {
    expect(say.ordinal(45)).toEqual(['num_40', 'ord_5']);
    expect(say.ordinal(99)).toEqual(['num_90', 'ord_9']);
    expect(say.ordinal(60)).toEqual(['ord_60']);
  });

  it('rejects 0 and 100 with TypeError', () => {
    expect(() => say.ordinal(0)).toThrow(TypeError);
    expect(() => say.ordinal(100)).toThrow(TypeError);
  });
});

describe('digits(s) says keypad characters one by one', () => {
  it('says a mailbox number digit by digit, zeros as "zero"', () => {
    expect(say.digits('27000')).toEqual(['num_2', 'num_7', 'num_0', 'num_0', 'num_0']);
  });

  it('says * as star and # as pound', () => {
    expect(say.digits('*9#')).toEqual(['star', 'num_9', 'pound']);
  });

  it('rejects anything that is not a keypad character', () => {
    expect(() => say.digits('12a')).toThrow(TypeError);
  });
});

describe('date(d, tz) says the calendar day in the given time zone', () => {
  it('says weekday, month and ordinal day: 2026-03-02 in New York is "Monday March second"', () => {
    expect(say.date(new Date('2026-03-02T20:45:00Z'), NY)).toEqual(['day_monday', 'month_march', 'ord_2']);
  });

  it('uses the zone, not UTC: 04:30 UTC on March 3 is still Monday March second in New York', () => {
    expect(say.date(new Date('2026-03-03T04:30:00Z'), NY)).toEqual(['day_monday', 'month_march', 'ord_2']);
    expect(say.date(new Date('2026-03-03T04:30:00Z'), 'UTC')).toEqual(['day_tuesday', 'month_march', 'ord_3']);
  });

  it('says "today" for the same local day and "yesterday" for the previous one when relativeTo is given', () => {
    const now = new Date('2026-03-03T05:30:00Z'); // 00:30 on March 3 in New York
    expect(say.date(new Date('2026-03-03T05:10:00Z'), NY, { relativeTo: now })).toEqual(['today']);
    // 23:30 on March 2 in New York: yesterday there, although the same UTC day.
    expect(say.date(new Date('2026-03-03T04:30:00Z'), NY, { relativeTo: now })).toEqual(['yesterday']);
    expect(say.date(new Date('2026-03-03T04:30:00Z'), 'UTC', { relativeTo: now })).toEqual(['today']);
  });

  it('says "yesterday" across a month end and the full date two days back', () => {
    const now = new Date('2026-03-01T15:00:00Z');
    expect(say.date(new Date('2026-02-28T12:00:00Z'), NY, { relativeTo: now })).toEqual(['yesterday']);
    expect(say.date(new Date('2026-02-27T12:00:00Z'), NY, { relativeTo: now })).toEqual(['day_friday', 'month_february', 'ord_27']);
  });

  it('rejects an unknown time zone and an invalid Date with TypeError', () => {
    expect(() => say.date(new Date(0), 'Mars/Olympus_Mons')).toThrow(TypeError);
    expect(() => say.date(new Date(Number.NaN), NY)).toThrow(TypeError);
  });
});

describe('time(d, tz) says the 12-hour wall-clock time in the given zone', () => {
  it('says 15:45 as "three forty-five PM"', () => {
    expect(say.time(new Date('2026-03-02T20:45:00Z'), NY)).toEqual(['num_3', 'num_40', 'num_5', 'pm']);
  });

  it('says 15:05 as "three oh five PM"', () => {
    expect(say.time(new Date('2026-03-02T20:05:00Z'), NY)).toEqual(['num_3', 'oh', 'num_5', 'pm']);
  });

  it('says 15:00 as "three o\'clock PM" and 09:10 as "nine ten AM"', () => {
    expect(say.time(new Date('2026-03-02T20:00:00Z'), NY)).toEqual(['num_3', 'oclock', 'pm']);
    expect(say.time(new Date('2026-03-02T14:10:00Z'), NY)).toEqual(['num_9', 'num_10', 'am']);
  });

  it('says noon as "twelve o\'clock PM", midnight as "twelve o\'clock AM", 00:07 as "twelve oh seven AM"', () => {
    expect(say.time(new Date('2026-03-02T12:00:00Z'), 'UTC')).toEqual(['num_12', 'oclock', 'pm']);
    expect(say.time(new Date('2026-03-02T00:00:00Z'), 'UTC')).toEqual(['num_12', 'oclock', 'am']);
    expect(say.time(new Date('2026-03-02T00:07:00Z'), 'UTC')).toEqual(['num_12', 'oh', 'num_7', 'am']);
  });

  it('follows daylight saving time: 20:45 UTC is 4:45 PM in New York in July', () => {
    expect(say.time(new Date('2026-07-06T20:45:00Z'), NY)).toEqual(['num_4', 'num_40', 'num_5', 'pm']);
  });
});

describe('duration(ms) says whole units, leaving zero units out', () => {
  it('says 150 s as "two minutes thirty seconds"', () => {
    expect(say.duration(150_000)).toEqual(['num_2', 'minutes', 'num_30', 'seconds']);
  });

  it('uses the singular for one: 61 s is "one minute one second", 3600 s "one hour"', () => {
    expect(say.duration(61_000)).toEqual(['num_1', 'minute', 'num_1', 'second']);
    expect(say.duration(3_600_000)).toEqual(['num_1', 'hour']);
  });

  it('rounds to the nearest second and says 0 as "zero seconds"', () => {
    expect(say.duration(4_600)).toEqual(['num_5', 'seconds']);
    expect(say.duration(0)).toEqual(['num_0', 'seconds']);
  });

  it('rejects negative and non-finite durations', () => {
    expect(() => say.duration(-1)).toThrow(TypeError);
    expect(() => say.duration(Number.POSITIVE_INFINITY)).toThrow(TypeError);
  });
});

describe('countPhrase(n, noun) says a counted noun with its plural', () => {
  it('says "one message" and "two messages"', () => {
    expect(say.countPhrase(1, 'message')).toEqual(['num_1', 'message']);
    expect(say.countPhrase(2, 'message')).toEqual(['num_2', 'messages']);
  });

  it('puts the adjective before the noun: "twenty-one new messages", "one urgent message"', () => {
    expect(say.countPhrase(21, 'new_message')).toEqual(['num_20', 'num_1', 'new', 'messages']);
    expect(say.countPhrase(1, 'urgent_message')).toEqual(['num_1', 'urgent', 'message']);
  });

  it('says zero as "no saved messages"', () => {
    expect(say.countPhrase(0, 'saved_message')).toEqual(['no', 'saved', 'messages']);
  });
});

describe('language selection', () => {
  it('rejects a language with no grammar module', () => {
    expect(() => createSay('xx-XX')).toThrow(TypeError);
  });

  it('returns only ids the grammar lists in promptIds', () => {
    const listed = new Set(say.promptIds);
    const said = [
      ...Array.from({ length: 1200 }, (_, n) => say.number(n * 977)).flat(),
      ...Array.from({ length: 99 }, (_, n) => say.ordinal(n + 1)).flat(),
      ...say.digits('0123456789*#'),
      ...Array.from({ length: 24 * 4 }, (_, q) => say.time(new Date(Date.UTC(2026, 0, 1, 0, q * 15 + 7)), 'UTC')).flat(),
      ...Array.from({ length: 12 }, (_, m) => say.date(new Date(Date.UTC(2026, m, 10 + m)), 'UTC')).flat(),
      ...say.date(new Date(0), 'UTC', { relativeTo: new Date(0) }),
      ...say.date(new Date(0), 'UTC', { relativeTo: new Date(86_400_000) }),
      ...say.duration(3_661_000),
      ...say.duration(7_322_000),
      ...(['message', 'new_message', 'saved_message', 'urgent_message', 'deleted_message'] as const).flatMap((noun) => [
        ...say.countPhrase(0, noun),
        ...say.countPhrase(1, noun),
        ...say.countPhrase(2, noun),
      ]),
    ];
    expect(said.filter((id) => !listed.has(id))).toEqual([]);
  });
});
