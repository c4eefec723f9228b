/**
 * POST /api/config/check (src/http/routes/config-check.ts): the errors `vmpilot check` prints for the same
 * file, line for line; warnings, including where the posted mailboxes differ from the running server's store;
 * a YAML syntax error; flow collections nested too deep (an error at once, not a crash); an alias bomb (an error,
 * not a 500); a body that is not text (415). Nothing posted changes the running server.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli-process.js';
import { startApiServer, type ApiServer } from '../helpers/http-api.js';

let api: ApiServer;

beforeAll(async () => {
  api = await startApiServer('mailboxes:\n  - { number: "27000", pin: "7391", name: "Alice Example" }');
});
afterAll(async () => {
  await api?.stop();
});

interface Checked {
  ok: boolean;
  errors: { path: string; message: string; line?: number; text: string }[];
  warnings: { path: string; text: string }[];
}

const check = async (yaml: string, type = 'application/yaml'): Promise<{ status: number; body: Checked }> => {
  const res = await api.call('/api/config/check', { method: 'POST', body: yaml, headers: { 'content-type': type } });
  return { status: res.status, body: (await res.json()) as Checked };
};

describe('POST /api/config/check', () => {
  it('gives the errors vmpilot check prints, with paths and lines', async () => {
    const yaml = 'sip:\n  listen: ["udp:0.0.0.0:99999"]\nrtp: { ports: "30000-20000" }\nmailboxes:\n  - { number: "27000", pin: "12", name: "A" }\n';
    const { status, body } = await check(yaml);
    expect(status).toBe(200);
    expect(body.ok).toBe(false);
    expect(body.errors.map((e) => e.path)).toEqual(['sip.listen[0]', 'rtp.ports', 'mailboxes[0].pin']);
    expect(body.errors[1]).toMatchObject({ line: 3, message: 'the first port (30000) must be below the last (20000)' });
    const file = join(mkdtempSync(join(tmpdir(), 'vmpilot-api-check-')), 'vmpilot.yaml');
    writeFileSync(file, yaml);
    const cli = await runCli('check', '--config', file);
    expect(cli.code).toBe(2);
    expect(body.errors.map((e) => e.text)).toEqual(cli.stderr.trim().split('\n'));
  });

  it("says the config is OK, and warns where its mailboxes differ from this server's store", async () => {
    const { body } = await check('mailboxes:\n  - { number: "27000", pin: "7391", name: "Alice Renamed" }\n  - { number: "27001", pin: "7391", name: "Bob" }\n', 'text/plain');
    expect(body.ok).toBe(true);
    expect(body.errors).toEqual([]);
    expect(body.warnings.map((w) => w.text)).toEqual([
      expect.stringMatching(/^mailboxes\[0\]: mailbox 27000 differs in the store; the next start sets the config's values: .*Alice Renamed/),
      'mailboxes: not in the store yet, created at the next start: 27001',
    ]);
    // Nothing applied.
    expect(await (await api.call('/api/mailboxes/27000')).json()).toMatchObject({ name: 'Alice Example' });
  });

  it('reports a YAML syntax error at its line', async () => {
    const { body } = await check('sip:\n  listen: [udp:0.0.0.0:5060\n');
    expect(body.ok).toBe(false);
    expect(body.errors[0]).toMatchObject({ path: 'yaml', line: expect.any(Number) });
  });

  it('answers flow collections nested deeper than 64 levels as a YAML error at once, here and in vmpilot check', async () => {
    // Four megabytes of "[": the yaml parser recursing into them took the server's memory (a fatal error).
    const deep = `mailboxes: ${'['.repeat(2_000_000)}${']'.repeat(2_000_000)}\n`;
    const { status, body } = await check(deep);
    expect(status).toBe(200);
    expect(body.errors).toEqual([expect.objectContaining({ path: 'yaml', message: '[ ] and { } are nested deeper than 64 levels' })]);
    // 65 levels (200 KB of them once took 0.6 s and ended in "Maximum call stack size exceeded"), and brackets
    // that are text (quoted, plain, block scalars, comments) do not count.
    const justOver = await check(`mailboxes: ${'['.repeat(65)}${']'.repeat(65)}\n`);
    expect(justOver.body.errors).toEqual([expect.objectContaining({ message: '[ ] and { } are nested deeper than 64 levels' })]);
    const text = '[{'.repeat(40);
    const fine = await check(`# ${text}\nmailboxes:\n  - { number: "27001", pin: "482613", name: 'x${text}' }\n  - { number: "27002", pin: "482613", name: "y${text}" }\n  - number: "27003"\n    pin: "482613"\n    name: z${text}\n`);
    expect(fine.body.errors).toEqual([]);
    const file = join(mkdtempSync(join(tmpdir(), 'vmpilot-deep-')), 'deep.yaml');
    writeFileSync(file, deep);
    const cli = await runCli('check', '--config', file);
    expect(cli.code).toBe(2);
    expect(cli.stderr + cli.stdout).toMatch(/yaml: \[ \] and \{ \} are nested deeper than 64 levels/);
  }, 30_000);

  it('reports keys written twice in a mapping (block and flow), as the yaml library words it, and checks the rest', async () => {
    const yaml = 'sip: {}\nsip: {}\nmailboxes:\n  - { number: "27001", pin: "482613", name: A, name: B }\n  - { 1: a, "1": b, number: "27002", pin: "482613", name: C }\n';
    const { body } = await check(yaml);
    expect(body.errors.map((e) => e.text)).toEqual([
      'yaml: Map keys must be unique (line 2:1)',
      'yaml: Map keys must be unique (line 4:48)',
      // 1 and "1" are different keys (a number and a string), as for the yaml library.
      'mailboxes[1].1: unknown key (allowed here: number, pin, name, email, aliases, hideFromDirectory, attachAudio, maxMessages, maxMinutes, imap) (line 5:7)',
    ]);
  });

  it('a mapping of 40,000 keys (0.6 MB): every unknown key reported in file order, in a bounded time', async () => {
    // Each key was compared with every key before it (the yaml library's duplicate check) and each issue looked
    // its key up from the start of the mapping: 37 s on the server's loop. Now well under the 30 s limit.
    const keys = Array.from({ length: 40_000 }, (_, i) => `key${i}: value`);
    const { status, body } = await check(`${keys.join('\n')}\n`);
    expect(status).toBe(200);
    expect(body.errors).toHaveLength(40_000);
    expect(body.errors[39_999]).toMatchObject({ path: 'key39999', line: 40_000 });
  }, 30_000);

  it('answers an alias bomb ("billion laughs") as a YAML error, here and in vmpilot check (no 500, no stack trace)', async () => {
    // Ten levels of ten aliases each: 10^10 values if expanded.
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 9 }, (_, i) => `b${i + 1}: &b${i + 1} [${Array(10).fill(i === 0 ? '*a' : `*b${i}`).join(', ')}]`)].join('\n');
    const { status, body } = await check(bomb);
    expect(status).toBe(200);
    expect(body.ok).toBe(false);
    expect(body.errors).toEqual([expect.objectContaining({ path: 'yaml', message: expect.stringMatching(/aliases cannot be expanded/) })]);
    const file = join(mkdtempSync(join(tmpdir(), 'vmpilot-bomb-')), 'bomb.yaml');
    writeFileSync(file, bomb);
    const cli = await runCli('check', '--config', file);
    expect(cli.code).toBe(2);
    expect(cli.stderr + cli.stdout).toMatch(/yaml: its aliases cannot be expanded/);
    expect(cli.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('refuses a JSON body with 415', async () => {
    const res = await api.json('POST', '/api/config/check', { sip: {} });
    expect(res.status).toBe(415);
  });
});
