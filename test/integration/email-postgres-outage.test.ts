/**
 * The new-message email follows a deposit that PostgreSQL was down for (store/deposit-mail.ts): a real server
 * (in process) on a throwaway PostgreSQL (helpers/postgres.ts), SIPp as the PBX forwarding a caller, and the
 * SMTP sink (helpers/smtp-sink.ts).
 *
 * Covers: PostgreSQL stopped while the caller records; the deposit is kept on the server's disk, no mail can be
 * queued then; PostgreSQL started again: the kept deposit is committed and its mail, queued in that commit,
 * arrives exactly once (nothing more after several more polls). Before the fix the mail was queued after the
 * deposit resolved, failed against the stopped database, and was lost.
 * Does not cover: the store-level exactly-once on both engines (test/unit/store-deposit-mail.test.ts), SMTP
 * retries (email-restart.test.ts, email-notifier.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { postgresPerFile, type PostgresServer } from '../helpers/postgres.js';
import { runSipp } from '../helpers/sipp.js';
import { readMime, startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { waitFor } from '../helpers/test-server.js';
import { reserveRtpPorts } from '../helpers/rtp-range.js';

const BOB = '"Bob Smith" <sip:27001@127.0.0.1>';
const DIVERSION = 'Diversion: "Alice Example" <sip:27000@127.0.0.1;user=phone>;reason=no-answer;counter=1';

const pgServer = postgresPerFile();
let pg: PostgresServer;
let dir: string;
let server: RunningServer | undefined;
let sink: SmtpSink;
const { logger, logs } = capturedLogger();
const logged = (msg: string): boolean => logs.some((l) => l.msg?.startsWith(msg));

describe('a new-message email for a deposit made while PostgreSQL is down', () => {
  beforeAll(async () => {
    pg = await pgServer.server();
    const url = await pg.createDatabase();
    dir = mkdtempSync(join(tmpdir(), 'vmpilot-email-pg-'));
    sink = await startSmtpSink();
    const rtp = await reserveRtpPorts(10); // held until this file's process exits
    const yaml = [
      'sip:',
      '  listen: ["udp:127.0.0.1:0"]',
      `rtp: { address: 127.0.0.1, ports: "${rtp.ports}" }`,
      `storage: { dir: ${JSON.stringify(dir)}, url: ${JSON.stringify(url)} }`,
      'http: false',
      'services: { voicemail: ["8000"], attendant: ["8001"] }',
      'mailboxes:',
      '  - { number: "27000", pin: "7391", name: "Alice Example", email: alice@example.com }',
      'voicemail: { reviewMenu: false, timeZone: UTC }',
      `smtp: { host: 127.0.0.1, port: ${sink.port}, from: vmpilot@example.com, retryBaseMs: 200, maxRetryDelayMs: 400 }`,
    ].join('\n');
    server = await startServer(parseConfig(yaml, dir), logger);
  }, 40_000);

  afterAll(async () => {
    await server?.close();
    await sink?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('arrives once, after the database is back and the kept deposit is committed', async () => {
    const udp = server!.addresses().find((a) => a.transport === 'udp')!.port;
    const calling = runSipp({
      scenario: 'uac-vm-deposit.xml',
      transport: 'udp',
      port: udp,
      service: '8000',
      timeoutS: 40,
      extra: ['-key', 'vm_from', BOB, '-key', 'vm_header', DIVERSION],
    });
    // The greeting is playing: the mailbox was found and checked for room; the deposit comes after the beep.
    await waitFor(() => logs.some((l) => l.msg === 'greeting'), 'the greeting', 30_000);
    await pg.stop();
    const result = await calling;
    if (result.code !== 0) throw new Error(`SIPp failed (exit ${result.code}):\n${result.stderr}\n${result.stdout.slice(-3000)}`);
    await waitFor(() => logged('store unreachable; message kept'), 'the kept deposit', 20_000);
    // Several sender polls while the database is down: nothing can be sent (nothing is queued yet).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(sink.mails).toHaveLength(0);

    await pg.start();
    await waitFor(() => logged('kept message committed'), 'the kept message committed', 20_000);
    await waitFor(() => sink.mails.length >= 1, 'the mail after the database returned', 15_000);
    expect(sink.mails[0]!.to).toEqual(['alice@example.com']);
    expect(readMime(sink.mails[0]!.raw).headers.get('subject')).toBe('New voicemail from Bob Smith (27001)');
    // Exactly once: more polls (every second) and the kept-deposit timer send nothing more.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(sink.mails).toHaveLength(1);
  }, 90_000);
});
