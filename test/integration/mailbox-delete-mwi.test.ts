/*
 * `vmpilot mailbox delete` while the server runs: the real `vmpilot serve` (its own process) and the real CLI
 * (another process) on one store, a raw UDP peer as the PBX's MWI target answering 200 to each NOTIFY.
 *
 * Covers: the start-up log line counting mailboxes only the store has (the one added with the CLI); a
 * mailbox added with the CLI gets a message (deposited by this test process, as a worker would);
 * the PBX sees its lamp lit; `mailbox delete --yes` removes the message's audio and the lamp goes off with
 * a final NOTIFY "Messages-Waiting: no" (0/0); the server then routes the number nowhere (404 to an INVITE).
 *
 * Does not cover: the store's deletion in detail (store-mailbox-admin.test.ts), confirmation rules
 * (cli-mailbox-edit.test.ts).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMessageSummary } from '../../src/mwi/message-summary.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { freeUdpPort, logLine, logRecords, runCli, serve, stopServing, type Serving } from '../helpers/cli-process.js';
import { invite, okFor, RawUdpPeer } from '../helpers/raw-peer.js';
import { newMessage } from '../helpers/store-fixture.js';
import { reserveRtpPorts, type RtpRange } from '../helpers/rtp-range.js';

let dir: string;
let storageDir: string;
let configFile: string;
let sipPort: number;
let pbx: RawUdpPeer;
let server: Serving | undefined;

const bodyOf = (text: string): string => text.slice(text.indexOf('\r\n\r\n') + 4);

let rtp: RtpRange | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vmpilot-delete-lamp-'));
  storageDir = join(dir, 'data');
  sipPort = await freeUdpPort();
  pbx = await RawUdpPeer.open('127.0.0.1');
  // The PBX answers every NOTIFY, so none is retransmitted.
  const answered = new Set<number>();
  const timer = setInterval(() => {
    pbx.received.forEach((r, i) => {
      if (answered.has(i) || !r.text.startsWith('NOTIFY ')) return;
      answered.add(i);
      void pbx.send(sipPort, okFor(r.text));
    });
  }, 10);
  timer.unref();
  rtp = await reserveRtpPorts(20);
  configFile = join(dir, 'vmpilot.yaml');
  writeFileSync(
    configFile,
    [
      `sip: { listen: ["udp:127.0.0.1:${sipPort}"] }`,
      `rtp: { address: 127.0.0.1, ports: "${rtp.ports}" }`,
      `storage: { dir: ${JSON.stringify(storageDir)} }`,
      'http: false', // not the embedded default 8080: tests run side by side
      'pbx:',
      `  - { name: raw, addresses: ["127.0.0.1"], mwi: { targets: ["sip:127.0.0.1:${pbx.port}"] } }`,
      'mwi: { resendOnStart: false }',
      '',
    ].join('\n'),
  );
  const added = await runCli('mailbox', 'add', '27005', '--pin', '7391', '--name', 'Leaving Soon', '--config', configFile);
  if (added.code !== 0) throw new Error(added.stderr);
  server = serve(configFile);
  await logLine(server, 'vmpilot listening');
}, 60_000);

afterAll(async () => {
  await stopServing(server);
  pbx?.close();
  await rtp?.release();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('vmpilot mailbox delete while the server runs', () => {
  it('the server said at start that the store has a mailbox the config file does not list (kept)', () => {
    const line = logRecords(server!).find((r) => r.msg.includes('not in the config file'));
    expect(line).toMatchObject({ level: 'info', count: 1, mailboxes: ['27005'] });
    expect(line!.msg).toBe('1 mailbox(es) in the store are not in the config file (kept: mailboxesFromConfig is seed)');
  });

  it('removes the audio and turns the lamp off with a final NOTIFY 0/0; the number is gone', async () => {
    const other = await openSqliteStore(storageDir);
    let audioPath: string;
    try {
      audioPath = (await other.deposit(newMessage(other.tmpDir, { mailbox: '27005' }))).audioPath;
    } finally {
      await other.close();
    }
    const lit = await pbx.waitFor((t) => t.startsWith('NOTIFY ') && /Messages-Waiting: yes/i.test(t), 10_000);
    expect(parseMessageSummary(bodyOf(lit.text))).toMatchObject({ waiting: true });
    const from = pbx.received.length;

    const r = await runCli('mailbox', 'delete', '27005', '--yes', '--config', configFile);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^mailbox 27005 deleted \(1 message\(s\), 0 greeting\(s\)\)/);
    expect(existsSync(audioPath)).toBe(false);

    const off = await pbx.waitFor((t) => t.startsWith('NOTIFY '), 10_000, from);
    expect(off.text).toMatch(/^To: <sip:27005@/im);
    expect(parseMessageSummary(bodyOf(off.text))).toMatchObject({ waiting: false });
    expect(bodyOf(off.text)).toMatch(/Voice-Message: 0\/0/);

    // The router follows the store: an INVITE to the deleted number is refused (404) once the change is seen.
    const caller = await RawUdpPeer.open('127.0.0.1');
    try {
      await new Promise((res) => setTimeout(res, 500));
      await caller.send(sipPort, invite({ port: caller.port, callId: 'gone-27005', service: '27005' }));
      const answer = await caller.waitFor((t) => t.startsWith('SIP/2.0 4') || t.startsWith('SIP/2.0 2'), 5000);
      expect(answer.text).toMatch(/^SIP\/2.0 404/);
    } finally {
      caller.close();
    }
  }, 60_000);
});
