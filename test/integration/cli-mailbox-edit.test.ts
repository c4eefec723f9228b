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
 * refuses fields the config file owns. Also the confirmation on a terminal (a pty from util-linux `script`):
 * "n" keeps the mailbox, "y" deletes it.
 *
 * Does not cover: the lamp at delete (mailbox-delete-mwi.test.ts); the store's side in depth
 * (store-mailbox-admin.test.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../../src/store/sqlite.js';
import { cliStoreFixture } from '../helpers/cli-store.js';
import { CLI, ROOT, runCli as vmpilot } from '../helpers/cli-process.js';
import { DEFAULT_PIN_BACKOFF } from '../../src/store/pin-backoff.js';
import { newMessage } from '../helpers/store-fixture.js';

const fixture = cliStoreFixture('vmpilot-cli-edit-', ['{ number: "27000", pin: "4826", name: "Alice Example", email: alice@example.com }']);
const { config } = fixture;
let store: SqliteStore;
beforeAll(() => {
  store = fixture.store();
});

/**
 * `vmpilot ARGS` on a terminal: util-linux `script` gives it a pty (stdin and stderr are TTYs), `answer` is
 * typed into it. Returns everything the terminal showed.
 */
function inTerminal(answer: string, ...args: string[]): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, '--import', 'tsx', CLI, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  child.stdin.end(`${answer}\n`);
  return new Promise((res) => child.on('close', (code) => res({ code, output })));
}

describe('vmpilot mailbox delete', () => {
  it('without --yes and no terminal to ask, refuses (exit 1) and deletes nothing', async () => {
    await store.createMailbox({ number: '27100', name: 'Temp', pin: '4826' });
    const r = await vmpilot('mailbox', 'delete', '27100', '--config', config);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('vmpilot: not deleting mailbox 27100: no terminal to ask for confirmation (add --yes)\n');
    expect(await store.findMailbox('27100')).toBeDefined();
  });

  it('on a terminal, asks: "n" keeps the mailbox (exit 1), "y" deletes it', async () => {
    await store.createMailbox({ number: '27150', name: 'Asked', pin: '4826' });
    const no = await inTerminal('n', 'mailbox', 'delete', '27150', '--config', config);
    expect(no.output).toMatch(/delete mailbox 27150 \(Asked\) with its 0 message\(s\) and greetings, for good\? \[y\/N\]/);
    expect(no.output).toContain('vmpilot: mailbox 27150 not deleted');
    expect(no.code).toBe(1);
    expect(await store.findMailbox('27150')).toBeDefined();
    const yes = await inTerminal('y', 'mailbox', 'delete', '27150', '--config', config);
    expect(yes.output).toContain('mailbox 27150 deleted (0 message(s), 0 greeting(s))');
    expect(yes.code).toBe(0);
    expect(await store.findMailbox('27150')).toBeUndefined();
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

describe('vmpilot mailbox set', () => {
  it('changes every field an administrator sets, in one command, and says what changed', async () => {
    await store.createMailbox({ number: '27200', name: 'Carol', pin: '4826', aliases: ['27201', '27202'] });
    await store.updateMailbox('27200', { mustChangePin: false });
    const r = await vmpilot(
      'mailbox', 'set', '27200',
      '--name', 'Carol Jones', '--email', 'carol@example.com',
      '--aliases', '27201,27202,27203', '--add-alias', '+4687272000', '--remove-alias', '27202',
      '--attach-audio', 'on', '--max-messages', '50', '--max-minutes', '30', '--hidden', 'on',
      '--pin', '975310',
      '--config', config,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^mailbox 27200 changed: name: "Carol" → "Carol Jones", email: \(none\) → "carol@example.com", aliases: \["27201","27202"\] → \["\+4687272000","27201","27203"\], emailAttachAudio: false → true, hiddenFromDirectory: false → true, maxMessages: 0 → 50, maxMinutes: 0 → 30\nmailbox 27200: PIN set/);
    const m = (await store.findMailbox('27200'))!;
    expect(m).toMatchObject({
      name: 'Carol Jones',
      email: 'carol@example.com',
      aliases: ['+4687272000', '27201', '27203'],
      emailAttachAudio: true,
      hiddenFromDirectory: true,
      maxMessages: 50,
      maxMinutes: 30,
      mustChangePin: true,
    });
    const login = await store.checkPin({ number: '27200', pin: '975310', source: 't', policy: { ...DEFAULT_PIN_BACKOFF } });
    expect(login.verdict).toBe('ok');
  });

  it('--no-email and --number: the messages follow the mailbox to its new number', async () => {
    const msg = await store.deposit(newMessage(store.tmpDir, { mailbox: '27200' }));
    const r = await vmpilot('mailbox', 'set', '27200', '--no-email', '--attach-audio', 'off', '--number', '27250', '--config', config);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('mailbox 27200 is now 27250');
    expect(await store.findMailbox('27200')).toBeUndefined();
    const m = (await store.findMailbox('27250'))!;
    expect(m.email).toBeUndefined();
    expect(m.emailAttachAudio).toBe(false);
    const [moved] = await store.listMessages('27250');
    expect(moved!.id).toBe(msg.id);
    expect(existsSync(moved!.audioPath)).toBe(true);
    expect(existsSync(msg.audioPath)).toBe(false);
  });

  it('refuses bad values with the config schema\'s words, every one of them, and changes nothing', async () => {
    await store.createMailbox({ number: '27300', name: 'Dave', pin: '4826' });
    const r = await vmpilot(
      'mailbox', 'set', '27300',
      '--name', ' ', '--email', 'not-an-address', '--add-alias', 'x1', '--remove-alias', '27399', '--attach-audio', 'maybe',
      '--max-messages', '-3', '--max-minutes', 'ten', '--pin', '12', '--number', '43334',
      '--config', config,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([
      'vmpilot: mailbox 27300 not changed:',
      '  --name: must not be empty',
      '  --email: is not an email address',
      '  --attach-audio: "maybe" is not on or off',
      '  --max-messages: must be 0 (the site default) or more',
      '  --max-minutes: "ten" is not a whole number',
      '  --add-alias: "x1" is not a number (digits, * and #, optionally after +)',
      '  --remove-alias: 27399 is not an alias of mailbox 27300',
      '  --pin: "12" is not a PIN (4 to 16 digits)',
      '  --number: 43334 is the voicemail pilot number',
    ]);
    expect(await store.findMailbox('27300')).toMatchObject({ name: 'Dave', aliases: [], emailAttachAudio: false, maxMessages: 0 });
  });

  it('refuses a field the config file sets for the mailbox, naming the key to edit', async () => {
    const r = await vmpilot('mailbox', 'set', '27000', '--name', 'Alice Other', '--max-minutes', '9', '--config', config);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "vmpilot: mailbox 27000 not changed:\n  --name: mailbox 27000's name is set by the config file (mailboxes[0].name): change it there\n",
    );
    expect(await store.findMailbox('27000')).toMatchObject({ name: 'Alice Example', maxMinutes: 0 });
  });
});
