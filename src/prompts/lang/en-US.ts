/**
 * US English grammar for the say-engine: word tables and the rules that join them.
 *
 * Conventions (what an American voicemail system says):
 * - Numbers without "and": 101 "one hundred one", 20,015 "twenty thousand fifteen"; 21 is two prompts,
 *   "twenty" "one" (the recorded set stays small: 0-19, the tens, hundred, thousand, million).
 * - Dates as "Monday March third" (weekday, month, ordinal day); the year is not said.
 * - Times on the 12-hour clock: 3:45 "three forty-five PM", 3:05 "three oh five PM", 3:00 "three o'clock PM",
 *   noon "twelve o'clock PM", midnight "twelve o'clock AM", 0:07 "twelve oh seven AM".
 * - Durations by unit, zero units left out: 150 s "two minutes thirty seconds", 3600 s "one hour", 0 "zero seconds".
 * - Counts: 1 "one message", 2 "two new messages", 0 "no new messages".
 *
 * Every id returned here is in prompts/en-US/prompts.yaml (test/unit/prompts-catalog.test.ts checks).
 */
import type { CalendarDay, ClockTime, CountNoun, DurationParts, Grammar } from '../say.js';

/** 0..19 and the tens, by value. */
const NUMBER_WORDS: Record<number, string> = {};
for (let n = 0; n < 20; n++) NUMBER_WORDS[n] = `num_${n}`;
for (let n = 20; n < 100; n += 10) NUMBER_WORDS[n] = `num_${n}`;

/** Ordinals recorded whole: first..thirty-first, and the tens (fortieth..ninetieth) to build up to 99th. */
const ORDINAL_WORDS: Record<number, string> = {};
for (let n = 1; n <= 31; n++) ORDINAL_WORDS[n] = `ord_${n}`;
for (let n = 40; n < 100; n += 10) ORDINAL_WORDS[n] = `ord_${n}`;

/** Scale words, largest first. */
const SCALES: ReadonlyArray<readonly [number, string]> = [
  [1_000_000, 'million'],
  [1_000, 'thousand'],
];

const KEY_WORDS: Record<string, string> = { '*': 'star', '#': 'pound' };

/** Index 0 = Sunday, as CalendarDay.weekday. */
const WEEKDAY_WORDS = ['day_sunday', 'day_monday', 'day_tuesday', 'day_wednesday', 'day_thursday', 'day_friday', 'day_saturday'];
/** Index 0 = January. */
const MONTH_WORDS = [
  'month_january', 'month_february', 'month_march', 'month_april', 'month_may', 'month_june',
  'month_july', 'month_august', 'month_september', 'month_october', 'month_november', 'month_december',
];

/** [singular, plural] of each unit, and the words before a counted noun. */
const UNIT_WORDS = { hour: ['hour', 'hours'], minute: ['minute', 'minutes'], second: ['second', 'seconds'] } as const;
const COUNT_NOUNS: Record<CountNoun, { before: string[]; singular: string; plural: string }> = {
  message: { before: [], singular: 'message', plural: 'messages' },
  new_message: { before: ['new'], singular: 'message', plural: 'messages' },
  saved_message: { before: ['saved'], singular: 'message', plural: 'messages' },
  urgent_message: { before: ['urgent'], singular: 'message', plural: 'messages' },
  deleted_message: { before: ['deleted'], singular: 'message', plural: 'messages' },
};

/** 1..999 */
function underThousand(n: number): string[] {
  const out: string[] = [];
  const hundreds = Math.floor(n / 100);
  const rest = n % 100;
  if (hundreds > 0) out.push(NUMBER_WORDS[hundreds]!, 'hundred');
  if (rest >= 20) {
    out.push(NUMBER_WORDS[rest - (rest % 10)]!);
    if (rest % 10 > 0) out.push(NUMBER_WORDS[rest % 10]!);
  } else if (rest > 0) {
    out.push(NUMBER_WORDS[rest]!);
  }
  return out;
}

function number(n: number): string[] {
  if (n === 0) return [NUMBER_WORDS[0]!];
  const out: string[] = [];
  let rest = n;
  for (const [scale, word] of SCALES) {
    const count = Math.floor(rest / scale);
    if (count > 0) out.push(...underThousand(count), word);
    rest %= scale;
  }
  if (rest > 0) out.push(...underThousand(rest));
  return out;
}

function ordinal(n: number): string[] {
  const whole = ORDINAL_WORDS[n];
  if (whole) return [whole];
  // 32..99 not a multiple of ten: "forty" "fifth", "ninety" "ninth".
  return [NUMBER_WORDS[n - (n % 10)]!, ORDINAL_WORDS[n % 10]!];
}

function time({ hour, minute }: ClockTime): string[] {
  const hour12 = hour % 12 === 0 ? 12 : hour % 12;
  const meridiem = hour < 12 ? 'am' : 'pm';
  const out = number(hour12);
  if (minute === 0) out.push('oclock');
  else if (minute < 10) out.push('oh', NUMBER_WORDS[minute]!);
  else out.push(...number(minute));
  out.push(meridiem);
  return out;
}

function unit(n: number, words: readonly [string, string]): string[] {
  return [...number(n), n === 1 ? words[0] : words[1]];
}

function duration({ hours, minutes, seconds }: DurationParts): string[] {
  const out: string[] = [];
  if (hours > 0) out.push(...unit(hours, UNIT_WORDS.hour));
  if (minutes > 0) out.push(...unit(minutes, UNIT_WORDS.minute));
  if (seconds > 0 || out.length === 0) out.push(...unit(seconds, UNIT_WORDS.second));
  return out;
}

function countPhrase(n: number, noun: CountNoun): string[] {
  const w = COUNT_NOUNS[noun];
  return [...(n === 0 ? ['no'] : number(n)), ...w.before, n === 1 ? w.singular : w.plural];
}

function date(day: CalendarDay): string[] {
  return [WEEKDAY_WORDS[day.weekday]!, MONTH_WORDS[day.month - 1]!, ...ordinal(day.day)];
}

const PROMPT_IDS = [
  ...new Set([
    ...Object.values(NUMBER_WORDS),
    ...Object.values(ORDINAL_WORDS),
    ...SCALES.map(([, word]) => word),
    'hundred',
    ...Object.values(KEY_WORDS),
    ...WEEKDAY_WORDS,
    ...MONTH_WORDS,
    'today',
    'yesterday',
    'am',
    'pm',
    'oclock',
    'oh',
    ...Object.values(UNIT_WORDS).flat(),
    'no',
    ...Object.values(COUNT_NOUNS).flatMap((w) => [...w.before, w.singular, w.plural]),
  ]),
];

export const enUS: Grammar = {
  tag: 'en-US',
  promptIds: PROMPT_IDS,
  number,
  ordinal,
  digit: (ch) => KEY_WORDS[ch] ?? NUMBER_WORDS[Number(ch)]!,
  date,
  relativeDay: (which) => [which],
  time,
  duration,
  countPhrase,
};
