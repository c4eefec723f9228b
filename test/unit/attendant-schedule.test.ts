/*
 * The attendant's schedule (src/apps/attendant/schedule.ts): which menu answers at a given instant.
 *
 * Covers: the wall clock of an IANA time zone on both sides of a daylight-saving change (Europe/Stockholm
 * spring forward 30 March 2025 and fall back 26 October 2025; America/New_York), opening hours' edges (from
 * is open, to is closed), days of the week and wrapping day ranges, holiday dates every year ("12-25") and
 * on one date ("2026-04-03"), a schedule with both dates and hours, first match wins, the fallback menu.
 *
 * Does not cover: how a menu is then run (test/integration/attendant.test.ts); parsing errors of the
 * schedule keys (test/unit/attendant-check.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { localTime, scheduledMenu } from '../../src/apps/attendant/schedule.js';
import type { AttendantConfig } from '../../src/config/attendant-schema.js';

function attendant(yaml: string): AttendantConfig {
  return parseConfig(`attendants:\n  - ${yaml.trim().split('\n').join('\n    ')}\n`, '/srv').attendants[0]!;
}

const STOCKHOLM = attendant(`
timeZone: Europe/Stockholm
schedules:
  - { dates: ["12-25", "2026-04-03"], menu: holiday }
  - { dates: ["12-24"], hours: [{ days: [mon-sun], from: "08:00", to: "12:00" }], menu: half-day }
  - { hours: [{ days: [mon-fri], from: "08:00", to: "17:00" }, { days: [sat], from: "10:00", to: "14:00" }], menu: open }
menu: closed
menus:
  open: { greeting: [attendant_welcome], default: hangup }
  closed: { greeting: [attendant_welcome], default: hangup }
  holiday: { greeting: [attendant_welcome], default: hangup }
  half-day: { greeting: [attendant_welcome], default: hangup }
`);

const at = (iso: string): string => scheduledMenu(STOCKHOLM, Date.parse(iso)).menu;

describe('the wall clock of the time zone', () => {
  it('reads Stockholm as UTC+1 in winter and UTC+2 in summer', () => {
    expect(localTime(Date.parse('2025-01-15T07:00:00Z'), 'Europe/Stockholm')).toEqual({ year: 2025, month: 1, day: 15, weekday: 3, minutes: 8 * 60 });
    expect(localTime(Date.parse('2025-07-15T06:00:00Z'), 'Europe/Stockholm')).toEqual({ year: 2025, month: 7, day: 15, weekday: 2, minutes: 8 * 60 });
  });

  it('knows the local date when it differs from the UTC date', () => {
    expect(localTime(Date.parse('2025-03-01T02:30:00Z'), 'America/New_York')).toMatchObject({ month: 2, day: 28, weekday: 5, minutes: 21 * 60 + 30 });
  });
});

describe('opening hours across daylight saving time (Europe/Stockholm)', () => {
  // Monday 31 March 2025 is the first weekday after the spring change (CET → CEST, 30 March 01:00 UTC).
  it('opens at 08:00 local on the Friday before the spring change (07:00 UTC)', () => {
    expect(at('2025-03-28T06:59:00Z')).toBe('closed');
    expect(at('2025-03-28T07:00:00Z')).toBe('open');
  });

  it('opens at 08:00 local on the Monday after the spring change (06:00 UTC)', () => {
    expect(at('2025-03-31T05:59:00Z')).toBe('closed');
    expect(at('2025-03-31T06:00:00Z')).toBe('open');
    // 07:00 UTC is 09:00 local now: open, though it was the opening minute a week before.
    expect(at('2025-03-31T07:00:00Z')).toBe('open');
  });

  it('closes at 17:00 local either side of the autumn change (15:00 UTC, then 16:00 UTC)', () => {
    expect(at('2025-10-24T14:59:00Z')).toBe('open');
    expect(at('2025-10-24T15:00:00Z')).toBe('closed');
    expect(at('2025-10-27T15:59:00Z')).toBe('open');
    expect(at('2025-10-27T16:00:00Z')).toBe('closed');
  });
});

describe('days, holidays, first match', () => {
  it('is closed on Sunday and open on Saturday only in its own hours', () => {
    expect(at('2025-06-15T10:00:00Z')).toBe('closed'); // Sunday 12:00
    expect(at('2025-06-14T08:30:00Z')).toBe('open'); // Saturday 10:30
    expect(at('2025-06-14T12:00:00Z')).toBe('closed'); // Saturday 14:00
  });

  it('takes a yearly holiday over business hours, any year, all day', () => {
    expect(at('2025-12-25T09:00:00Z')).toBe('holiday'); // Thursday 10:00
    expect(at('2031-12-25T12:00:00Z')).toBe('holiday');
    expect(at('2031-12-25T22:59:00Z')).toBe('holiday'); // 23:59 local
    expect(at('2031-12-25T23:00:00Z')).toBe('closed'); // Friday 26 December, 00:00 local
  });

  it('takes a dated holiday only in its year', () => {
    expect(at('2026-04-03T08:00:00Z')).toBe('holiday'); // Good Friday 2026, 10:00
    expect(at('2027-04-03T08:00:00Z')).toBe('open'); // Saturday 3 April 2027, 10:00: ordinary Saturday hours
  });

  it('with dates and hours, needs both: on Christmas Eve the half-day menu answers in its hours only', () => {
    expect(at('2025-12-24T08:00:00Z')).toBe('half-day'); // Wednesday 09:00
    // 13:00: past the half-day's hours; the next schedule, ordinary business hours, answers.
    expect(at('2025-12-24T12:00:00Z')).toBe('open');
    expect(at('2025-12-23T08:00:00Z')).toBe('open'); // the day before: not the date
  });
});

describe('scheduledMenu', () => {
  it('says which schedule matched, or none for the fallback menu', () => {
    expect(scheduledMenu(STOCKHOLM, Date.parse('2025-06-11T08:00:00Z'))).toMatchObject({ menu: 'open', rule: 2 });
    expect(scheduledMenu(STOCKHOLM, Date.parse('2025-06-11T20:00:00Z')).rule).toBeUndefined();
  });

  it('understands a day range that wraps the week end (fri-mon)', () => {
    const a = attendant(`
timeZone: UTC
schedules: [{ hours: [{ days: [fri-mon], from: "00:00", to: "24:00" }], menu: weekend }]
menu: week
menus:
  weekend: { greeting: [attendant_welcome], default: hangup }
  week: { greeting: [attendant_welcome], default: hangup }
`);
    const days = ['2025-06-09', '2025-06-10', '2025-06-11', '2025-06-12', '2025-06-13', '2025-06-14', '2025-06-15'].map((d) => scheduledMenu(a, Date.parse(`${d}T23:59:00Z`)).menu);
    expect(days).toEqual(['weekend', 'week', 'week', 'week', 'weekend', 'weekend', 'weekend']);
  });
});
