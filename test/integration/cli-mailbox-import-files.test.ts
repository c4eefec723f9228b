/*
 * What `vmpilot mailbox import FILE` refuses to read (src/admin/mailbox-import-command.ts), as an operator meets
 * it: a device (/dev/zero, which has no end), a FIFO (no writer: opening it would wait forever) and a regular
 * file over 16 MiB (sparse, so the test writes nothing) each exit 2 at once with one line naming the file and
 * the reason, and nothing is imported; a good small file is read as before.
 *
 * Does not cover: the CSV rules and large good files (cli-mailbox-import.test.ts); the API's limit
 * (http-mailbox-import.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAILBOX_CSV_MAX_BYTES } from '../../src/admin/mailbox-import.js';
import { cliStoreFixture } from '../helpers/cli-store.js';
import { runCli as vmpilot } from '../helpers/cli-process.js';

const fixture = cliStoreFixture('vmpilot-import-files-', ['{ number: "27000", pin: "4826", name: "Alice Example" }']);
const { dir, config } = fixture;

/** Runs the import and checks the refusal: exit 2, one line on stderr matching `reason`, nothing on stdout. */
async function expectRefused(file: string, reason: RegExp): Promise<void> {
  const run = await vmpilot('mailbox', 'import', file, '--config', config);
  expect(run.code).toBe(2);
  expect(run.stdout).toBe('');
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(reason);
  expect(lines[0]).toContain(file);
}

describe('vmpilot mailbox import FILE, FILE not a CSV file it may read', () => {
  it('/dev/zero: exit 2, not a regular file', async () => {
    await expectRefused('/dev/zero', /^vmpilot: \/dev\/zero is not a regular file/);
  }, 30_000);

  it('a FIFO nobody writes to: exit 2 at once, not a regular file', async () => {
    const fifo = join(dir, 'users.fifo');
    execFileSync('mkfifo', [fifo]);
    await expectRefused(fifo, /is not a regular file/);
  }, 30_000);

  it('a regular file over 16 MiB: exit 2, nothing imported', async () => {
    const big = join(dir, 'big.csv');
    writeFileSync(big, 'number,name,pin\n27190,Too Big,4826\n');
    truncateSync(big, MAILBOX_CSV_MAX_BYTES + 1);
    await expectRefused(big, /is larger than 16 MiB, the most an import reads/);
    expect(await fixture.store().findMailbox('27190')).toBeUndefined();
  }, 30_000);

  it('a good file is imported as before', async () => {
    const good = join(dir, 'good.csv');
    writeFileSync(good, 'number,name,pin\n27191,Just Right,482615\n');
    const run = await vmpilot('mailbox', 'import', good, '--config', config);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/imported .*good\.csv: created 1/);
    expect((await fixture.store().findMailbox('27191'))?.name).toBe('Just Right');
  }, 30_000);
});
