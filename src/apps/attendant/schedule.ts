/**
 * Which menu answers now: the attendant's schedules in order, the first that matches wins, else its fallback
 * menu. A schedule matches on its dates (holidays; "MM-DD" every year) and/or within its weekly opening
 * hours, both read on the wall clock of the attendant's IANA time zone. The time zone's rules (daylight
 * saving time included) come from Intl: 08:00 is 08:00 local on either side of a clock change.
 *
 * Pure: the instant comes in (the context's clock), the menu name goes out.
 */
import type { AttendantConfig, DateRule, OpeningHours, ScheduleRule } from '../../config/attendant-schema.js';
import { calendarDay, clockTime } from '../../prompts/say.js';

/** A wall-clock reading in some time zone. */
export interface LocalTime {
  year: number;
  /** 1..12 */
  month: number;
  /** 1..31 */
  day: number;
  /** 0 = Sunday .. 6 = Saturday */
  weekday: number;
  /** Minutes since local midnight, 0..1439. */
  minutes: number;
}

/** The wall clock at `ms` (since epoch) in `timeZone` (the say-engine's zone arithmetic). Throws TypeError for an unknown zone. */
export function localTime(ms: number, timeZone: string): LocalTime {
  const d = new Date(ms);
  const day = calendarDay(d, timeZone);
  const time = clockTime(d, timeZone);
  return { year: day.year, month: day.month, day: day.day, weekday: day.weekday, minutes: (time.hour % 24) * 60 + time.minute };
}

const onDate = (d: DateRule, t: LocalTime): boolean => d.month === t.month && d.day === t.day && (d.year === undefined || d.year === t.year);
const withinHours = (h: OpeningHours, t: LocalTime): boolean => h.days.includes(t.weekday) && t.minutes >= h.fromMin && t.minutes < h.toMin;

export function ruleMatches(rule: ScheduleRule, t: LocalTime): boolean {
  if (rule.dates.length > 0 && !rule.dates.some((d) => onDate(d, t))) return false;
  if (rule.hours.length > 0 && !rule.hours.some((h) => withinHours(h, t))) return false;
  return rule.dates.length > 0 || rule.hours.length > 0;
}

export interface ScheduledMenu {
  menu: string;
  /** Index of the schedule that matched; undefined: the fallback menu. */
  rule?: number;
  local: LocalTime;
}

/** The menu that answers at `ms`. */
export function scheduledMenu(a: Pick<AttendantConfig, 'schedules' | 'menu' | 'timeZone'>, ms: number): ScheduledMenu {
  const local = localTime(ms, a.timeZone);
  const rule = a.schedules.findIndex((r) => ruleMatches(r, local));
  return rule >= 0 ? { menu: a.schedules[rule]!.menu, rule, local } : { menu: a.menu, local };
}
