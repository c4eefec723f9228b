/*
 * The config file's mailboxes and the store side by side (README "Mailboxes: config file and store"): the
 * real CLI on a store that this test process also holds open.
 *
 * Covers: `vmpilot check` reading the store without changing it and warning about mailboxes only in the
 * store, config mailboxes whose fields differ in the store (both values), and config mailboxes not in the
 * store yet; a store command re-applying the config and saying what it changed; `mailbox prune` refused with
 * mailboxesFromConfig: seed, listing with --dry-run, deleting (messages' audio too) with --yes under
 * mailboxesFromConfig: authoritative.
 *
 * Does not cover: the confirmation on a terminal (confirm.ts), the serve log line (the same provisioning).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../../src/store/sqlite.js';
import { runCli as vmpilot } from '../helpers/cli-process.js';
import { cliStoreFixture } from '../helpers/cli-store.js';
import { newMessage } from '../helpers/store-fixture.js';

const fixture = cliStoreFixture('vmpilot-drift-', [
  '{ number: "27000", pin: "4826", name: "Alice Example", maxMinutes: 10 }',
  '{ number: "27001", pin: "4826", name: "Bob Builder" }',
]);
const { config } = fixture;
const authoritative = join(fixture.dir, 'authoritative.yaml');
let store: SqliteStore;

beforeAll(async () => {
  store = fixture.store();
  writeFileSync(authoritative, `${readFileSync(config, 'utf8')}\nmailboxesFromConfig: authoritative\n`);
  await store.createMailbox({ number: '27000', name: 'Alice Example', pin: '4826' });
  await store.updateMailbox('27000', { name: 'Alice Changed', email: 'alice@example.com' });
  await store.createMailbox({ number: '27100', name: 'Only In Store', pin: '4826' });
  await store.createMailbox({ number: '27101', name: 'Also Only In Store', pin: '4826' });
});

describe('vmpilot check with the store reachable', () => {
  it('warns about the drift and changes nothing', async () => {
    const r = await vmpilot('check', '--config', config);
    expect(r.code).toBe(0);
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([
      'warning: mailboxes: 2 mailbox(es) in the store are not in the config file, kept (mailboxesFromConfig: seed): 27100, 27101',
      'warning: mailboxes[0]: mailbox 27000 differs in the store; the next start sets the config\'s values: name: "Alice Changed" → "Alice Example", email: "alice@example.com" → (none), maxMinutes: 0 → 10',
      'warning: mailboxes: not in the store yet, created at the next start: 27001',
    ]);
    expect(await store.findMailbox('27000')).toMatchObject({ name: 'Alice Changed', maxMinutes: 0 });
    expect(await store.findMailbox('27001')).toBeUndefined();
  });
});

describe('vmpilot mailbox prune', () => {
  it('is refused under mailboxesFromConfig: seed; the config is re-applied and what changed is said', async () => {
    const r = await vmpilot('mailbox', 'prune', '--yes', '--config', config);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([
      'vmpilot: config: mailbox 27000 updated from the config file: name: "Alice Changed" → "Alice Example", email: "alice@example.com" → (none), maxMinutes: 0 → 10',
      'vmpilot: mailboxesFromConfig is seed (the default): mailboxes only in the store are kept; set mailboxesFromConfig: authoritative in the config file to prune them',
    ]);
    expect(await store.findMailbox('27100')).toBeDefined();
  });

  it('--dry-run lists what it would delete and deletes nothing', async () => {
    const r = await vmpilot('mailbox', 'prune', '--dry-run', '--config', authoritative);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('would delete 2 mailbox(es) not in the config file: 27100, 27101\n');
    expect(await store.findMailbox('27100')).toBeDefined();
  });

  it('--yes under mailboxesFromConfig: authoritative deletes them with their messages', async () => {
    const m = await store.deposit(newMessage(store.tmpDir, { mailbox: '27100' }));
    const r = await vmpilot('mailbox', 'prune', '--yes', '--config', authoritative);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('mailbox 27100 deleted (1 message(s), 0 greeting(s))\nmailbox 27101 deleted (0 message(s), 0 greeting(s))\n');
    expect((await store.listMailboxes()).map((x) => x.number)).toEqual(['27000', '27001']);
    expect(existsSync(m.audioPath)).toBe(false);
  });
});
