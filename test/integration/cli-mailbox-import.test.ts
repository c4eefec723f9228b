/*
 * `vmpilot mailbox import` and `export` as an operator runs them: the real CLI (a child process) on a real
 * store folder, with files of thousands of rows.
 *
 * Covers: a file with bad rows among 5,000 good ones (every bad row reported with its line number and the
 * reason, exit 1, nothing applied); --dry-run listing what would change and writing nothing (the store's
 * change feed does not move); the import of 5,000 rows (time printed, not asserted) with PINs hashed (a
 * sample logs in); the same file again changing nothing; an update file (changed fields listed in the dry
 * run, an alias moved from one mailbox to another in one import, a PIN for an existing mailbox ignored);
 * export (CSV without PINs, and JSON) then import of the export: no change.
 *
 * Does not cover: the progress bar on a terminal (progress.ts; no pty here); the store's transaction
 * rolling back a conflict (store-mailbox-admin.test.ts); the HTTP route.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PIN_BACKOFF } from '../../src/store/pin-backoff.js';
import type { SqliteStore } from '../../src/store/sqlite.js';
import { cliStoreFixture } from '../helpers/cli-store.js';
import { runCli as vmpilot } from '../helpers/cli-process.js';

const ROWS = 5000;
const fixture = cliStoreFixture('vmpilot-import-', ['{ number: "27000", pin: "4826", name: "Alice Example" }']);
const { dir, storageDir, config } = fixture;

const number = (i: number): string => String(30000 + i);
/** 20 distinct initial PINs, as a site hands out a few defaults. */
const pinOf = (i: number): string => String(580000 + (i % 20) * 7);

function usersCsv(rows: number, edit: (i: number, cells: string[]) => string[] = (_i, c) => c): string {
  const lines = ['number,name,pin,email,aliases,attachAudio,maxMessages,maxMinutes,hidden'];
  for (let i = 0; i < rows; i++) {
    const cells = [number(i), `User ${i}`, pinOf(i), i % 3 === 0 ? `user${i}@example.com` : '', i % 10 === 0 ? `+46872${number(i)}` : '', i % 4 === 0 ? 'on' : 'off', i % 7 === 0 ? '25' : '', '', i % 50 === 0 ? 'yes' : 'no'];
    lines.push(edit(i, cells).join(','));
  }
  return `${lines.join('\n')}\n`;
}

const usersFile = join(dir, 'users.csv');
let store: SqliteStore;

/** The change feed's position: any write moves it (change-feed.ts). */
function feedPosition(): number {
  const db = new Database(join(storageDir, 'vmpilot.db'), { readonly: true });
  try {
    return db.prepare('SELECT COALESCE(MAX(seq), 0) FROM mailbox_changes').pluck().get() as number;
  } finally {
    db.close();
  }
}

beforeAll(() => {
  writeFileSync(usersFile, usersCsv(ROWS));
  store = fixture.store();
});

describe('vmpilot mailbox import', () => {
  it('reports every bad row with its line number and the reason, exits 1 and applies nothing', async () => {
    const bad = join(dir, 'bad.csv');
    // Line = row index + 2 (the header is line 1).
    writeFileSync(
      bad,
      usersCsv(ROWS, (i, c) => {
        if (i === 10) return [c[0]!, c[1]!, '12', ...c.slice(3)]; // line 12
        if (i === 1999) return [c[0]!, c[1]!, c[2]!, 'not-an-address', ...c.slice(4)]; // line 2001
        if (i === 3000) return [number(5), ...c.slice(1)]; // line 3002: a number already on line 7
        if (i === 4500) return [c[0]!, c[1]!, c[2]!, c[3]!, '43334', ...c.slice(5)]; // line 4502: a pilot as an alias
        if (i === 4998) return [c[0]!, '', ...c.slice(2, 6), 'lots', ...c.slice(7)]; // line 5000: two problems
        return c;
      }),
    );
    const r = await vmpilot('mailbox', 'import', bad, '--config', config);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const problems = r.stderr.split('\n').filter((l) => l.startsWith('vmpilot: '));
    expect(problems).toEqual([
      `vmpilot: ${bad}:12: pin: "12" is not a PIN (4 to 16 digits)`,
      `vmpilot: ${bad}:2001: email: is not an email address`,
      `vmpilot: ${bad}:3002: mailbox 30005 is already on line 7`,
      `vmpilot: ${bad}:4502: alias 43334 is the voicemail pilot number`,
      `vmpilot: ${bad}:5000: maxMessages: "lots" is not a whole number`,
      `vmpilot: ${bad}:5000: name: a new mailbox needs a name`,
      'vmpilot: 6 problem(s) on 5 line(s); nothing imported',
    ]);
    expect((await store.listMailboxes()).map((m) => m.number)).toEqual(['27000']);
  }, 60_000);

  it('--dry-run lists what would change and writes nothing', async () => {
    const before = feedPosition();
    const r = await vmpilot('mailbox', 'import', usersFile, '--dry-run', '--config', config);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('create 30000 (User 0)');
    expect(lines).toHaveLength(ROWS + 1);
    expect(lines.at(-1)).toBe(`dry run: would create ${ROWS}, update 0; 0 unchanged; nothing written`);
    expect(feedPosition()).toBe(before);
    expect(await store.listMailboxes()).toHaveLength(1);
  }, 60_000);

  it(`imports ${ROWS.toLocaleString('en')} rows in one go, PINs hashed (time printed)`, async () => {
    const t0 = performance.now();
    const r = await vmpilot('mailbox', 'import', usersFile, '--config', config);
    const ms = performance.now() - t0;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^imported .*: created ${ROWS}, updated 0, 0 unchanged \\(\\d+\\.\\d s\\)\\n$`));
    process.stdout.write(`import of ${ROWS} CSV rows (20 distinct PINs) through the CLI: ${(ms / 1000).toFixed(1)} s wall, CLI start included; it said: ${r.stdout}`);
    const all = await store.listMailboxes();
    expect(all).toHaveLength(ROWS + 1);
    expect(await store.findMailbox('30040')).toMatchObject({
      name: 'User 40',
      aliases: ['+4687230040'],
      emailAttachAudio: true,
      maxMessages: 0,
      hiddenFromDirectory: false,
      mustChangePin: true,
    });
    expect((await store.findMailbox('30040'))!.email).toBeUndefined();
    expect(await store.findMailbox('30021')).toMatchObject({ email: 'user21@example.com', maxMessages: 25, emailAttachAudio: false });
    expect((await store.findMailbox('30050'))!.hiddenFromDirectory).toBe(true);
    const login = await store.checkPin({ number: '30013', pin: pinOf(13), source: 't', policy: DEFAULT_PIN_BACKOFF });
    expect(login.verdict).toBe('ok');
  }, 120_000);

  it('the same file again changes nothing', async () => {
    const before = feedPosition();
    const r = await vmpilot('mailbox', 'import', usersFile, '--config', config);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`created 0, updated 0, ${ROWS} unchanged`));
    expect(r.stderr).toMatch(new RegExp(`^vmpilot: ${ROWS} PIN\\(s\\) ignored: those mailboxes exist`));
    expect(feedPosition()).toBe(before);
  }, 60_000);

  it('updates: the dry run names each changed field; an alias moves between two mailboxes of one file', async () => {
    const update = join(dir, 'update.csv');
    writeFileSync(update, ['number,name,aliases,maxMinutes', '30000,User Zero,,', '30001,User 1,+4687230000,15', '30002,User 2,,'].join('\n'));
    const dry = await vmpilot('mailbox', 'import', update, '--dry-run', '--config', config);
    expect(dry.code).toBe(0);
    expect(dry.stdout.trim().split('\n')).toEqual([
      'update 30000: name: "User 0" → "User Zero", aliases: ["+4687230000"] → []',
      'update 30001: aliases: [] → ["+4687230000"], maxMinutes: 0 → 15',
      'dry run: would create 0, update 2; 1 unchanged; nothing written',
    ]);
    const r = await vmpilot('mailbox', 'import', update, '--config', config);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/created 0, updated 2, 1 unchanged/);
    expect((await store.findMailbox('+4687230000'))!.number).toBe('30001');
    expect(await store.findMailbox('30000')).toMatchObject({ name: 'User Zero', aliases: [], email: 'user0@example.com' });
  }, 60_000);
});

describe('vmpilot mailbox export', () => {
  it('exports CSV without PINs, and importing the export changes nothing', async () => {
    const csv = await vmpilot('mailbox', 'export', '--config', config);
    expect(csv.code).toBe(0);
    const lines = csv.stdout.trim().split('\r\n');
    expect(lines[0]).toBe('number,name,pin,email,aliases,attachAudio,maxMessages,maxMinutes,hidden');
    expect(lines).toContain('30001,User 1,,,+4687230000,off,0,15,off');
    expect(lines).toHaveLength(ROWS + 2);
    expect(csv.stdout).not.toMatch(/scrypt/);
    const exported = join(dir, 'export.csv');
    writeFileSync(exported, csv.stdout);
    const before = feedPosition();
    const r = await vmpilot('mailbox', 'import', exported, '--config', config);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`created 0, updated 0, ${ROWS + 1} unchanged`));
    expect(feedPosition()).toBe(before);
  }, 60_000);

  it('--json prints every mailbox with its fields', async () => {
    const r = await vmpilot('mailbox', 'export', '--json', '--config', config);
    expect(r.code).toBe(0);
    const all = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(all).toHaveLength(ROWS + 1);
    expect(all.find((m) => m.number === '30021')).toEqual({
      number: '30021',
      name: 'User 21',
      email: 'user21@example.com',
      aliases: [],
      attachAudio: false,
      maxMessages: 25,
      maxMinutes: 0,
      hidden: false,
    });
  }, 60_000);
});
