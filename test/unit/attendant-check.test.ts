/*
 * Validation of the `attendants` config section (src/config/attendant-schema.ts, attendant-check.ts, wired
 * through schema.ts and load.ts, so `vmpilot check` and start-up report the same), and pbx[].transfer.
 *
 * Covers: a full attendant read into its normalized form; the default attendant; each menu error at its path
 * and line: a key without an action, a key or schedule naming a missing menu, an unreachable menu, loops
 * without exit (defaults going round, a default of repeat), operator/admin with nothing to do; bad keys,
 * actions, days, times, dates, ranges and patterns; pilots that are not attendant pilots or are served
 * twice; languages without a prompts/<lang> folder (and a second language that has one accepted); greeting
 * prompt ids missing from a language and greeting files that do not exist; pbx[].transfer.
 *
 * Does not cover: running menus (test/integration/attendant.test.ts), the CLI's output (cli tests).
 */
import { cpSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, type ConfigIssue } from '../../src/config/load.js';
import { checkMenus } from '../../src/config/attendant-check.js';
import { defaultAttendant } from '../../src/config/attendant-schema.js';

const BASE = '/srv/vmpilot';
/** A config folder holding a greeting file. */
const DIR = mkdtempSync(join(tmpdir(), 'vmpilot-attendant-check-'));
writeFileSync(join(DIR, 'hello.wav'), 'RIFF');

function issuesOf(yaml: string, baseDir = BASE): ConfigIssue[] {
  try {
    parseConfig(yaml, baseDir);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigError, but the config was accepted');
}

const paths = (yaml: string): string[] => issuesOf(yaml).map((i) => i.path);
const oneAttendant = (body: string): string => `attendants:\n  - ${body.trim().split('\n').join('\n    ')}\n`;

describe('reading an attendant', () => {
  it('normalizes schedules, menus, actions and greetings', () => {
    const c = parseConfig(
      oneAttendant(`
pilots: ["8001"]
timeZone: Europe/Stockholm
operator: 27000
extensions: ["27000-27999", 3000]
allowedTransfers: ["27XXX", 3000]
admins: ["27000"]
schedules:
  - { dates: ["12-25", "2026-04-03"], menu: main }
  - { hours: [{ days: [mon-fri, sun], from: "08:00", to: "17:30" }], menu: main }
menus:
  main:
    greeting: [{ slot: 1, otherwise: [attendant_welcome] }, attendant_menu, { file: hello.wav }]
    keys: { 1: { menu: main }, "2": { transfer: "+46870001" }, "3": { message: 27000 }, "9": dial-by-name, "0": operator, "*": admin, "#": repeat }
    dialExtensions: true
    default: operator
`),
      DIR,
    );
    const a = c.attendants[0]!;
    expect(a).toMatchObject({ pilots: ['8001'], operator: '27000', extensions: [{ from: '27000', to: '27999' }, { from: '3000', to: '3000' }], allowedTransfers: ['27XXX', '3000'] });
    expect(a.schedules).toEqual([
      { dates: [{ month: 12, day: 25 }, { year: 2026, month: 4, day: 3 }], hours: [], menu: 'main' },
      { dates: [], hours: [{ days: [0, 1, 2, 3, 4, 5], fromMin: 480, toMin: 1050 }], menu: 'main' },
    ]);
    expect(a.menus.main!.greeting).toEqual([{ slot: 1, otherwise: [{ prompt: 'attendant_welcome' }] }, { prompt: 'attendant_menu' }, { file: join(DIR, 'hello.wav') }]);
    expect(a.menus.main!.keys).toEqual({
      1: { kind: 'menu', menu: 'main' },
      2: { kind: 'transfer', number: '+46870001' },
      3: { kind: 'message', mailbox: '27000' },
      9: { kind: 'dial-by-name' },
      0: { kind: 'operator' },
      '*': { kind: 'admin' },
      '#': { kind: 'repeat' },
    });
    expect(a).toMatchObject({ interDigitMs: 3000, transferTimeoutS: 40, directory: { searchBy: 'both', maxMatches: 8 }, menu: 'main' });
    expect(a.menus.main).toMatchObject({ dialExtensions: true, timeoutMs: 5000, retries: 2, default: { kind: 'operator' } });
  });

  it('has no attendants by default; the default attendant (welcome, dial an extension, goodbye) passes its own checks', () => {
    expect(parseConfig('', BASE).attendants).toEqual([]);
    const a = defaultAttendant();
    expect(Object.keys(a.menus)).toEqual(['main']);
    expect(a.menus.main).toMatchObject({ dialExtensions: true, default: { kind: 'hangup' } });
    expect(checkMenus(a)).toEqual([]);
  });
});

describe('menu checks (vmpilot check)', () => {
  it('reports a key written without an action, at its path and line', () => {
    const issues = issuesOf(oneAttendant(`
menus:
  main:
    greeting: [attendant_welcome]
    keys:
      "1": hangup
      "2":
`));
    expect(issues.map((i) => [i.path, i.message, i.line])).toEqual([['attendants[0].menus.main.keys.2', 'key 2 has no action', 7]]);
  });

  it('reports a default written without an action', () => {
    expect(paths(oneAttendant('menus:\n  main:\n    greeting: [attendant_welcome]\n    default:\n'))).toEqual(['attendants[0].menus.main.default']);
  });

  it('reports keys, defaults and schedules that name a menu that does not exist', () => {
    const issues = issuesOf(oneAttendant(`
schedules: [{ hours: [{ days: [mon], from: "08:00", to: "09:00" }], menu: open }]
menus:
  main: { greeting: [star], keys: { "1": { menu: sales } }, default: { menu: after } }
`));
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      ['attendants[0].schedules[0].menu', 'menu "open" does not exist (menus: main)'],
      ['attendants[0].menus.main.keys.1', 'goes to menu "sales", which does not exist (menus: main)'],
      ['attendants[0].menus.main.default', 'goes to menu "after", which does not exist (menus: main)'],
    ]);
  });

  it('reports a fallback menu that does not exist (menus given without "main")', () => {
    expect(paths(oneAttendant('menus:\n  start: { greeting: [star] }\n'))).toEqual(['attendants[0].menu', 'attendants[0].menus.start']);
  });

  it('reports an unreachable menu', () => {
    const issues = issuesOf(oneAttendant(`
menus:
  main: { greeting: [star], keys: { "1": { menu: sales } } }
  sales: { greeting: [star] }
  support: { greeting: [star], keys: { "1": { menu: main } } }
`));
    expect(issues.map((i) => [i.path, i.message])).toEqual([['attendants[0].menus.support', 'is not reachable: no schedule, no key and no default leads to this menu']]);
  });

  it('reports a loop without exit: defaults going round for a caller who presses nothing', () => {
    const issues = issuesOf(oneAttendant(`
menus:
  main: { greeting: [star], keys: { "1": { menu: a } }, default: { menu: a } }
  a: { greeting: [star], keys: { "0": hangup }, default: { menu: b } }
  b: { greeting: [star], default: { menu: main } }
`));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('attendants[0].menus.main.default');
    expect(issues[0]!.message).toMatch(/loop without exit.*main → a → b → main/);
  });

  it('reports a menu that goes to itself by default, and a default of repeat', () => {
    expect(paths(oneAttendant('menus:\n  main: { greeting: [star], default: { menu: main } }\n'))).toEqual(['attendants[0].menus.main.default']);
    const issues = issuesOf(oneAttendant('menus:\n  main: { greeting: [star], default: repeat }\n'));
    expect(issues.map((i) => i.message)).toEqual([expect.stringMatching(/^repeat never ends/)]);
  });

  it('accepts a sub-menu whose default goes back to a menu that ends', () => {
    expect(parseConfig(oneAttendant('menus:\n  main: { greeting: [star], keys: { "1": { menu: sub } }, default: hangup }\n  sub: { greeting: [star], default: { menu: main } }\n'), BASE).attendants).toHaveLength(1);
  });

  it('reports operator with no operator number and admin with no administrators', () => {
    const issues = issuesOf(oneAttendant('menus:\n  main: { greeting: [star], keys: { "0": operator, "*": admin } }\n'));
    expect(issues.map((i) => i.path)).toEqual(['attendants[0].menus.main.keys.0', 'attendants[0].menus.main.keys.*']);
  });
});

describe('values', () => {
  it.each([
    ['a key that is not on a keypad', 'menus:\n  main: { greeting: [star], keys: { "A": hangup } }', 'attendants[0].menus.main.keys.A', /not a key/],
    ['an unknown action', 'menus:\n  main: { greeting: [star], keys: { "1": dial } }', 'attendants[0].menus.main.keys.1', /"dial" is not an action/],
    ['a transfer to something that is not a number', 'menus:\n  main: { greeting: [star], default: { transfer: reception } }', 'attendants[0].menus.main.default', /not a number/],
    ['a greeting that is not a prompt id', 'menus:\n  main: { greeting: ["Hello there"] }', 'attendants[0].menus.main.greeting[0]', /not a prompt id/],
    ['a greeting slot out of range', 'menus:\n  main: { greeting: [{ slot: 100 }] }', 'attendants[0].menus.main.greeting[0]', /1 to 99/],
    ['an empty greeting', 'menus:\n  main: { greeting: [] }', 'attendants[0].menus.main.greeting', /at least one/],
    ['a day that is not one', 'schedules: [{ hours: [{ days: [monday], from: "08:00", to: "17:00" }], menu: main }]', 'attendants[0].schedules[0].hours[0].days[0]', /not a day/],
    ['a time that is not one', 'schedules: [{ hours: [{ days: [mon], from: "8am", to: "17:00" }], menu: main }]', 'attendants[0].schedules[0].hours[0].from', /HH:MM/],
    ['hours across midnight', 'schedules: [{ hours: [{ days: [mon], from: "22:00", to: "06:00" }], menu: main }]', 'attendants[0].schedules[0].hours[0].to', /two entries/],
    ['a date that does not exist', 'schedules: [{ dates: ["2025-02-29"], menu: main }]', 'attendants[0].schedules[0].dates[0]', /not a calendar date/],
    ['a schedule with neither dates nor hours', 'schedules: [{ menu: main }]', 'attendants[0].schedules[0]', /dates or hours/],
    ['a range with ends of different lengths', 'extensions: ["100-2000"]', 'attendants[0].extensions[0]', /same number of digits/],
    ['a transfer pattern with a regex in it', 'allowedTransfers: ["27[0-9]+"]', 'attendants[0].allowedTransfers[0]', /not a number pattern/],
    ['a time zone that does not exist', 'timeZone: Mars/Olympus', 'attendants[0].timeZone', /IANA/],
    ['more retries than a caller would sit through', 'menus:\n  main: { greeting: [star], retries: 20 }', 'attendants[0].menus.main.retries', /at most 9/],
  ])('rejects %s', (_what, body, path, message) => {
    const issues = issuesOf(oneAttendant(body));
    expect(issues.map((i) => i.path)).toContain(path);
    expect(issues.find((i) => i.path === path)!.message).toMatch(message);
  });

  it('accepts "02-29" as a yearly date (it exists in leap years)', () => {
    expect(parseConfig(oneAttendant('schedules: [{ dates: ["02-29"], menu: main }]'), BASE).attendants[0]!.schedules[0]!.dates).toEqual([{ month: 2, day: 29 }]);
  });
});

describe('pilots', () => {
  it('rejects a pilot that is not in services.attendant', () => {
    const issues = issuesOf(`services: { attendant: ["43333"] }\n${oneAttendant('pilots: ["43334"]')}`);
    expect(issues.map((i) => [i.path, i.message])).toEqual([['attendants[0].pilots[0]', '"43334" is not an attendant pilot (services.attendant: 43333)']]);
  });

  it('rejects a pilot served twice, and two attendants for "every other pilot"', () => {
    const yaml = 'services: { attendant: ["1", "2"] }\nattendants:\n  - { pilots: ["1"] }\n  - { pilots: ["1"] }\n  - {}\n  - {}\n';
    expect(paths(yaml)).toEqual(['attendants[1].pilots[0]', 'attendants[3].pilots']);
  });
});

describe('prompt folders and greeting files', () => {
  const dir = DIR;
  const prompts = join(dir, 'prompts');
  cpSync(join(import.meta.dirname, '../../prompts/en-US/prompts.yaml'), join(prompts, 'en-US', 'prompts.yaml'));
  mkdirSync(join(prompts, 'sv-SE'), { recursive: true });
  writeFileSync(join(prompts, 'sv-SE', 'prompts.yaml'), 'attendant_welcome: Tack för att du ringer.\n');
  const withPrompts = (body: string): string => `prompts: { dir: prompts }\n${oneAttendant(body)}`;

  it('accepts a second language that has a prompts folder with every greeting prompt', () => {
    const c = parseConfig(withPrompts('languages: [en-US, sv-SE]\nmenus:\n  main: { greeting: [attendant_welcome, { file: hello.wav }] }'), dir);
    expect(c.attendants[0]!.languages).toEqual(['en-US', 'sv-SE']);
  });

  it('rejects a language with no prompts/<lang> folder', () => {
    const issues = issuesOf(withPrompts('languages: [en-US, fr-FR]'), dir);
    expect(issues.map((i) => [i.path, i.message])).toEqual([['attendants[0].languages[1]', `no prompts for fr-FR: ${join(prompts, 'fr-FR', 'prompts.yaml')} does not exist`]]);
  });

  it('rejects a greeting prompt that a language does not have, naming the language', () => {
    const issues = issuesOf(withPrompts('languages: [en-US, sv-SE]\nmenus:\n  main: { greeting: [attendant_menu] }'), dir);
    expect(issues.map((i) => [i.path, i.message])).toEqual([['attendants[0].menus.main.greeting[0]', 'no prompt "attendant_menu" in prompts/sv-SE']]);
  });

  it('rejects a greeting file that does not exist, by its resolved path', () => {
    const issues = issuesOf(withPrompts('menus:\n  main: { greeting: [{ slot: 2, otherwise: [{ file: gone.wav }] }] }'), dir);
    expect(issues.map((i) => [i.path, i.message])).toEqual([['attendants[0].menus.main.greeting[0]', `cannot read ${join(dir, 'gone.wav')}: no such file`]]);
  });
});

describe('pbx[].transfer', () => {
  const pbx = (extra: string): string => `pbx:\n  - { name: a, addresses: [10.0.0.1]${extra} }\n`;

  it('is refer by default, and may be supervised', () => {
    expect(parseConfig(pbx(''), BASE).pbx[0]!.transfer).toBe('refer');
    expect(parseConfig(pbx(', transfer: supervised'), BASE).pbx[0]!.transfer).toBe('supervised');
  });

  it('rejects another method', () => {
    expect(issuesOf(pbx(', transfer: blind')).map((i) => [i.path, i.message])).toEqual([['pbx[0].transfer', 'must be refer or supervised']]);
  });
});
