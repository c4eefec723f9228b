/**
 * The `attendants` config section (issue 5): per attendant pilot, a time zone, schedules that pick a menu, the
 * menus (greeting + key actions + retries + default action), the numbers callers may reach, the directory, the
 * prompt languages and who may record greetings by phone.
 *
 *   attendants:
 *     - pilots: ["43333"]
 *       timeZone: Europe/Stockholm
 *       operator: "27000"
 *       extensions: ["27000-27999"]
 *       schedules:                                    # first match wins
 *         - { dates: ["12-25", "2026-04-03"], menu: closed }
 *         - { hours: [{ days: [mon-fri], from: "08:00", to: "17:00" }], menu: main }
 *       menu: closed                                  # when no schedule matches
 *       menus:
 *         main:
 *           greeting: [{ slot: 1, otherwise: [attendant_welcome] }, attendant_menu]
 *           keys: { "1": { menu: sales }, "9": dial-by-name, "0": operator, "*": admin }
 *           dialExtensions: true
 *           default: operator
 *
 * Pure, like schema.ts: values are read by attendant-fields.ts; menu checks that need no file system run here
 * (attendant-check.ts); prompt folders and greeting files are checked by load.ts. The small zod helpers are repeated from schema.ts rather than
 * imported, because schema.ts imports this module.
 */
import { z } from 'zod';
import type { Parsed } from './fields.js';
import { checkMenus } from './attendant-check.js';
import { dialText, isMapping, MENU_NAME, NUMBER_PATTERN, parseAction, parseDate, parseDays, parseClock, parseGreetingItem, parseNumberRange } from './attendant-fields.js';

/** Keys a menu can bind. */
export const MENU_KEYS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#'] as const;
export type MenuKey = (typeof MENU_KEYS)[number];

/** What a key (or a menu's default) does. */
export type MenuAction =
  /** Go to another menu. */
  | { kind: 'menu'; menu: string }
  /** Transfer to a fixed number (still subject to the transfer guard). */
  | { kind: 'transfer'; number: string }
  /** Leave a message in this mailbox. */
  | { kind: 'message'; mailbox: string }
  /** Ask for an extension, then transfer to it. */
  | { kind: 'dial-by-extension' }
  /** Spell a name on the keypad, then transfer. */
  | { kind: 'dial-by-name' }
  /** Transfer to the attendant's operator number. */
  | { kind: 'operator' }
  /** Say this menu again (does not count as a failure). */
  | { kind: 'repeat' }
  /** Say goodbye and hang up. */
  | { kind: 'hangup' }
  /** Record company and menu greetings (an administrator mailbox's PIN first). */
  | { kind: 'admin' };

/** A greeting is said item by item. */
export type GreetingItem =
  /** A prompt id of the caller's language. */
  | { prompt: string }
  /** A WAV file (8 kHz); absolute once loaded. */
  | { file: string }
  /** A greeting recorded by phone (greeting-admin); `otherwise` plays while the slot is empty. */
  | { slot: number; otherwise: ({ prompt: string } | { file: string })[] };

export interface MenuConfig {
  greeting: GreetingItem[];
  keys: Partial<Record<MenuKey, MenuAction>>;
  /** Digits not bound to a key start an extension number (dial-by-extension from the menu itself). */
  dialExtensions: boolean;
  /** Time for a key after the greeting, ms. */
  timeoutMs: number;
  /** Tries after the first when no key or an invalid key comes; then `default`. */
  retries: number;
  default: MenuAction;
}

/** Opening hours on some days of the week, minutes from local midnight [from, to). */
export interface OpeningHours {
  /** 0 = Sunday .. 6 = Saturday. */
  days: number[];
  fromMin: number;
  toMin: number;
}

/** A calendar date, every year when `year` is absent. */
export interface DateRule {
  year?: number;
  month: number;
  day: number;
}

export interface ScheduleRule {
  /** Matches on these dates (any time of day) ... */
  dates: DateRule[];
  /** ... and/or within these hours (both given: both must hold). */
  hours: OpeningHours[];
  menu: string;
}

export interface AttendantConfig {
  /** Attendant pilots this entry serves; empty: every pilot of services.attendant no other entry names. */
  pilots: string[];
  /** IANA time zone of the schedules. */
  timeZone: string;
  /** Prompt languages offered; more than one: a language-choice menu first. Empty: prompts.language. */
  languages: string[];
  /** The number 'operator' transfers to. */
  operator?: string;
  /** Number ranges dial-by-extension accepts besides mailbox numbers ("27000-27999", or one number). */
  extensions: { from: string; to: string }[];
  /** Patterns transfers must match (toll-fraud guard); empty: mailbox numbers, `extensions` and the operator. */
  allowedTransfers: string[];
  /** Time between digits of an extension or a spelled name, ms. */
  interDigitMs: number;
  /** Longest wait for a transfer's outcome (REFER NOTIFY or supervised ring), s. */
  transferTimeoutS: number;
  directory: { searchBy: 'last' | 'first' | 'both'; maxMatches: number };
  /** Mailboxes whose owners may record greetings by phone (the 'admin' action). */
  admins: string[];
  schedules: ScheduleRule[];
  /** The menu when no schedule matches. */
  menu: string;
  menus: Record<string, MenuConfig>;
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(message: string): Parsed<T> => ({ ok: false, message });

function section<T extends z.ZodRawShape>(shape: T) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown key (allowed here: ${allowed})` : undefined),
  });
}

/** A value run through a parser of this file; its message becomes the issue. */
function parsed<T>(parse: (v: unknown) => Parsed<T>) {
  return z.unknown().transform((v, ctx): T => {
    const r = parse(v);
    if (r.ok) return r.value;
    ctx.addIssue({ code: 'custom', message: r.message, input: v });
    return z.NEVER;
  });
}

const dialNumber = parsed<string>((v) => {
  const text = dialText(v);
  return text !== undefined ? ok(text) : fail(`"${String(v)}" is not a number (digits, * and #, optionally after +)`);
});

const textList = <T>(parse: (t: string) => Parsed<T>, what: string) =>
  z.array(
    parsed<T>((v) => {
      const text = typeof v === 'number' ? String(v) : v;
      return typeof text === 'string' ? parse(text) : fail(`expected ${what}`);
    }),
  );

const hoursSchema = section({
  days: z.array(z.string()).min(1, 'needs at least one day').transform((list, ctx) => {
    const days = new Set<number>();
    list.forEach((d, i) => {
      const r = parseDays(d);
      if (r.ok) r.value.forEach((n) => days.add(n));
      else ctx.addIssue({ code: 'custom', path: [i], message: r.message, input: d });
    });
    return [...days].sort();
  }),
  from: z.string().transform((t, ctx) => clock(t, ctx)),
  to: z.string().transform((t, ctx) => clock(t, ctx)),
}).transform((h, ctx): OpeningHours => {
  if (h.from >= h.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from (split hours across midnight into two entries)', input: h });
  return { days: h.days, fromMin: h.from, toMin: h.to };
});

function clock(text: string, ctx: z.RefinementCtx): number {
  const r = parseClock(text);
  if (r.ok) return r.value;
  ctx.addIssue({ code: 'custom', message: r.message, input: text });
  return z.NEVER;
}

const scheduleSchema = section({
  dates: textList(parseDate, 'a date').default([]),
  hours: z.array(hoursSchema).default([]),
  menu: z.string().regex(MENU_NAME, 'expected a menu name'),
}).superRefine((s, ctx) => {
  if (s.dates.length === 0 && s.hours.length === 0) ctx.addIssue({ code: 'custom', message: 'needs dates or hours (or both)', input: s });
});

/** The menu a pilot gets when nothing is configured: welcome, dial an extension, goodbye. */
export const DEFAULT_MENU = {
  greeting: [{ prompt: 'attendant_welcome' }, { prompt: 'attendant_menu' }],
  keys: {},
  dialExtensions: true,
  timeoutMs: 5000,
  retries: 2,
  default: { kind: 'hangup' },
} as const satisfies MenuConfig;

const menuSchema = section({
  greeting: z.array(parsed(parseGreetingItem)).min(1, 'needs at least one item'),
  keys: z
    .record(z.string(), parsed(parseAction))
    .superRefine((keys, ctx) => {
      for (const k of Object.keys(keys)) {
        if (!(MENU_KEYS as readonly string[]).includes(k)) ctx.addIssue({ code: 'custom', path: [k], message: `"${k}" is not a key (0-9, * or #; quote * and #)`, input: k });
      }
    })
    .default({})
    .transform((k) => k as Partial<Record<MenuKey, MenuAction>>),
  dialExtensions: z.boolean().default(false),
  timeoutMs: z.number().int().min(500, 'must be at least 500').max(60_000, 'must be at most 60000').default(DEFAULT_MENU.timeoutMs),
  retries: z.number().int().min(0, 'must be 0 or more').max(9, 'must be at most 9').default(DEFAULT_MENU.retries),
  default: parsed(parseAction).default(DEFAULT_MENU.default),
});

const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'is not an IANA time zone (e.g. Europe/Stockholm)');

/** The attendant keys checkMenus reads. */
const MENU_CHECK_FIELDS = new Set(['menus', 'menu', 'schedules', 'operator', 'admins']);

export const attendantSchema = section({
  pilots: z.array(dialNumber).default([]),
  timeZone: timeZone.default(() => Intl.DateTimeFormat().resolvedOptions().timeZone),
  languages: z.array(z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a language tag such as en-US')).default([]),
  operator: dialNumber.optional(),
  extensions: textList(parseNumberRange, 'a number range').default([]),
  allowedTransfers: z.array(z.union([z.string(), z.number()]).transform(String).pipe(z.string().regex(NUMBER_PATTERN, 'is not a number pattern (digits, X, N, Z, a trailing ".", or a range "27000-27999")'))).default([]),
  interDigitMs: z.number().int().min(500, 'must be at least 500').max(10_000, 'must be at most 10000').default(3000),
  transferTimeoutS: z.number().int().min(5, 'must be at least 5').max(300, 'must be at most 300').default(40),
  directory: section({
    searchBy: z.enum(['last', 'first', 'both'], { error: 'must be last, first or both' }).default('both'),
    maxMatches: z.number().int().min(1, 'must be at least 1').max(9, 'must be at most 9 (one key each)').default(8),
  }).prefault({}),
  admins: z.array(dialNumber).default([]),
  schedules: z.array(scheduleSchema).default([]),
  menu: z.string().regex(MENU_NAME, 'expected a menu name').default('main'),
  menus: z
    .record(z.string().regex(MENU_NAME, 'a menu name is letters, digits, - and _'), menuSchema)
    .default(() => ({ main: structuredClone(DEFAULT_MENU) as MenuConfig })),
}).superRefine(
  (a, ctx) => {
    for (const issue of checkMenus(a)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message, input: a });
  },
  // Also when other keys of this attendant have issues (every issue at once), as long as what the menu checks
  // read has parsed.
  { when: (payload) => typeof payload.value === 'object' && payload.value !== null && !payload.issues.some((i) => MENU_CHECK_FIELDS.has(String(i.path?.[0]))) },
);

export const attendantsSchema = z
  .array(attendantSchema)
  .superRefine(
    (list, ctx) => {
      const claimed = new Map<string, number>();
      let catchAll: number | undefined;
      list.forEach((a, i) => {
        if (!isMapping(a) || !Array.isArray(a.pilots)) return;
        if (a.pilots.length === 0) {
          if (catchAll !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'pilots'], message: `attendants[${catchAll}] already serves every other pilot; name this one's pilots`, input: a });
          catchAll ??= i;
        }
        a.pilots.forEach((p, k) => {
          const first = claimed.get(p);
          if (first === undefined) claimed.set(p, i);
          else ctx.addIssue({ code: 'custom', path: [i, 'pilots', k], message: `"${p}" is already served by attendants[${first}]`, input: p });
        });
      });
    },
    { when: (payload) => Array.isArray(payload.value) },
  )
  .default([]);

/** The attendant a pilot that no entry configures gets. */
export function defaultAttendant(): AttendantConfig {
  return attendantSchema.parse({});
}

/** The attendant serving `pilot`: the entry naming it, else the entry with no pilots, else the default one. */
export function attendantFor(attendants: readonly AttendantConfig[], pilot: string): AttendantConfig {
  return attendants.find((a) => a.pilots.includes(pilot)) ?? attendants.find((a) => a.pilots.length === 0) ?? defaultAttendant();
}

/** Applies `f` to every greeting file name (load.ts resolves them against the config file's folder). */
export function mapGreetingFiles(attendants: readonly AttendantConfig[], f: (file: string) => string): AttendantConfig[] {
  const item = <T extends GreetingItem>(g: T): T =>
    ('file' in g ? { ...g, file: f(g.file) } : 'slot' in g ? { ...g, otherwise: g.otherwise.map(item) } : g) as T;
  return attendants.map((a) => ({
    ...a,
    menus: Object.fromEntries(Object.entries(a.menus).map(([name, m]) => [name, { ...m, greeting: m.greeting.map(item) }])),
  }));
}

/** Each attendants[].pilots entry must be an attendant pilot (services.attendant), or no call would reach it. */
export function checkAttendantPilots(config: { services?: unknown; attendants?: unknown }, ctx: z.RefinementCtx): void {
  const services = isMapping(config.services) ? config.services.attendant : undefined;
  if (!Array.isArray(services) || !Array.isArray(config.attendants)) return;
  config.attendants.forEach((a: unknown, i) => {
    if (!isMapping(a) || !Array.isArray(a.pilots)) return;
    a.pilots.forEach((p: unknown, k) => {
      if (typeof p === 'string' && !services.includes(p)) {
        ctx.addIssue({ code: 'custom', path: ['attendants', i, 'pilots', k], message: `"${p}" is not an attendant pilot (services.attendant: ${services.join(', ') || 'none'})`, input: p });
      }
    });
  });
}
