/**
 * The stock menu prompt said as what the menu allows (src/apps/attendant/menu-prompt.ts, through
 * greetingItems), and the config warning for a greeting that promises what its menu cannot do
 * (src/config/warnings.ts, through examineConfig as `vmpilot check` runs it).
 *
 * Covers: attendant_menu in a menu that takes extensions and has an operator key (both parts, the key said),
 * one that takes no extensions (no "enter it now"), one without an operator key (no "for the operator"), one
 * with neither (nothing), the operator on another key than 0; a voice recorded before the parts existed (the
 * whole recording only where all of it is true); the real en-US prompts having the parts; warnings for
 * enter_extension / attendant_dial_extension without dialExtensions and opt_operator without an operator key
 * (in a slot's otherwise too), none for attendant_menu, none when the menu keeps the promise.
 * Does not cover: the menu runner's keys (attendant-flows.test.ts), audio (the WAVs are cut from
 * attendant_menu.wav; prompts-catalog.test.ts checks every WAV loads).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { greetingItems } from '../../src/apps/attendant/greeting-slots.js';
import type { Voice } from '../../src/apps/attendant/voice.js';
import { attendantSchema, type MenuConfig } from '../../src/config/attendant-schema.js';
import { examineConfig } from '../../src/config/load.js';
import { createSay } from '../../src/prompts/say.js';

const PROMPTS = join(import.meta.dirname, '../../prompts');
const EN_IDS = Object.keys(parseYaml(readFileSync(join(PROMPTS, 'en-US', 'prompts.yaml'), 'utf8')) as object);

/** A voice with these prompt ids; an item is its id. */
function voice(ids: readonly string[]): Voice {
  const set = new Set(ids);
  return { lang: 'en-US', say: createSay('en-US'), has: (id) => set.has(id), item: (id) => id };
}

/** The menu `main` of an attendant written in YAML (operator 27050 so that 'operator' keys are valid). */
function menu(yaml: string): MenuConfig {
  return attendantSchema.parse(parseYaml(`operator: "27050"\nmenus:\n  main: ${yaml}`)).menus.main!;
}

const said = (m: MenuConfig, ids: readonly string[] = EN_IDS): Promise<unknown[]> => greetingItems(m, voice(ids), '/nonexistent');

describe('attendant_menu, said as what the menu allows', () => {
  it('takes extensions and has the operator on 0: both parts, the key said', async () => {
    const m = menu('{ greeting: [attendant_welcome, attendant_menu], keys: { "0": operator }, dialExtensions: true }');
    expect(await said(m)).toEqual(['attendant_welcome', 'attendant_dial_extension', 'opt_operator', 'press', 'num_0']);
  });

  it('takes no extensions: no "please enter it now"', async () => {
    const m = menu('{ greeting: [attendant_menu], keys: { "0": operator } }');
    expect(await said(m)).toEqual(['opt_operator', 'press', 'num_0']);
  });

  it('has no operator key: no "for the operator"', async () => {
    const m = menu('{ greeting: [attendant_menu], dialExtensions: true }');
    expect(await said(m)).toEqual(['attendant_dial_extension']);
  });

  it('allows neither: says nothing of it', async () => {
    const m = menu('{ greeting: [attendant_welcome, attendant_menu], keys: { "1": hangup } }');
    expect(await said(m)).toEqual(['attendant_welcome']);
  });

  it('says the key the operator is on', async () => {
    const m = menu('{ greeting: [attendant_menu], keys: { "9": operator } }');
    expect(await said(m)).toEqual(['opt_operator', 'press', 'num_9']);
  });

  it('with a voice that lacks the parts, says the whole recording only where all of it is true', async () => {
    const old = EN_IDS.filter((id) => id !== 'attendant_dial_extension' && id !== 'opt_operator');
    expect(await said(menu('{ greeting: [attendant_menu], keys: { "0": operator }, dialExtensions: true }'), old)).toEqual(['attendant_menu']);
    expect(await said(menu('{ greeting: [attendant_menu], keys: { "0": operator } }'), old)).toEqual([]);
  });

  it('works in the default attendant menu (extensions, no operator)', async () => {
    const m = attendantSchema.parse({}).menus.main!;
    expect(await said(m)).toEqual(['attendant_welcome', 'attendant_dial_extension']);
  });
});

describe('vmpilot check warns when a menu greeting promises what the menu cannot do', () => {
  const warningsOf = (menuYaml: string): string[] =>
    examineConfig(`attendants:\n  - operator: "27050"\n    menus:\n      main: ${menuYaml}\n`, '/srv/vmpilot').warnings.map((w) => `${w.path}: ${w.message}`);

  it.each([
    ['enter_extension', '{ greeting: [enter_extension], keys: { "0": operator } }', 'asks the caller to dial an extension'],
    ['attendant_dial_extension', '{ greeting: [attendant_dial_extension] }', 'asks the caller to dial an extension'],
    ['opt_operator', '{ greeting: [opt_operator, press, num_0], dialExtensions: true }', 'offers the operator'],
  ])('%s in a menu that does not allow it', (id, yaml, says) => {
    expect(warningsOf(yaml)).toEqual([`attendants[0].menus.main.greeting[0]: "${id}" ${says}, which menu "main" does not allow (${id === 'opt_operator' ? 'bind a key to operator' : 'set dialExtensions: true'}, or say something else)`]);
  });

  it("in a recorded slot's otherwise items too", () => {
    expect(warningsOf('{ greeting: [attendant_welcome, { slot: 1, otherwise: [enter_extension] }] }')).toEqual([
      expect.stringMatching(/^attendants\[0\]\.menus\.main\.greeting\[1\]: "enter_extension" asks the caller to dial an extension/),
    ]);
  });

  it('not for attendant_menu, nor when the menu keeps the promise', () => {
    expect(warningsOf('{ greeting: [attendant_menu] }')).toEqual([]);
    expect(warningsOf('{ greeting: [enter_extension, opt_operator, press, num_0], keys: { "0": operator }, dialExtensions: true }')).toEqual([]);
  });
});
