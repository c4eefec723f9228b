/**
 * Checks of the attendant's menus that a schema cannot express, run by `vmpilot check` and at start (through
 * the schema and load.ts), each issue at its path:
 *
 * - a key written with nothing after it (`"2":`), or a default with nothing: a key without an action;
 * - a key or default that goes to a menu that does not exist; a schedule naming one;
 * - 'operator' with no operator number, 'admin' with no admins: an action that cannot do anything;
 * - a menu no schedule and no other menu leads to (unreachable);
 * - loops without exit: a caller who presses nothing must end somewhere. Following each menu's default
 *   must reach an action that ends the menu (operator, transfer, message, hang-up, dial ...), never come
 *   back to a menu already visited, and never be 'repeat'.
 * - (files, checkPromptsFolder) the server's prompt language has a prompts/<lang> folder with prompts.yaml;
 * - (files, checkAttendantFiles) each language has a prompts/<lang> folder with prompts.yaml, each greeting
 *   prompt id is in every language's prompts.yaml, each greeting file can be read.
 *
 * Pure except checkAttendantFiles. Types only from attendant-schema.ts (which runs checkMenus).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { AttendantConfig, MenuAction } from './attendant-schema.js';
import { fileProblem } from './tls-files.js';

export interface MenuIssue {
  /** Relative to what was checked: ['menus', 'main', 'keys', '1']. */
  path: (string | number)[];
  message: string;
}

type MenuView = Pick<AttendantConfig, 'menus' | 'menu' | 'schedules' | 'operator' | 'admins'>;

/** Every problem of one attendant's menus (see the module comment). */
export function checkMenus(a: MenuView): MenuIssue[] {
  const issues: MenuIssue[] = [];
  const names = Object.keys(a.menus);
  const exists = (m: string): boolean => Object.hasOwn(a.menus, m);
  const known = `menus: ${names.join(', ') || 'none'}`;
  const missing = (m: string): string => `menu "${m}" does not exist (${known})`;

  if (!exists(a.menu)) issues.push({ path: ['menu'], message: missing(a.menu) });
  a.schedules.forEach((s, i) => {
    if (!exists(s.menu)) issues.push({ path: ['schedules', i, 'menu'], message: missing(s.menu) });
  });
  const checkAction = (action: MenuAction, path: (string | number)[]): void => {
    if (action.kind === 'menu' && !exists(action.menu)) issues.push({ path, message: `goes to menu "${action.menu}", which does not exist (${known})` });
    if (action.kind === 'operator' && a.operator === undefined) issues.push({ path, message: 'operator: no operator number is set (operator: "NUMBER")' });
    if (action.kind === 'admin' && a.admins.length === 0) issues.push({ path, message: 'admin: no administrator mailbox is set (admins: ["NUMBER"])' });
  };
  for (const [name, menu] of Object.entries(a.menus)) {
    for (const [key, action] of Object.entries(menu.keys)) if (action) checkAction(action, ['menus', name, 'keys', key]);
    checkAction(menu.default, ['menus', name, 'default']);
  }

  // Unreachable: not a schedule's menu nor the fallback, and no key or default of a reachable menu leads there.
  const reached = new Set<string>();
  const queue = [a.menu, ...a.schedules.map((s) => s.menu)].filter(exists);
  while (queue.length > 0) {
    const m = queue.pop()!;
    if (reached.has(m)) continue;
    reached.add(m);
    const menu = a.menus[m]!;
    for (const action of [...Object.values(menu.keys), menu.default]) {
      if (action?.kind === 'menu' && exists(action.menu)) queue.push(action.menu);
    }
  }
  for (const m of names) {
    if (!reached.has(m)) issues.push({ path: ['menus', m], message: 'is not reachable: no schedule, no key and no default leads to this menu' });
  }

  // Loops without exit, for a caller who presses nothing (each menu has one default: a chain).
  const reported = new Set<string>();
  for (const start of names) {
    const seen: string[] = [];
    let m = start;
    for (;;) {
      const d = a.menus[m]!.default;
      if (d.kind === 'repeat') {
        if (!reported.has(m)) issues.push({ path: ['menus', m, 'default'], message: 'repeat never ends for a caller who presses nothing; use an action that ends (operator, transfer, message or hangup)' });
        reported.add(m);
        break;
      }
      if (d.kind !== 'menu' || !exists(d.menu)) break;
      seen.push(m);
      const at = seen.indexOf(d.menu);
      if (at >= 0) {
        const cycle = seen.slice(at);
        if (!cycle.some((c) => reported.has(c))) {
          issues.push({ path: ['menus', cycle[0]!, 'default'], message: `a loop without exit: a caller who presses nothing goes ${[...cycle, cycle[0]].join(' → ')} forever; give one of these menus a default that ends (operator, transfer, message or hangup)` });
        }
        cycle.forEach((c) => reported.add(c));
        break;
      }
      m = d.menu;
    }
  }
  return issues;
}

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Keys and defaults written with nothing after them (`"2":`). load.ts drops empty values as absent keys before
 * the schema runs, so this looks at the raw document. Paths are from the top of the file.
 */
export function checkEmptyActions(raw: unknown): MenuIssue[] {
  const issues: MenuIssue[] = [];
  const list = isMapping(raw) ? raw.attendants : undefined;
  if (!Array.isArray(list)) return issues;
  list.forEach((a, i) => {
    const menus = isMapping(a) ? a.menus : undefined;
    if (!isMapping(menus)) return;
    for (const [name, menu] of Object.entries(menus)) {
      if (!isMapping(menu)) continue;
      if ('default' in menu && menu.default === null) issues.push({ path: ['attendants', i, 'menus', name, 'default'], message: 'has no action' });
      if (!isMapping(menu.keys)) continue;
      for (const [key, action] of Object.entries(menu.keys)) {
        if (action === null) issues.push({ path: ['attendants', i, 'menus', name, 'keys', key], message: `key ${key} has no action` });
      }
    }
  });
  return issues;
}

/** The prompt ids of prompts/<lang>/prompts.yaml, or a message saying why there are none. */
function promptIds(promptsDir: string, lang: string): Set<string> | string {
  const file = join(promptsDir, lang, 'prompts.yaml');
  try {
    const doc: unknown = parse(readFileSync(file, 'utf8'));
    return new Set(isMapping(doc) ? Object.keys(doc) : []);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `no prompts for ${lang}: ${file} does not exist` : `cannot read ${file}: ${code ?? String(err)}`;
  }
}

/** The server's own prompts (prompts.dir/prompts.language): the folder and its prompts.yaml must exist. */
export function checkPromptsFolder(promptsDir: string, language: string): MenuIssue[] {
  const ids = promptIds(promptsDir, language);
  return typeof ids === 'string' ? [{ path: ['prompts', 'dir'], message: ids }] : [];
}

/**
 * The files the attendants need (after load.ts resolved greeting files): a prompts folder per language with
 * every greeting prompt id, and readable greeting files. Paths from the top of the file.
 */
export function checkAttendantFiles(attendants: readonly AttendantConfig[], promptsDir: string, defaultLanguage: string): MenuIssue[] {
  const issues: MenuIssue[] = [];
  attendants.forEach((a, i) => {
    const langs = a.languages.length > 0 ? a.languages : [defaultLanguage];
    if (a.languages.length > 9) issues.push({ path: ['attendants', i, 'languages'], message: 'at most 9 languages (one key each)' });
    const sets: [string, Set<string>][] = [];
    langs.forEach((lang, k) => {
      const ids = promptIds(promptsDir, lang);
      if (typeof ids === 'string') {
        if (a.languages.length > 0) issues.push({ path: ['attendants', i, 'languages', k], message: ids });
      } else {
        sets.push([lang, ids]);
      }
    });
    for (const [name, menu] of Object.entries(a.menus)) {
      menu.greeting.forEach((g, j) => {
        const path = ['attendants', i, 'menus', name, 'greeting', j];
        for (const item of 'slot' in g ? g.otherwise : [g]) {
          if ('file' in item) {
            const problem = fileProblem(item.file);
            if (problem !== undefined) issues.push({ path, message: problem });
          } else {
            const without = sets.filter(([, ids]) => !ids.has(item.prompt)).map(([lang]) => lang);
            if (without.length > 0) issues.push({ path, message: `no prompt "${item.prompt}" in prompts/${without.join(', prompts/')}` });
          }
        }
      });
    }
  });
  return issues;
}
