/**
 * The new-message email survives a restart (issue 10: the queue is in the store, src/notify/email.ts): a real
 * server, a SIPp deposit, the SMTP sink (test/helpers/smtp-sink.ts) on a fixed loopback port.
 *
 * Covers: SMTP down at the deposit (the send fails and the mail is put back), the server stopped, SMTP up, the
 * server started again on the same storage: the mail arrives, exactly once; nothing is sent while the server is
 * down. Does not cover: the queue's claims between processes (test/unit/store-mail-queue.test.ts, on SQLite and
 * PostgreSQL), retries against a live server (test/unit/email-notifier.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { freeTcpPort } from '../helpers/cli-process.js';
import { runSipp } from '../helpers/sipp.js';
import { readMime, startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { waitFor } from '../helpers/test-server.js';
import { reserveRtpPorts, type RtpRange } from '../helpers/rtp-range.js';

const BOB = '"Bob Smith" <sip:27001@127.0.0.1>';
const DIVERSION = 'Diversion: "Alice Example" <sip:27000@127.0.0.1;user=phone>;reason=no-answer;counter=1';

let dir: string;
let smtpPort: number;
let server: RunningServer | undefined;
let sink: SmtpSink | undefined;
let rtp: RtpRange | undefined;
const { logger, logs } = capturedLogger();

function config(): ReturnType<typeof parseConfig> {
  const yaml = [
    'sip:',
    '  listen: ["udp:127.0.0.1:0"]',
    `rtp: { address: 127.0.0.1, ports: "${rtp!.ports}" }`,
    `storage: { dir: ${JSON.stringify(dir)} }`,
    'http: false',
    'services: { voicemail: ["8000"], attendant: ["8001"] }',
    'mailboxes:',
    '  - { number: "27000", pin: "7391", name: "Alice Example", email: alice@example.com }',
    'voicemail: { reviewMenu: false, timeZone: UTC }',
    // Quick retries, so the test need not wait the default 30 s.
    `smtp: { host: 127.0.0.1, port: ${smtpPort}, from: vmpilot@example.com, retryBaseMs: 200, maxRetryDelayMs: 400 }`,
  ].join('\n');
  return parseConfig(yaml, dir);
}

const udpPort = (s: RunningServer): number => s.addresses().find((a) => a.transport === 'udp')!.port;
const logged = (msg: string): number => logs.filter((l) => l.msg === msg).length;

describe('a new-message email queued while SMTP is down', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vmpilot-email-restart-'));
    smtpPort = await freeTcpPort();
    rtp = await reserveRtpPorts(10);
  });

  afterAll(async () => {
    await server?.close();
    await sink?.close();
    await rtp?.release();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is sent after the server restarts, exactly once', async () => {
    server = await startServer(config(), logger);
    const result = await runSipp({
      scenario: 'uac-vm-deposit.xml',
      transport: 'udp',
      port: udpPort(server),
      service: '8000',
      timeoutS: 30,
      extra: ['-key', 'vm_from', BOB, '-key', 'vm_header', DIVERSION],
    });
    if (result.code !== 0) throw new Error(`SIPp failed (exit ${result.code}):\n${result.stderr}\n${result.stdout.slice(-3000)}`);
    // The SMTP server is down: the first attempt fails and the mail is put back for a retry.
    await waitFor(() => logged('notification mail failed; will retry') >= 1, 'a failed attempt', 10_000);
    await server.close();
    server = undefined;

    sink = await startSmtpSink({ port: smtpPort });
    // Nobody sends while the server is down (the mail is in the store, not in a process still running).
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(sink.mails).toHaveLength(0);

    server = await startServer(config(), logger);
    await waitFor(() => sink!.mails.length === 1, 'the mail after the restart', 10_000);
    expect(sink.mails[0]!.to).toEqual(['alice@example.com']);
    expect(readMime(sink.mails[0]!.raw).headers.get('subject')).toBe('New voicemail from Bob Smith (27001)');
    // Sent and off the queue: more polls (every second) send nothing more.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(sink.mails).toHaveLength(1);
    expect(sink.attempts).toHaveLength(1);
  }, 60_000);
});
