/**
 * New-message email behind the front door (issue 10: the email queue in the store): `vmpilot serve` with one
 * local worker (real CLI, real processes, one store). The worker takes the deposit and only queues the mail; the
 * front door, which maintains the store, sends it to the SMTP sink (test/helpers/smtp-sink.ts).
 *
 * Covers: a deposit on the worker → exactly one mail, from the front door's sender.
 * Does not cover: restarts (email-restart.test.ts), claims between hosts (store-mail-queue.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSipp } from '../helpers/sipp.js';
import { startCluster, workerPort, type Cluster } from '../helpers/cluster.js';
import { readMime, startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { waitFor } from '../helpers/test-server.js';

let cluster: Cluster;
let sink: SmtpSink;

beforeAll(async () => {
  sink = await startSmtpSink();
  cluster = await startCluster({
    workers: 1,
    extraYaml: [
      'services: { voicemail: ["8000"], attendant: ["8001"] }',
      'mailboxes:',
      '  - { number: "27000", pin: "7391", name: "Alice Example", email: alice@example.com }',
      `smtp: { host: 127.0.0.1, port: ${sink.port}, from: vmpilot@example.com }`,
    ].join('\n'),
  });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
  await sink?.close();
});

describe('email behind the front door', () => {
  it('a message left on a worker is mailed once, by the front door', async () => {
    const caller = await runSipp({
      scenario: 'uac-vm-deposit.xml',
      transport: 'udp',
      port: workerPort(cluster, 0),
      service: '8000',
      timeoutS: 30,
      extra: ['-key', 'vm_from', '"Bob Smith" <sip:27001@127.0.0.1>', '-key', 'vm_header', 'Diversion: <sip:27000@127.0.0.1>;reason=no-answer;counter=1'],
    });
    if (caller.code !== 0) throw new Error(`the deposit call failed (exit ${caller.code}):\n${caller.stdout.slice(-2000)}`);
    await waitFor(() => sink.mails.length === 1, 'the new-message mail', 15_000);
    expect(readMime(sink.mails[0]!.raw).headers.get('subject')).toBe('New voicemail from Bob Smith (27001)');
    const mailed = cluster.records().filter((r) => r.msg === 'notification mailed');
    expect(mailed).toHaveLength(1);
    expect(mailed[0]!.worker, 'sent by the front door, not the worker').toBeUndefined();
    // Off the queue: the sender's next polls (every second) send nothing more.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(sink.mails).toHaveLength(1);
  }, 60_000);
});
