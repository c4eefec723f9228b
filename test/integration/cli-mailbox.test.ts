/*
 * `vmpilot mailbox …` and `vmpilot messages …` as operators and scripts run them: a real child process on a
 * real store folder, while this test process holds the same store open (as a running server would).
 *
 * Covers: config mailboxes provisioned before every command (they show in `mailbox list`); `mailbox add`
 * (created with the PIN given, owner must change it; refused with exit 1 and one line for a PIN that is not 4
 * to 16 digits, a number already taken, a pilot number, a bad email; exit 2 without --pin); `mailbox list` as text
 * and JSON; `mailbox unlock`; `mailbox set-pin` (policy, unlocks, new PIN works); `mailbox add` and the config's mailboxes[].pin giving
 * the same verdict (refused, accepted with a warning, accepted) for the same PINs; `messages --json` printing
 * exactly { id, folder, from, fromName, receivedAt (ISO 8601), durationMs, urgent, heard, audioPath (absolute,
 * a playable WAV) } in play order, new then saved then deleted; `messages` as text; an unknown mailbox (exit
 * 1); a bad config (exit 2).
 *
 * Does not cover: store semantics in depth (test/unit/store-*.test.ts); PIN policy cases (pin.test.ts);
 * `serve` and `check` (cli.test.ts).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWavHeader, parseWav } from '../../src/media/wav.js';
import { DEFAULT_PIN_BACKOFF } from '../../src/store/pin-backoff.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { runCli as vmpilot } from '../helpers/cli-process.js';
import { pinVerdict } from '../helpers/pin-check.js';

const dir = mkdtempSync(join(tmpdir(), 'vmpilot-cli-mailbox-'));
const storageDir = join(dir, 'data');
const config = join(dir, 'vmpilot.yaml');
writeFileSync(
  config,
  [
    `storage: { dir: ${storageDir} }`,
    'services: { voicemail: ["43334"], attendant: ["43333"] }',
    'mailboxes:',
    '  - { number: "27000", pin: "1234", name: "Alice Example", email: alice@example.com, aliases: ["+4687270000"] }',
  ].join('\n'),
);

let store: SqliteStore;

beforeAll(async () => {
  store = await openSqliteStore(storageDir);
});

afterAll(async () => {
  await store.close();
});

function recording(ms: number): string {
  const data = Buffer.alloc((ms / 1000) * 16000, 1);
  const path = join(store.tmpDir, `rec-${Math.random().toString(36).slice(2)}.wav`);
  writeFileSync(path, Buffer.concat([buildWavHeader({ encoding: 'pcm16', dataBytes: data.length }), data]));
  return path;
}

describe('vmpilot mailbox', () => {
  it('list shows the mailboxes of the config, provisioned into the store (JSON)', async () => {
    const r = await vmpilot('mailbox', 'list', '--json', '--config', config);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      {
        number: '27000',
        name: 'Alice Example',
        email: 'alice@example.com',
        aliases: ['+4687270000'],
        new: 0,
        saved: 0,
        locked: false,
        failedLogins: 0,
        mustChangePin: true,
        setupDone: false,
      },
    ]);
  });

  it('add provisions a mailbox with the PIN given, to be changed at first login', async () => {
    const r = await vmpilot('mailbox', 'add', '27001', '--pin', '2580', '--name', 'Bob Builder', '--email', 'bob@example.com', '--config', config);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^mailbox 27001 added \(Bob Builder\)/);
    const bob = await store.findMailbox('27001');
    expect(bob).toMatchObject({ name: 'Bob Builder', email: 'bob@example.com', mustChangePin: true });
    expect(await pinVerdict(store, '27001', '2580')).toBe('ok');
  });

  it.each([
    ['a PIN with a letter', ['27002', '--pin', '12a4', '--name', 'X'], /^vmpilot: PIN refused: the PIN must be 4 to 16 digits$/],
    ['a PIN too short', ['2702', '--pin', '270', '--name', 'X'], /^vmpilot: PIN refused: the PIN must be 4 to 16 digits$/],
    ['a number that is already a mailbox', ['27000', '--pin', '2580', '--name', 'X'], /^vmpilot: mailbox 27000 already exists$/],
    ['a number that is an alias', ['+4687270000', '--pin', '2580', '--name', 'X'], /^vmpilot: \+4687270000 is already an alias of mailbox 27000$/],
    ['a pilot number', ['43334', '--pin', '2580', '--name', 'X'], /^vmpilot: 43334 is the voicemail pilot number$/],
    ['a bad email address', ['27003', '--pin', '2580', '--name', 'X', '--email', 'nope'], /^vmpilot: "nope" is not an email address$/],
    ['a number that is not a number', ['abc', '--pin', '2580', '--name', 'X'], /^vmpilot: "abc" is not a mailbox number/],
  ])('add refuses %s with exit 1 and one line', async (_what, args, message) => {
    const r = await vmpilot('mailbox', 'add', ...args, '--config', config);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
    expect(await store.findMailbox(args[0]!)).toSatisfy((m) => m === undefined || m.number === '27000');
  });

  /**
   * One PIN policy (store/pin.ts) for the config and the CLI, both of which set an initial PIN the owner must
   * replace at first login: not a PIN → refused; easy to guess → accepted with a warning; else accepted.
   */
  it('add and the config give the same verdict for the same PINs', async () => {
    const pins = ['4826', '1234', '0000', '27603', '123', '12a4', '12345678901234567'];
    const number = (i: number): string => String(27600 + i);
    const file = join(dir, 'pins.yaml');
    writeFileSync(file, ['mailboxes:', ...pins.map((pin, i) => `  - { number: "${number(i)}", pin: "${pin}", name: "P${i}" }`)].join('\n'));
    const checked = await vmpilot('check', '--config', file);
    const configVerdict = (i: number): string => {
      const line = checked.stderr.split('\n').find((l) => l.includes(`mailboxes[${i}].pin:`)) ?? '';
      return line.startsWith('warning:') ? 'warned' : line !== '' ? 'refused' : 'accepted';
    };
    const cliVerdicts: string[] = [];
    for (const [i, pin] of pins.entries()) {
      const r = await vmpilot('mailbox', 'add', number(i), '--pin', pin, '--name', `P${i}`, '--config', config);
      cliVerdicts.push(r.code !== 0 ? 'refused' : /warning: PIN .* is easy to guess/.test(r.stderr) ? 'warned' : 'accepted');
    }
    // 27603 is the fourth entry's own mailbox number: easy to guess for it.
    const expected = ['accepted', 'warned', 'warned', 'warned', 'refused', 'refused', 'refused'];
    expect(pins.map((_p, i) => configVerdict(i))).toEqual(expected);
    expect(cliVerdicts).toEqual(expected);
  }, 120_000);

  it('add without --pin is a command-line error (exit 2)', async () => {
    const r = await vmpilot('mailbox', 'add', '27004', '--name', 'X', '--config', config);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/required option '--pin <pin>'/);
  });

  it('list prints one line per mailbox with its counts and status', async () => {
    await store.createMailbox({ number: '27010', name: 'Carol', pin: '2580' });
    await store.updateMailbox('27010', { locked: true, mustChangePin: false });
    const r = await vmpilot('mailbox', 'list', '--config', config);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NUMBER\s+NAME\s+NEW\s+SAVED\s+STATUS\s+EMAIL\s+ALIASES$/);
    expect(lines.find((l) => l.startsWith('27000'))).toMatch(/^27000\s+Alice Example\s+\d+\s+\d+\s+new PIN due\s+alice@example\.com\s+\+4687270000$/);
    expect(lines.find((l) => l.startsWith('27010'))).toMatch(/^27010\s+Carol\s+0\s+0\s+locked\s+-\s+-$/);
  });

  it('unlock lifts the PIN back-off after wrong PINs', async () => {
    await store.createMailbox({ number: '27020', name: 'Dave', pin: '2580' });
    const policy = { ...DEFAULT_PIN_BACKOFF, mailboxAfter: 3, firstDelayMs: 600_000, maxDelayMs: 600_000 };
    // Three callers, one wrong PIN each: the mailbox's back-off runs (ten minutes), not the callers'.
    for (let i = 0; i < 3; i++) expect(await pinVerdict(store, '27020', '0000', `attacker-${i}`, policy)).toBe('wrong');
    expect(await pinVerdict(store, '27020', '2580', 'owner', policy)).toBe('wait');
    const r = await vmpilot('mailbox', 'unlock', '27020', '--config', config);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('mailbox 27020 unlocked (3 failed PIN entries cleared)');
    expect(await pinVerdict(store, '27020', '2580', 'owner', policy)).toBe('ok');
  });

  it('set-pin checks the policy, then sets the PIN, unlocks, and asks the owner for a new one', async () => {
    await store.createMailbox({ number: '27030', name: 'Eve', pin: '2580' });
    await store.updateMailbox('27030', { locked: true, mustChangePin: false });
    const refused = await vmpilot('mailbox', 'set-pin', '27030', '--pin', '55', '--config', config);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^vmpilot: PIN refused: the PIN must be 4 to 16 digits/);
    const r = await vmpilot('mailbox', 'set-pin', '27030', '--pin', '9371', '--config', config);
    expect(r.code).toBe(0);
    expect(await store.findMailbox('27030')).toMatchObject({ locked: false, mustChangePin: true });
    expect(await pinVerdict(store, '27030', '9371')).toBe('ok');
  });

  it('unlock and set-pin name an unknown mailbox with exit 1', async () => {
    for (const args of [['unlock', '999'], ['set-pin', '999', '--pin', '2580']]) {
      const r = await vmpilot('mailbox', ...args, '--config', config);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe('vmpilot: no mailbox 999');
    }
  });
});

describe('vmpilot messages', () => {
  it('--json prints the contract fields exactly, in play order, with absolute paths to playable WAVs', async () => {
    await store.createMailbox({ number: '27040', name: 'Frank', pin: '2580' });
    const base = { mailbox: '27040', reason: 'no-answer' as const };
    const old = await store.deposit({ ...base, from: '4455', fromName: 'Bob', durationMs: 1000, urgent: false, audioFile: recording(1000), receivedAt: Date.UTC(2025, 0, 2, 9, 30) });
    const urgent = await store.deposit({ ...base, from: '', fromName: '', durationMs: 2000, urgent: true, audioFile: recording(2000), receivedAt: Date.UTC(2025, 0, 3) });
    const saved = await store.deposit({ ...base, from: '4456', fromName: 'Carol', durationMs: 1000, urgent: false, audioFile: recording(1000), receivedAt: Date.UTC(2025, 0, 1) });
    const deleted = await store.deposit({ ...base, from: '4457', fromName: '', durationMs: 1000, urgent: false, audioFile: recording(1000), receivedAt: Date.UTC(2024, 11, 31) });
    await store.markHeard(saved.id);
    await store.setFolder(deleted.id, 'deleted');

    const r = await vmpilot('messages', '27040', '--json', '--config', config);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(list.map((m) => m.id)).toEqual([urgent.id, old.id, saved.id, deleted.id]);
    expect(list[1]).toEqual({
      id: old.id,
      folder: 'new',
      from: '4455',
      fromName: 'Bob',
      receivedAt: '2025-01-02T09:30:00.000Z',
      durationMs: 1000,
      urgent: false,
      heard: false,
      audioPath: old.audioPath,
    });
    expect(list.map((m) => [m.folder, m.urgent, m.heard])).toEqual([
      ['new', true, false],
      ['new', false, false],
      ['saved', false, true],
      ['deleted', false, false],
    ]);
    for (const m of list) {
      expect(Object.keys(m).sort()).toEqual(['audioPath', 'durationMs', 'folder', 'from', 'fromName', 'heard', 'id', 'receivedAt', 'urgent']);
      const path = m.audioPath as string;
      expect(isAbsolute(path) && existsSync(path)).toBe(true);
      expect(parseWav(readFileSync(path)).sampleRate).toBe(8000);
    }
  });

  it('accepts an alias, and prints an empty array for an empty mailbox', async () => {
    const r = await vmpilot('messages', '+4687270000', '--json', '--config', config);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });

  it('prints a table without --json', async () => {
    const r = await vmpilot('messages', '27040', '--config', config);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+FOLDER\s+RECEIVED\s+SECONDS\s+FLAGS\s+FROM$/);
    expect(lines).toHaveLength(5);
    expect(lines[1]).toMatch(/\snew\s+2025-01-03T00:00:00\.000Z\s+2\.0\s+urgent\s+anonymous$/);
    expect(lines[2]).toMatch(/\snew\s+2025-01-02T09:30:00\.000Z\s+1\.0\s+-\s+Bob <4455>$/);
  });

  it('names an unknown mailbox with exit 1', async () => {
    const r = await vmpilot('messages', '999', '--json', '--config', config);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe('vmpilot: no mailbox 999');
  });

  it('reports a bad config with exit 2, as check does', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'storage: { dir: 7, colour: blue }\n');
    const r = await vmpilot('messages', '27000', '--config', bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^storage\.dir: /m);
    expect(r.stderr).toMatch(/^storage\.colour: unknown key/m);
  });
});
