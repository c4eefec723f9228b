/**
 * The say-engine: turns numbers, dates, times and durations into lists of prompt ids for the player.
 *
 * Language-independent part only: argument checks, time zones (Intl, no extra dependency), "today" /
 * "yesterday", splitting a duration. Everything a language decides -- word order, how 21 or 3:05 is said,
 * plurals -- lives in a grammar module under lang/ (tables plus a few short functions), chosen by its tag.
 * Adding a language is one file there, one line in GRAMMARS, and its prompts/<tag>/ folder.
 *
 * Not here: audio (catalog.ts), playing (media/player), which sentence an app says (apps/).
 */
import { enUS } from './lang/en-US.js';

/** A calendar day as seen in some time zone. */
export interface CalendarDay {
  year: number;
  /** 1..12 */
  month: number;
  /** 1..31 */
  day: number;
  /** 0 = Sunday .. 6 = Saturday */
  weekday: number;
}

/** A wall-clock time as seen in some time zone, 24-hour. */
export interface ClockTime {
  /** 0..23 */
  hour: number;
  /** 0..59 */
  minute: number;
}

/** A duration split into whole units (seconds rounded to the nearest). */
export interface DurationParts {
  hours: number;
  /** 0..59 */
  minutes: number;
  /** 0..59 */
  seconds: number;
}

/** Things counted in phrases like "two new messages" (each language has a word table for every one). */
export type CountNoun = 'message' | 'new_message' | 'saved_message' | 'urgent_message' | 'deleted_message';

/** What a language module provides. Arguments are already checked; functions return prompt ids. */
export interface Grammar {
  /** BCP 47 tag, also the prompts/<tag>/ folder. */
  readonly tag: string;
  /** Every prompt id any function below can return (the catalog test checks each has a WAV). */
  readonly promptIds: readonly string[];
  /** An integer 0..999,999,999. */
  number(n: number): string[];
  /** An integer 1..99. */
  ordinal(n: number): string[];
  /** One keypad character: 0-9, * or #. */
  digit(ch: string): string;
  /** A day not today or yesterday. */
  date(day: CalendarDay): string[];
  /** The word for today or yesterday. */
  relativeDay(which: 'today' | 'yesterday'): string[];
  time(clock: ClockTime): string[];
  duration(parts: DurationParts): string[];
  countPhrase(n: number, noun: CountNoun): string[];
}

export interface DateOptions {
  /** Say "today" or "yesterday" when `d` falls on the same or the previous calendar day as `now` (in tz). Default: never. */
  relativeTo?: Date;
}

/** The say-engine for one language. Every method throws TypeError on an argument out of its range. */
export interface Say {
  readonly tag: string;
  readonly promptIds: readonly string[];
  /** 0..999,999,999. */
  number(n: number): string[];
  /** 1..99 ("first", "thirty-first"). */
  ordinal(n: number): string[];
  /** Each character of a string of keypad digits (0-9, *, #) one by one: "27000" -> two seven zero zero zero. */
  digits(s: string): string[];
  /** The calendar day of `d` in IANA time zone `tz`, e.g. "Monday March third". */
  date(d: Date, tz: string, options?: DateOptions): string[];
  /** The wall-clock time of `d` in `tz`, e.g. "three forty-five PM". */
  time(d: Date, tz: string): string[];
  /** A duration, rounded to the second, e.g. "two minutes thirty seconds". */
  duration(ms: number): string[];
  /** "one message", "two new messages", "no saved messages". n is 0..999,999,999. */
  countPhrase(n: number, noun: CountNoun): string[];
}

const GRAMMARS: Record<string, Grammar> = { 'en-US': enUS };

/** Tags of the languages the say-engine knows. */
export function sayLanguages(): string[] {
  return Object.keys(GRAMMARS);
}

/** The say-engine for `tag`. Throws TypeError for a language without a grammar module. */
export function createSay(tag: string): Say {
  const grammar = GRAMMARS[tag];
  if (!grammar) throw new TypeError(`no say-engine grammar for language ${JSON.stringify(tag)}`);
  return sayWith(grammar);
}

/** A say-engine over any grammar (for languages registered elsewhere, and tests). */
export function sayWith(g: Grammar): Say {
  return {
    tag: g.tag,
    promptIds: g.promptIds,
    number: (n) => g.number(checkInteger(n, 0, MAX_NUMBER, 'number')),
    ordinal: (n) => g.ordinal(checkInteger(n, 1, 99, 'ordinal')),
    digits(s) {
      if (!/^[0-9*#]*$/.test(s)) throw new TypeError(`digits: ${JSON.stringify(s)} is not a string of 0-9, * and #`);
      return [...s].map((ch) => g.digit(ch));
    },
    date(d, tz, options = {}) {
      const day = calendarDay(checkDate(d), tz);
      if (options.relativeTo) {
        const today = calendarDay(checkDate(options.relativeTo), tz);
        const diff = dayNumber(today) - dayNumber(day);
        if (diff === 0) return g.relativeDay('today');
        if (diff === 1) return g.relativeDay('yesterday');
      }
      return g.date(day);
    },
    time: (d, tz) => g.time(clockTime(checkDate(d), tz)),
    duration(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new TypeError(`duration: ${ms} is not a duration in ms`);
      const total = Math.round(ms / 1000);
      return g.duration({ hours: Math.floor(total / 3600), minutes: Math.floor(total / 60) % 60, seconds: total % 60 });
    },
    countPhrase: (n, noun) => g.countPhrase(checkInteger(n, 0, MAX_NUMBER, 'countPhrase'), noun),
  };
}

const MAX_NUMBER = 999_999_999;

function checkInteger(n: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(n) || n < min || n > max) throw new TypeError(`${what}: ${n} is not an integer ${min}..${max}`);
  return n;
}

function checkDate(d: Date): Date {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new TypeError(`${String(d)} is not a valid Date`);
  return d;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
/** One formatter per time zone: building an Intl.DateTimeFormat costs far more than using one. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function parts(d: Date, tz: string): Record<string, string> {
  let f = formatters.get(tz);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: tz,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        weekday: 'short',
        hour: 'numeric',
        minute: 'numeric',
      });
    } catch {
      throw new TypeError(`unknown time zone ${JSON.stringify(tz)}`);
    }
    formatters.set(tz, f);
  }
  const out: Record<string, string> = {};
  for (const p of f.formatToParts(d)) out[p.type] = p.value;
  return out;
}

/** The calendar day of `d` in time zone `tz`. */
export function calendarDay(d: Date, tz: string): CalendarDay {
  const p = parts(d, tz);
  return { year: Number(p.year), month: Number(p.month), day: Number(p.day), weekday: WEEKDAYS.indexOf(p.weekday!) };
}

/** The 24-hour wall-clock time of `d` in time zone `tz`. */
export function clockTime(d: Date, tz: string): ClockTime {
  const p = parts(d, tz);
  return { hour: Number(p.hour), minute: Number(p.minute) };
}

/** Days since 1970-01-01 of a calendar day, to compare days across month and year ends. */
function dayNumber(day: CalendarDay): number {
  return Date.UTC(day.year, day.month - 1, day.day) / 86_400_000;
}
