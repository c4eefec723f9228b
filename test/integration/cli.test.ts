/*
 * The `vmpilot` command as operators and scripts run it: a real child process, real files, real sockets.
 *
 * Covers: `check` on a good config (exit 0, "config OK: …"), on a bad one (exit 2, one "path: message" line per
 * issue on stderr, nothing on stdout), on a file with ten mistakes that different stages find (all ten in one
 * run), on a missing file, on a key that does not match its certificate;
 * `serve` refusing a bad config with exit 2 before binding or logging anything; `serve` failing to bind a port
 * in use (exit 1, one line); `serve` running, logging JSON lines, and exiting 0 after SIGTERM; bad command
 * lines (unknown command, unknown option, missing --config) exiting 2.
 *
 * Does not cover: what the running server does with calls (sip-calls.test.ts and friends); every config rule
 * (test/unit/config.test.ts); the built dist/ bin (the same code, compiled by `npm run build`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tlsFixture } from '../helpers/tls-fixture.js';
import { reserveRtpPorts } from '../helpers/rtp-range.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'src/admin/cli.ts');
const dir = mkdtempSync(join(tmpdir(), 'vmpilot-cli-'));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(args: string[]): { child: ChildProcess; done: Promise<Run> } {
  // node --import tsx runs the TypeScript source directly (npx would add a second process and a second).
  // The repo root as working directory, where `--import tsx` resolves; every config here names its paths.
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((res) => child.on('close', (code, signal) => res({ code, signal, stdout, stderr })));
  return { child, done };
}

const vmpilot = (...args: string[]): Promise<Run> => start(args).done;

function configFile(name: string, yaml: string): string {
  const file = join(dir, name);
  writeFileSync(file, yaml);
  return file;
}

const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

/** A TCP port nobody listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as { port: number }).port;
  await new Promise((res) => server.close(res));
  return port;
}

describe('vmpilot check', () => {
  it('prints "config OK: <summary>" and exits 0 for a good config', async () => {
    const file = configFile('good.yaml', 'sip:\n  listen: ["udp:127.0.0.1:5070"]\nservices: { voicemail: ["43334"] }\n');
    const r = await vmpilot('check', '--config', file);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^config OK: sip udp:127\.0\.0\.1:5070; .*voicemail 43334/);
  });

  it('prints every issue as "path: message" on stderr and exits 2', async () => {
    const file = configFile(
      'bad.yaml',
      ['sip:', '  listen: ["udp:0.0.0.0:5060", "sctp:0.0.0.0:5060"]', 'rtp: { ports: "20001-29999" }', 'pbx:', '  - { name: a, addresses: ["10.0.0.1", "10.0.0.0/40"] }', 'colour: blue'].join('\n'),
    );
    const r = await vmpilot('check', '--config', file);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr).map((l) => l.slice(0, l.indexOf(':')))).toEqual(['sip.listen[1]', 'rtp.ports', 'pbx[0].addresses[1]', 'colour']);
    expect(lines(r.stderr)[0]).toBe('sip.listen[1]: unknown transport "sctp" (expected udp, tcp or tls) (line 2:32)');
  });

  it('prints every mistake of a file in one run, whatever stage finds it (YAML, schema, cross-field, menus, files)', async () => {
    const tls = tlsFixture();
    const file = configFile(
      'many.yaml',
      [
        'sip:',
        '  listen: ["udp:127.0.0.1:5070", "tls:127.0.0.1:5071"]',
        `  tls: { cert: ${tls.certFile}, key: ${join(tls.dir, 'ca.key')} }`,
        'rtp: { ports: "30000-20000" }',
        'log: { level: info }',
        'log: { level: debug }',
        'services: { voicemail: ["8000"], attendant: ["8001", "8002"], echo: [*43] }',
        'mailboxes:',
        '  - { number: "8000", pin: "4826", name: "Clash" }',
        'attendants:',
        '  - pilots: ["8001"]',
        '    languages: [en-US, xx-XX]',
        '    menus:',
        `      main: { greeting: [{ file: ${join(dir, 'no-such-greeting.wav')} }], default: hangup }`,
        '  - pilots: ["8002"]',
        '    interDigitMs: 5',
        '    menus:',
        '      main: { greeting: [goodbye], keys: { "1": { menu: nowhere } }, default: hangup }',
        'colour: blue',
      ].join('\n'),
    );
    const r = await vmpilot('check', '--config', file);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const found = lines(r.stderr);
    expect(found.map((l) => l.slice(0, l.indexOf(':')))).toEqual([
      'sip.tls.key', // what the TLS files hold
      'rtp.ports', // the schema
      'yaml', // a duplicate key
      'yaml', // an alias without anchor (*43 unquoted)
      'mailboxes[0].number', // one numbering plan (cross-field)
      'attendants[0].languages[1]', // a prompt folder
      'attendants[0].menus.main.greeting[0]', // a greeting file
      'attendants[1].interDigitMs', // the schema, in an attendant...
      'attendants[1].menus.main.keys.1', // ...whose menus are still checked
      'colour', // an unknown key
    ]);
    expect(found[2]).toMatch(/^yaml: Map keys must be unique \(line 6:1\)$/);
    expect(found[3]).toMatch(/^yaml: \*43 is a YAML alias with no anchor/);
    expect(found[4]).toMatch(/"8000" is already used by services\.voicemail\[0\]/);
    expect(found[8]).toMatch(/goes to menu "nowhere", which does not exist/);
  });

  it('names a config file that does not exist and exits 2', async () => {
    const r = await vmpilot('check', '--config', join(dir, 'nope.yaml'));
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`config: cannot read ${join(dir, 'nope.yaml')}: no such file`);
  });

  it('rejects a TLS key that does not belong to the certificate', async () => {
    const tls = tlsFixture();
    const file = configFile('tls.yaml', `sip:\n  listen: ["tls:127.0.0.1:5071"]\n  tls: { cert: ${tls.certFile}, key: ${join(tls.dir, 'ca.key')} }\n`);
    const r = await vmpilot('check', '--config', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^sip\.tls\.key: .* is not the private key of the certificate/);
  });
});

describe('vmpilot serve', () => {
  it('refuses a bad config with exit 2 before binding its ports or logging', async () => {
    // Hold the port the config asks for: had serve tried to bind before validating, it would fail with
    // "in use" (exit 1) instead of reporting the config issue.
    const held = createServer();
    await new Promise<void>((res) => held.listen(0, '127.0.0.1', res));
    const port = (held.address() as { port: number }).port;
    try {
      const file = configFile('serve-bad.yaml', `sip:\n  listen: ["tcp:127.0.0.1:${port}"]\nrtp: { ports: "30000-20000" }\n`);
      const r = await vmpilot('serve', '--config', file);
      expect(r.code).toBe(2);
      expect(lines(r.stderr)).toEqual(['rtp.ports: the first port (30000) must be below the last (20000) (line 3:8)']);
      expect(r.stdout).toBe('');
    } finally {
      held.close();
    }
  });

  it('exits 2 when the config file is missing', async () => {
    const r = await vmpilot('serve', '--config', join(dir, 'missing.yaml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^config: cannot read .*missing\.yaml: no such file/);
  });

  it('exits 1 with one line on stderr when its SIP port is in use', async () => {
    const held = createSocket('udp4');
    await new Promise<void>((res) => held.bind(0, '127.0.0.1', res));
    const port = held.address().port;
    const rtp = await reserveRtpPorts(100);
    try {
      const file = configFile('serve-busy.yaml', `sip:\n  listen: ["udp:127.0.0.1:${port}"]\nrtp: { address: 127.0.0.1, ports: "${rtp.ports}" }\nstorage: { dir: ${dir} }\n`);
      const r = await vmpilot('serve', '--config', file);
      expect(r.code).toBe(1);
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toMatch(/^vmpilot: cannot start: .*(in use|EADDRINUSE)/);
    } finally {
      held.close();
      await rtp.release();
    }
  });

  it('runs, logs JSON lines with service "vmpilot", and exits 0 after SIGTERM', async () => {
    const port = await freePort();
    const rtp = await reserveRtpPorts(100);
    const file = configFile(
      'serve-ok.yaml',
      `sip:\n  listen: ["tcp:127.0.0.1:${port}"]\nrtp: { address: 127.0.0.1, ports: "${rtp.ports}" }\nstorage: { dir: ${dir} }\nshutdown: { drainSeconds: 2 }\nhttp: false\n`,
    );
    const { child, done } = start(['serve', '--config', file]);
    // Serving means the SIP port accepts connections.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const up = await new Promise<boolean>((res) => {
        const s = connect(port, '127.0.0.1', () => (s.destroy(), res(true)));
        s.on('error', () => res(false));
      });
      if (up) break;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`serve did not come up: ${(await done).stderr}`);
      await new Promise((res) => setTimeout(res, 100));
    }
    child.kill('SIGTERM');
    const r = await done;
    await rtp.release();
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const logs = lines(r.stdout).map((l) => JSON.parse(l) as { service?: string; level?: string });
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.every((l) => l.service === 'vmpilot' && typeof l.level === 'string')).toBe(true);
  });

  it('a SIGTERM while it is still starting drains once started and exits 0 (systemd stopping a starting unit)', async () => {
    const port = await freePort();
    const rtp = await reserveRtpPorts(100);
    const file = configFile(
      'serve-early-term.yaml',
      `sip:\n  listen: ["tcp:127.0.0.1:${port}"]\nrtp: { address: 127.0.0.1, ports: "${rtp.ports}" }\nstorage: { dir: ${join(dir, 'early')} }\nshutdown: { drainSeconds: 2 }\nhttp: false\n`,
    );
    const { child, done } = start(['serve', '--config', file]);
    // "vmpilot starting" is logged before the store is opened and the SIP port bound: the signal lands mid-start.
    await new Promise<void>((res) => {
      child.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('vmpilot starting')) res();
      });
    });
    child.kill('SIGTERM');
    const r = await done;
    await rtp.release();
    expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    expect(r.stdout).toContain('shutting down once started');
    expect(r.stdout).toContain('shutting down: draining calls');
  });
});

describe('bad command lines', () => {
  it.each([
    ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['an unknown option', ['serve', '--colour'], /unknown option '--colour'/],
    ['check without --config', ['check'], /required option '-c, --config <file>'/],
    ['no command at all', [], /Usage: vmpilot/],
  ])('exits 2 on %s', async (_what, args, message) => {
    const r = await vmpilot(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('prints the version from package.json and exits 0', async () => {
    const r = await vmpilot('--version');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
